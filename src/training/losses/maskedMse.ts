import { tf } from '../engine/tf';

/**
 * Mean squared error over masked positions only (masked-patch / masked-frame reconstruction; He et al. 2022,
 * "Masked Autoencoders Are Scalable Vision Learners", loss on masked patches only).
 *
 *   L = Σ_{b,t} m_{b,t} · (1/D) Σ_d (p_{b,t,d} − x_{b,t,d})²  /  max(1, Σ_{b,t} m_{b,t})
 *
 * Shapes: predictions p [B, T, D], targets x [B, T, D], mask m [B, T] (1 = position counts, 0 = ignored) or
 * null for every position. Returns a scalar.
 */
export function maskedMse(predictions: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor | null): tf.Scalar {
  if (predictions.rank !== 3 || !sameShape(predictions.shape, targets.shape)) {
    throw new Error(`maskedMse expects predictions and targets of the same shape [B, T, D]; got [${predictions.shape}] and [${targets.shape}].`);
  }
  if (mask && (mask.rank !== 2 || mask.shape[0] !== predictions.shape[0] || mask.shape[1] !== predictions.shape[1])) {
    throw new Error(`maskedMse mask must be [B, T] = [${predictions.shape.slice(0, 2)}]; got [${mask.shape}].`);
  }
  return tf.tidy(() => {
    const perPosition = tf.mean(tf.squaredDifference(predictions, targets), -1); // [B, T]
    const w = mask ? mask.toFloat() : tf.onesLike(perPosition);
    return tf.div(tf.sum(tf.mul(perPosition, w)), tf.maximum(tf.sum(w), tf.scalar(1))) as tf.Scalar;
  });
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
