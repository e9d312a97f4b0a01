/**
 * Convolutions.
 *   conv2d: x [B,H,W,Cin] NHWC, kernel `<name>/kernel` [kh,kw,Cin,Cout], optional `<name>/bias` [Cout];
 *           TF 'same' (ceil(n/s), extra pad at the end) or 'valid' padding.
 *   conv1d: x [B,T,Cin], kernel `<name>/kernel` [k,Cin,Cout], `<name>/bias` [Cout], dilation d; padding done
 *           explicitly on the time axis: causal = (k-1)·d on the left, same = TF split of (k-1)·d, valid = none.
 */
import { tf } from '../../engine/tf';
import type { ParamStore } from '../params';
import { conv1dPads } from '../../../models/spec';

export function addConv2d(store: ParamStore, name: string, k: number, cin: number, cout: number, bias: boolean): void {
  store.add(`${name}/kernel`, [k, k, cin, cout], { kind: 'heNormal', fanIn: k * k * cin });
  if (bias) store.add(`${name}/bias`, [cout], { kind: 'zeros' });
}

export function conv2d(store: ParamStore, name: string, x: tf.Tensor4D, stride: number, padding: 'same' | 'valid'): tf.Tensor4D {
  let y = tf.conv2d(x, store.get(`${name}/kernel`) as tf.Tensor4D, stride, padding);
  if (store.has(`${name}/bias`)) y = tf.add(y, store.get(`${name}/bias`));
  return y;
}

export function addConv1d(store: ParamStore, name: string, k: number, cin: number, cout: number): void {
  store.add(`${name}/kernel`, [k, cin, cout], { kind: 'heNormal', fanIn: k * cin });
  store.add(`${name}/bias`, [cout], { kind: 'zeros' });
}

export function conv1d(
  store: ParamStore,
  name: string,
  x: tf.Tensor3D,
  dilation: number,
  padding: 'same' | 'causal' | 'valid',
): tf.Tensor3D {
  const kernel = store.get(`${name}/kernel`) as tf.Tensor3D;
  const [k, cin, cout] = kernel.shape;
  const [left, right] = conv1dPads(k, dilation, padding);
  const padded = left || right ? tf.pad(x, [[0, 0], [left, right], [0, 0]]) : x;
  const [b, tp] = padded.shape;
  const tOut = tp - (k - 1) * dilation;
  // im2col: tap j reads positions t + j·d; one matmul over [B·T', k·Cin]. Built from slice/concat/matMul only, so
  // its gradient needs no dilated-conv kernel (tfjs has none) and nothing the wasm backend lacks.
  const taps = Array.from({ length: k }, (_, j) => tf.slice(padded, [0, j * dilation, 0], [b, tOut, cin]));
  const cols = k === 1 ? taps[0] : tf.concat(taps, 2);
  const y = tf.matMul(tf.reshape(cols, [b * tOut, k * cin]), tf.reshape(kernel, [k * cin, cout]));
  return tf.reshape(tf.add(y, store.get(`${name}/bias`)), [b, tOut, cout]);
}
