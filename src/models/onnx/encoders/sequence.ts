/**
 * Sequence encoder graph, as src/training/encoders/sequence.ts: values [B,T,F] → channels-first conv1d stack →
 * optional GRU (time-major) → [B,T',D]. Over tokens input (NEXT_STEP × TEXT) a Gather of `encoder/embed/tokens`
 * [V,F] turns input_ids into the values first, and the attention mask goes on to pooling; the convs are causal
 * (the spec insists), so any sequence length ≤ maxLength gives the real positions the same states.
 */
import type { SequenceEncoderSpec } from '../../spec';
import type { ExportContext } from '../context';
import type { EncoderGraph } from './types';
import type { GraphInputs } from './inputs';
import { conv1dOp } from '../ops/conv';
import { activationOp } from '../ops/activations';
import { embeddingOp } from '../ops/embedding';
import { gruOp } from '../ops/gru';

export function sequenceGraph(ctx: ExportContext, spec: SequenceEncoderSpec, inputs: GraphInputs): EncoderGraph {
  const { g } = ctx;
  const transpose = (x: string, perm: number[]) => g.op('Transpose', [x], { perm: { ints: perm } });
  const values = inputs.inputIds ? embeddingOp(ctx, 'encoder/embed/tokens', inputs.inputIds) : (inputs.values as string);
  const mask = inputs.inputIds ? inputs.mask : null;
  let x = transpose(values, [0, 2, 1]); // [B,F,T]
  spec.conv.forEach((layer, i) => {
    x = activationOp(g, conv1dOp(ctx, `encoder/conv${i}`, x, layer.dilation, layer.padding), layer.activation);
  });
  if (spec.gru) {
    const states = gruOp(ctx, 'encoder/gru', transpose(x, [2, 0, 1])); // [T,B,U]
    return { sequence: transpose(states, [1, 0, 2]), mask };
  }
  return { sequence: transpose(x, [0, 2, 1]), mask };
}
