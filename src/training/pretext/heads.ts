// Task heads live in their own ParamStore (names `task/...`), so the exported encoder never carries them.
import { tf } from '../engine/tf';
import { addDense, dense } from '../encoders/layers/dense';
import { ParamStore } from '../encoders/params';
import { makeRng } from '../encoders/init';

export function createHeadStore(seed: number | string): ParamStore {
  return new ParamStore(makeRng(`${seed}/heads`));
}

export function addLinear(store: ParamStore, name: string, inDim: number, outDim: number): void {
  addDense(store, name, inDim, outDim);
}

export function linear(store: ParamStore, name: string, x: tf.Tensor): tf.Tensor {
  return dense(store, name, x);
}

/** SimCLR projection g(h) = W2·ReLU(W1·h): the loss is taken on g(h), the encoder's h is what is kept. */
export function addProjection(store: ParamStore, inDim: number, outDim: number): void {
  addDense(store, 'task/proj/hidden', inDim, inDim, { he: true });
  addDense(store, 'task/proj/out', inDim, outDim);
}

export function project(store: ParamStore, h: tf.Tensor): tf.Tensor {
  return dense(store, 'task/proj/out', tf.relu(dense(store, 'task/proj/hidden', h)));
}

/**
 * Token embedding as a one-hot matmul instead of gather: same values, but its gradient is a plain matmul, which
 * every backend has (wasm lacks UnsortedSegmentSum, gather's gradient).
 */
export function embedTokens(store: ParamStore, name: string, ids: tf.Tensor2D): tf.Tensor3D {
  const table = store.get(name) as tf.Tensor2D;
  const [vocab, dim] = table.shape;
  const [b, t] = ids.shape;
  const oneHot = tf.oneHot(tf.reshape(tf.cast(ids, 'int32'), [-1]), vocab);
  return tf.reshape(tf.matMul(oneHot, table), [b, t, dim]);
}
