/**
 * Unidirectional GRU, zero initial state, "reset after" form (ONNX GRU linear_before_reset=1, Keras reset_after):
 *   z = σ(x·Wz + bz + h·Rz + rbz)
 *   r = σ(x·Wr + br + h·Rr + rbr)
 *   ĥ = tanh(x·Wh + bh + r ⊙ (h·Rh + rbh))
 *   h' = (1 - z) ⊙ ĥ + z ⊙ h
 * x [B,T,F] → all states [B,T,U]. Params (gate order z, r, h along the last axis):
 *   `<name>/kernel` [F,3U], `<name>/recurrent_kernel` [U,3U], `<name>/bias` [3U], `<name>/recurrent_bias` [3U].
 */
import { tf } from '../../engine/tf';
import type { ParamStore } from '../params';

export function addGru(store: ParamStore, name: string, inDim: number, units: number): void {
  store.add(`${name}/kernel`, [inDim, 3 * units], { kind: 'glorotUniform', fanIn: inDim, fanOut: 3 * units });
  store.add(`${name}/recurrent_kernel`, [units, 3 * units], { kind: 'glorotUniform', fanIn: units, fanOut: 3 * units });
  store.add(`${name}/bias`, [3 * units], { kind: 'zeros' });
  store.add(`${name}/recurrent_bias`, [3 * units], { kind: 'zeros' });
}

export function gru(store: ParamStore, name: string, x: tf.Tensor3D): tf.Tensor3D {
  const kernel = store.get(`${name}/kernel`) as tf.Tensor2D;
  const recurrent = store.get(`${name}/recurrent_kernel`) as tf.Tensor2D;
  const units = recurrent.shape[0];
  const [b, t, f] = x.shape;
  // Input projections for every step at once: [B,T,3U].
  const xw = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [b * t, f]), kernel), store.get(`${name}/bias`)), [b, t, 3 * units]);
  const rb = store.get(`${name}/recurrent_bias`);
  let h: tf.Tensor2D = tf.zeros([b, units]);
  const states: tf.Tensor2D[] = [];
  for (let step = 0; step < t; step++) {
    const xs = tf.reshape(tf.slice(xw, [0, step, 0], [b, 1, 3 * units]), [b, 3 * units]);
    const hr = tf.add(tf.matMul(h, recurrent), rb);
    const [xz, xr, xh] = tf.split(xs, 3, 1);
    const [hz, hrr, hh] = tf.split(hr, 3, 1);
    const z = tf.sigmoid(tf.add(xz, hz));
    const r = tf.sigmoid(tf.add(xr, hrr));
    const candidate = tf.tanh(tf.add(xh, tf.mul(r, hh)));
    h = tf.add(tf.mul(tf.sub(1, z), candidate), tf.mul(z, h)) as tf.Tensor2D;
    states.push(h);
  }
  return tf.stack(states, 1) as tf.Tensor3D;
}
