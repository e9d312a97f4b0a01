import { tf } from '../engine/tf';

import { IGNORE_INDEX } from '../labels';

export { IGNORE_INDEX };

/**
 * Softmax cross-entropy averaged over the positions that carry a label (masked language modelling,
 * next-token prediction; Devlin et al. 2019, "BERT", §3.1).
 *
 *   L = −(1/|M|) Σ_{(b,t)∈M} log softmax(z_{b,t})[y_{b,t}],   M = {(b,t) : y_{b,t} ≠ ignoreIndex}
 *
 * Shapes: logits z [B, T, V] float32; labels y [B, T] int32 (values in [0, V) or ignoreIndex).
 * Returns a scalar; 0 when no position carries a label (a batch with nothing masked must not produce NaN).
 */
export function maskedSoftmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, ignoreIndex = IGNORE_INDEX): tf.Scalar {
  if (logits.rank !== 3 || labels.rank !== 2) {
    throw new Error(`maskedSoftmaxCrossEntropy expects logits [B, T, V] and labels [B, T]; got [${logits.shape}] and [${labels.shape}].`);
  }
  if (logits.shape[0] !== labels.shape[0] || logits.shape[1] !== labels.shape[1]) {
    throw new Error(`Logits [${logits.shape}] and labels [${labels.shape}] disagree on [B, T].`);
  }
  return tf.tidy(() => {
    const vocab = logits.shape[2]!;
    const labelsI = labels.toInt();
    const valid = tf.notEqual(labelsI, tf.scalar(ignoreIndex, 'int32'));
    // Ignored positions point at class 0 so oneHot stays in range; their weight is zero anyway.
    const safe = tf.where(valid, labelsI, tf.zerosLike(labelsI));
    const logp = tf.logSoftmax(logits, -1);
    const picked = tf.sum(tf.mul(logp, tf.oneHot(safe, vocab)), -1); // [B, T]
    const w = valid.toFloat();
    const count = tf.maximum(tf.sum(w), tf.scalar(1));
    return tf.neg(tf.div(tf.sum(tf.mul(picked, w)), count)) as tf.Scalar;
  });
}
