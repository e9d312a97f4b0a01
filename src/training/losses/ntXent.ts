import { tf } from '../engine/tf';

export interface NTXentOptions {
  /** Softmax temperature τ > 0 (SimCLR uses 0.1–0.5). */
  temperature?: number;
}

/**
 * NT-Xent, the normalized temperature-scaled cross-entropy of SimCLR (Chen et al. 2020, "A Simple Framework for
 * Contrastive Learning of Visual Representations", eq. 1). The two views of N examples form 2N embeddings
 * h = [z1; z2]; the positive of i is its other view i⁺ = (i + N) mod 2N; all other 2N − 2 embeddings are negatives.
 *
 *   sim(u, v) = uᵀv / (‖u‖‖v‖)
 *   L = (1/2N) Σ_i −log( exp(sim(h_i, h_i⁺)/τ) / Σ_{j≠i} exp(sim(h_i, h_j)/τ) )
 *
 * Shapes: z1 [N, D], z2 [N, D] (N ≥ 2 so that every anchor has a negative). Returns a scalar.
 */
export class NTXentLoss {
  readonly temperature: number;

  constructor(options: NTXentOptions = {}) {
    const temperature = options.temperature ?? 0.5;
    if (!(temperature > 0) || !Number.isFinite(temperature)) {
      throw new Error(`NT-Xent temperature must be a finite number > 0; got ${temperature}. Use a value such as 0.1–0.5.`);
    }
    this.temperature = temperature;
  }

  call(z1: tf.Tensor, z2: tf.Tensor): tf.Scalar {
    if (z1.rank !== 2 || z2.rank !== 2 || z1.shape[0] !== z2.shape[0] || z1.shape[1] !== z2.shape[1]) {
      throw new Error(`NT-Xent expects two views [N, D] of the same shape; got [${z1.shape}] and [${z2.shape}].`);
    }
    const n = z1.shape[0]!;
    if (n < 2) throw new Error(`NT-Xent needs at least 2 examples per batch (negatives come from the batch); got ${n}. Increase batchSize.`);
    return tf.tidy(() => {
      const h = l2Normalize(tf.concat([z1, z2], 0)); // [2N, D]
      const sim = tf.div(tf.matMul(h, h.transpose()), tf.scalar(this.temperature)); // [2N, 2N]
      // Self-similarity is excluded from the denominator by pushing it to −∞ (a large negative keeps grads finite).
      const logits = tf.sub(sim, tf.mul(tf.eye(2 * n), tf.scalar(1e9)));
      const positives = tf.concat([tf.range(n, 2 * n, 1, 'int32'), tf.range(0, n, 1, 'int32')]);
      const logp = tf.logSoftmax(logits, -1);
      const picked = tf.sum(tf.mul(logp, tf.oneHot(positives, 2 * n)), -1);
      return tf.neg(tf.mean(picked)) as tf.Scalar;
    });
  }
}

function l2Normalize(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), -1, true), tf.scalar(1e-12))));
}
