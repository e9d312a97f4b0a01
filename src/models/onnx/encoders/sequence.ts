/**
 * Sequence encoder graph, as src/training/encoders/sequence.ts: values [B,T,F] → channels-first conv1d stack →
 * optional GRU (time-major) → [B,T',D].
 */
import type { SequenceEncoderSpec } from '../../spec';
import type { ExportContext } from '../context';
import type { EncoderGraph } from './types';
import type { GraphInputs } from './inputs';
import { conv1dOp } from '../ops/conv';
import { activationOp } from '../ops/activations';
import { gruOp } from '../ops/gru';

export function sequenceGraph(ctx: ExportContext, spec: SequenceEncoderSpec, inputs: GraphInputs): EncoderGraph {
  const { g } = ctx;
  const transpose = (x: string, perm: number[]) => g.op('Transpose', [x], { perm: { ints: perm } });
  let x = transpose(inputs.values as string, [0, 2, 1]); // [B,F,T]
  spec.conv.forEach((layer, i) => {
    x = activationOp(g, conv1dOp(ctx, `encoder/conv${i}`, x, layer.dilation, layer.padding), layer.activation);
  });
  if (spec.gru) {
    const states = gruOp(ctx, 'encoder/gru', transpose(x, [2, 0, 1])); // [T,B,U]
    return { sequence: transpose(states, [1, 0, 2]), mask: null };
  }
  return { sequence: transpose(x, [0, 2, 1]), mask: null };
}
