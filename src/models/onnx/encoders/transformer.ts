/** Transformer encoder graph, as src/training/encoders/transformer.ts (inference: no dropout). */
import type { TransformerEncoderSpec } from '../../spec';
import type { ExportContext } from '../context';
import type { EncoderGraph } from './types';
import type { GraphInputs } from './inputs';
import { embeddingOp } from '../ops/embedding';
import { layerNormOp } from '../ops/norm';
import { attentionBiasOp, selfAttentionOp } from '../ops/attention';
import { denseOp } from '../ops/dense';
import { activationOp } from '../ops/activations';

export function transformerGraph(ctx: ExportContext, spec: TransformerEncoderSpec, inputs: GraphInputs): EncoderGraph {
  const { g, w } = ctx;
  const ids = inputs.inputIds as string;
  const mask = inputs.mask as string;
  // Positions 0..T-1: slice the table to the runtime length T = shape(input_ids)[1].
  const length = g.op('Shape', [ids], { start: { i: 1 }, end: { i: 2 } });
  const table = w.get('encoder/embed/positions');
  const positions = g.op('Slice', [g.float('encoder/embed/positions', table.data, table.shape), g.int64([0]), length, g.int64([0])]);
  let x = g.op('Add', [embeddingOp(ctx, 'encoder/embed/tokens', ids), positions]);
  const bias = attentionBiasOp(ctx, mask);
  const eps = spec.layerNormEpsilon;
  const attn = (p: string, y: string) => selfAttentionOp(ctx, `${p}/attn`, y, bias, spec.dModel, spec.numHeads);
  const ffn = (p: string, y: string) =>
    denseOp(ctx, `${p}/ffn/out`, activationOp(g, denseOp(ctx, `${p}/ffn/in`, y), spec.activation));
  for (let i = 0; i < spec.numLayers; i++) {
    const p = `encoder/layer${i}`;
    if (spec.norm === 'pre') {
      x = g.op('Add', [x, attn(p, layerNormOp(ctx, `${p}/attn_norm`, x, eps))]);
      x = g.op('Add', [x, ffn(p, layerNormOp(ctx, `${p}/ffn_norm`, x, eps))]);
    } else {
      x = layerNormOp(ctx, `${p}/attn_norm`, g.op('Add', [x, attn(p, x)]), eps);
      x = layerNormOp(ctx, `${p}/ffn_norm`, g.op('Add', [x, ffn(p, x)]), eps);
    }
  }
  if (spec.norm === 'pre') x = layerNormOp(ctx, 'encoder/final_norm', x, eps);
  return { sequence: x, mask };
}
