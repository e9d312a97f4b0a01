/**
 * Pooling of a per-position output to one vector.
 *   x [B,T,D], mask [B,T] float (1 = real position) or null (every position real)
 *   mean: Σ_t x·m / max(Σ_t m, 1)      max: max_t (x + (1-m)·(-1e9))
 *   cls:  x[:, 0]                        last: x[:, T-1]
 * → [B,D]
 */
import { tf } from '../../engine/tf';
import type { PoolingKind } from '../../../models/spec';
import { MASK_NEGATIVE } from './attention';

export function pool(x: tf.Tensor3D, mask: tf.Tensor2D | null, kind: PoolingKind): tf.Tensor2D {
  const [b, t, d] = x.shape;
  switch (kind) {
    case 'mean': {
      if (!mask) return tf.mean(x, 1);
      const m = tf.expandDims(tf.cast(mask, 'float32'), -1);
      return tf.div(tf.sum(tf.mul(x, m), 1), tf.maximum(tf.sum(m, 1), 1)) as tf.Tensor2D;
    }
    case 'max': {
      if (!mask) return tf.max(x, 1);
      const m = tf.expandDims(tf.cast(mask, 'float32'), -1);
      return tf.max(tf.add(x, tf.mul(tf.sub(1, m), MASK_NEGATIVE)), 1) as tf.Tensor2D;
    }
    case 'cls':
      return tf.reshape(tf.slice(x, [0, 0, 0], [b, 1, d]), [b, d]);
    case 'last':
      return tf.reshape(tf.slice(x, [0, t - 1, 0], [b, 1, d]), [b, d]);
  }
}

/** Row-wise L2 normalization: x / max(‖x‖₂, 1e-12). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  const norm = tf.sqrt(tf.sum(tf.square(x), -1, true));
  return tf.div(x, tf.maximum(norm, 1e-12));
}
