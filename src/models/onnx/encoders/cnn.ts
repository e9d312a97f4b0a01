/**
 * CNN encoder graph, as src/training/encoders/cnn.ts. Pixels are scaled in NHWC, transposed once to NCHW for
 * ONNX Conv/BatchNormalization/pooling, and the final map goes back to NHWC → [B, H'·W', C] so positions are
 * ordered exactly as in tfjs.
 */
import { type CnnEncoderSpec, type ImageInputSpec, windowOutput } from '../../spec';
import type { ExportContext } from '../context';
import type { EncoderGraph } from './types';
import type { GraphInputs } from './inputs';
import { scalePixelsOp } from '../ops/preprocess';
import { conv2dOp } from '../ops/conv';
import { batchNormOp } from '../ops/norm';
import { activationOp } from '../ops/activations';
import { spatialPoolOp } from '../ops/pooling';

export function cnnGraph(ctx: ExportContext, input: ImageInputSpec, spec: CnnEncoderSpec, inputs: GraphInputs): EncoderGraph {
  const { g, w } = ctx;
  const eps = spec.batchNormEpsilon;
  let x = g.op('Transpose', [scalePixelsOp(g, inputs.pixels as string, input)], { perm: { ints: [0, 3, 1, 2] } });
  let size = { h: input.height, w: input.width };
  let c = input.channels;
  const shrink = (k: number, s: number, padding: 'same' | 'valid') => ({
    h: windowOutput(size.h, k, s, padding),
    w: windowOutput(size.w, k, s, padding),
  });
  spec.blocks.forEach((block, i) => {
    const p = `encoder/block${i}`;
    switch (block.type) {
      case 'conv': {
        let y = conv2dOp(ctx, `${p}/conv`, x, size, block.stride, block.padding);
        if (block.batchNorm) y = batchNormOp(ctx, `${p}/bn`, y, eps);
        x = activationOp(g, y, block.activation);
        size = shrink(block.kernelSize, block.stride, block.padding);
        c = block.filters;
        break;
      }
      case 'pool': {
        const stride = block.stride ?? block.size;
        x = spatialPoolOp(g, x, block.mode, block.size, stride);
        size = shrink(block.size, stride, 'valid');
        break;
      }
      case 'residual': {
        let a = conv2dOp(ctx, `${p}/conv1`, x, size, block.stride, 'same');
        a = activationOp(g, batchNormOp(ctx, `${p}/bn1`, a, eps), block.activation);
        const next = shrink(block.kernelSize, block.stride, 'same');
        a = batchNormOp(ctx, `${p}/bn2`, conv2dOp(ctx, `${p}/conv2`, a, next, 1, 'same'), eps);
        const shortcut = w.has(`${p}/shortcut/conv/kernel`)
          ? batchNormOp(ctx, `${p}/shortcut/bn`, conv2dOp(ctx, `${p}/shortcut/conv`, x, size, block.stride, 'same'), eps)
          : x;
        x = activationOp(g, g.op('Add', [a, shortcut]), block.activation);
        size = next;
        c = block.filters;
        break;
      }
    }
  });
  const nhwc = g.op('Transpose', [x], { perm: { ints: [0, 2, 3, 1] } });
  return { sequence: g.op('Reshape', [nhwc, g.int64([0, -1, c])]), mask: null };
}
