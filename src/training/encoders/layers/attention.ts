/**
 * Multi-head self-attention with a key padding mask.
 *   x [B,T,D], mask [B,T] (1 = token, 0 = padding), H heads of width dh = D/H.
 *   q,k,v = x·Wq+bq, x·Wk+bk, x·Wv+bv → [B,H,T,dh]
 *   scores = q·kᵀ/√dh + (1 - mask)·(-1e9)  [B,H,T,T]  (padded keys get ~zero weight)
 *   out = softmax(scores)·v → [B,T,D] → ·Wo + bo
 * Params: `<name>/{query,key,value,output}/{kernel,bias}` ([D,D] and [D]).
 */
import { tf } from '../../engine/tf';
import type { ParamStore } from '../params';
import { addDense, dense } from './dense';
import { dropout } from './activations';
import { MASK_NEGATIVE } from '../../../models/spec';

export { MASK_NEGATIVE };

export function addSelfAttention(store: ParamStore, name: string, dim: number): void {
  for (const part of ['query', 'key', 'value', 'output']) addDense(store, `${name}/${part}`, dim, dim);
}

function splitHeads(x: tf.Tensor, heads: number): tf.Tensor4D {
  const [b, t, d] = x.shape;
  return tf.transpose(tf.reshape(x, [b, t, heads, d / heads]), [0, 2, 1, 3]);
}

export function selfAttention(
  store: ParamStore,
  name: string,
  x: tf.Tensor3D,
  mask: tf.Tensor2D,
  heads: number,
  opts: { training: boolean; dropout: number; rng?: () => number },
): tf.Tensor3D {
  const [b, t, d] = x.shape;
  const q = splitHeads(dense(store, `${name}/query`, x), heads);
  const k = splitHeads(dense(store, `${name}/key`, x), heads);
  const v = splitHeads(dense(store, `${name}/value`, x), heads);
  const scale = 1 / Math.sqrt(d / heads);
  const bias = tf.reshape(tf.mul(tf.sub(1, tf.cast(mask, 'float32')), MASK_NEGATIVE), [b, 1, 1, t]);
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), scale), bias);
  const weights = dropout(tf.softmax(scores, -1), opts.dropout, opts.training, opts.rng);
  const context = tf.reshape(tf.transpose(tf.matMul(weights as tf.Tensor4D, v), [0, 2, 1, 3]), [b, t, d]);
  return dense(store, `${name}/output`, context) as tf.Tensor3D;
}
