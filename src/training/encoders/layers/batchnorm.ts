/**
 * Batch normalization over the last (channel) axis.
 *   inference: y = (x - moving_mean) / sqrt(moving_variance + eps) · gamma + beta
 *   training:  batch moments over every axis but the last; running stats updated in place as
 *              moving = moving·momentum + batch·(1 - momentum)   (Keras convention, momentum ≈ 0.99)
 * Params: `<name>/gamma`, `<name>/beta` (trainable), `<name>/moving_mean`, `<name>/moving_variance` (state), all [C].
 */
import { tf } from '../../engine/tf';
import type { ParamStore } from '../params';

export function addBatchNorm(store: ParamStore, name: string, channels: number): void {
  store.add(`${name}/gamma`, [channels], { kind: 'ones' });
  store.add(`${name}/beta`, [channels], { kind: 'zeros' });
  store.add(`${name}/moving_mean`, [channels], { kind: 'zeros' }, { trainable: false });
  store.add(`${name}/moving_variance`, [channels], { kind: 'ones' }, { trainable: false });
}

export function batchNorm(
  store: ParamStore,
  name: string,
  x: tf.Tensor,
  opts: { training: boolean; epsilon: number; momentum: number },
): tf.Tensor {
  const gamma = store.get(`${name}/gamma`);
  const beta = store.get(`${name}/beta`);
  const movingMean = store.get(`${name}/moving_mean`);
  const movingVar = store.get(`${name}/moving_variance`);
  if (!opts.training) {
    return tf.add(tf.mul(tf.div(tf.sub(x, movingMean), tf.sqrt(tf.add(movingVar, opts.epsilon))), gamma), beta);
  }
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  // Running stats are state, not part of the loss: assign() records no gradient.
  tf.tidy(() => {
    const m = opts.momentum;
    movingMean.assign(tf.add(tf.mul(movingMean, m), tf.mul(mean, 1 - m)));
    movingVar.assign(tf.add(tf.mul(movingVar, m), tf.mul(variance, 1 - m)));
  });
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, opts.epsilon))), gamma), beta);
}
