/**
 * Layer normalization over the last axis: y = (x - mean) / sqrt(var + eps) · gamma + beta (biased variance,
 * as ONNX LayerNormalization). Params: `<name>/gamma`, `<name>/beta` [D].
 */
import { tf } from '../../engine/tf';
import type { ParamStore } from '../params';

export function addLayerNorm(store: ParamStore, name: string, dim: number): void {
  store.add(`${name}/gamma`, [dim], { kind: 'ones' });
  store.add(`${name}/beta`, [dim], { kind: 'zeros' });
}

export function layerNorm(store: ParamStore, name: string, x: tf.Tensor, epsilon: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  const normed = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon)));
  return tf.add(tf.mul(normed, store.get(`${name}/gamma`)), store.get(`${name}/beta`));
}
