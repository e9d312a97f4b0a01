/** Elementwise activations by spec name. GELU is the exact erf form (ONNX exports it with Erf, so parity is exact). */
import { tf } from '../../engine/tf';
import type { Activation } from '../../../models/spec';

export function activate(x: tf.Tensor, kind: Activation): tf.Tensor {
  switch (kind) {
    case 'relu':
      return tf.relu(x);
    case 'gelu':
      // 0.5·x·(1 + erf(x/√2))
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'linear':
      return x;
  }
}

/** Inverted dropout; identity outside training. `rng` seeds each mask so a seeded run is reproducible. */
export function dropout(x: tf.Tensor, rate: number, training: boolean, rng?: () => number): tf.Tensor {
  if (!training || rate <= 0) return x;
  const seed = rng ? Math.floor(rng() * 2 ** 31) : undefined;
  return tf.dropout(x, rate, undefined, seed);
}
