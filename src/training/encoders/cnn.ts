/**
 * Small CNN over images (NHWC). Pixels are scaled in-model, then blocks run in order:
 *   conv      `encoder/block{i}/conv` (+ `encoder/block{i}/bn` when batchNorm; the conv then has no bias) → activation
 *   pool      max/avg, 'valid', window `size`, stride `stride ?? size`
 *   residual  a = act(bn1(conv1(x, stride))); a = bn2(conv2(a)); s = x or bn(shortcut 1x1 conv(x, stride));
 *             out = act(a + s).  Params `encoder/block{i}/{conv1,bn1,conv2,bn2}` and
 *             `encoder/block{i}/shortcut/{conv,bn}` when stride ≠ 1 or channels change.
 * Output: `sequence` = final map [B,H',W',C] reshaped to [B,H'·W',C] (row-major positions); pooling reduces it.
 */
import { tf } from '../engine/tf';
import type { CnnEncoderSpec, ImageInputSpec } from '../../models/spec';
import type { ParamStore } from './params';
import type { ApplyContext, Encoder, EncoderResult, ModelInputs } from './types';
import { addConv2d, conv2d } from './layers/conv';
import { addBatchNorm, batchNorm } from './layers/batchnorm';
import { activate } from './layers/activations';
import { scalePixels } from './layers/preprocess';
import { requireInput } from './inputs';

export function residualNeedsShortcut(inChannels: number, filters: number, stride: number): boolean {
  return stride !== 1 || inChannels !== filters;
}

export class CnnEncoder implements Encoder {
  constructor(
    private readonly store: ParamStore,
    private readonly input: ImageInputSpec,
    private readonly spec: CnnEncoderSpec,
  ) {
    let c = input.channels;
    spec.blocks.forEach((block, i) => {
      const p = `encoder/block${i}`;
      switch (block.type) {
        case 'conv':
          addConv2d(store, `${p}/conv`, block.kernelSize, c, block.filters, !block.batchNorm);
          if (block.batchNorm) addBatchNorm(store, `${p}/bn`, block.filters);
          c = block.filters;
          break;
        case 'pool':
          break;
        case 'residual':
          addConv2d(store, `${p}/conv1`, block.kernelSize, c, block.filters, false);
          addBatchNorm(store, `${p}/bn1`, block.filters);
          addConv2d(store, `${p}/conv2`, block.kernelSize, block.filters, block.filters, false);
          addBatchNorm(store, `${p}/bn2`, block.filters);
          if (residualNeedsShortcut(c, block.filters, block.stride)) {
            addConv2d(store, `${p}/shortcut/conv`, 1, c, block.filters, false);
            addBatchNorm(store, `${p}/shortcut/bn`, block.filters);
          }
          c = block.filters;
          break;
      }
    });
  }

  apply(inputs: ModelInputs, ctx: ApplyContext): EncoderResult {
    const s = this.store;
    const bn = { training: ctx.training, epsilon: this.spec.batchNormEpsilon, momentum: this.spec.batchNormMomentum };
    let x = scalePixels(requireInput(inputs.pixels, 'pixels'), this.input);
    this.spec.blocks.forEach((block, i) => {
      const p = `encoder/block${i}`;
      switch (block.type) {
        case 'conv': {
          let y: tf.Tensor = conv2d(s, `${p}/conv`, x, block.stride, block.padding);
          if (block.batchNorm) y = batchNorm(s, `${p}/bn`, y, bn);
          x = activate(y, block.activation) as tf.Tensor4D;
          break;
        }
        case 'pool': {
          const stride = block.stride ?? block.size;
          x = block.mode === 'max' ? tf.maxPool(x, block.size, stride, 'valid') : tf.avgPool(x, block.size, stride, 'valid');
          break;
        }
        case 'residual': {
          let a: tf.Tensor = conv2d(s, `${p}/conv1`, x, block.stride, 'same');
          a = activate(batchNorm(s, `${p}/bn1`, a, bn), block.activation);
          a = batchNorm(s, `${p}/bn2`, conv2d(s, `${p}/conv2`, a as tf.Tensor4D, 1, 'same'), bn);
          const shortcut = s.has(`${p}/shortcut/conv/kernel`)
            ? batchNorm(s, `${p}/shortcut/bn`, conv2d(s, `${p}/shortcut/conv`, x, block.stride, 'same'), bn)
            : x;
          x = activate(tf.add(a, shortcut), block.activation) as tf.Tensor4D;
          break;
        }
      }
    });
    const [b, h, w, c] = x.shape;
    return { sequence: tf.reshape(x, [b, h * w, c]), mask: null };
  }
}
