/**
 * Fully connected layer: y = x·W + b over the last axis of x [..., in] → [..., out].
 * Params: `<name>/kernel` [in, out], `<name>/bias` [out].
 */
import { tf } from '../../engine/tf';
import type { ParamStore } from '../params';

export function addDense(
  store: ParamStore,
  name: string,
  inDim: number,
  outDim: number,
  opts: { bias?: boolean; he?: boolean } = {},
): void {
  store.add(`${name}/kernel`, [inDim, outDim], opts.he ? { kind: 'heNormal', fanIn: inDim } : { kind: 'glorotUniform', fanIn: inDim, fanOut: outDim });
  if (opts.bias ?? true) store.add(`${name}/bias`, [outDim], { kind: 'zeros' });
}

export function dense(store: ParamStore, name: string, x: tf.Tensor): tf.Tensor {
  const kernel = store.get(`${name}/kernel`);
  const [inDim, outDim] = kernel.shape;
  const lead = x.shape.slice(0, -1);
  let y: tf.Tensor = tf.matMul(x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, inDim]), kernel as tf.Tensor2D);
  if (store.has(`${name}/bias`)) y = tf.add(y, store.get(`${name}/bias`));
  return x.rank === 2 ? y : tf.reshape(y, [...lead, outDim]);
}
