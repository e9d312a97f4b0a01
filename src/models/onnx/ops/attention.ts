/**
 * Multi-head self-attention, as layers/attention.ts: x [B,T,D], additive key mask bias [B,1,1,T].
 *   q → Reshape [B,T,H,dh] → Transpose [B,H,T,dh]; k → [B,H,dh,T]; v → [B,H,T,dh]
 *   softmax(q·k·(1/√dh) + bias)·v → Transpose [B,T,H,dh] → Reshape [B,T,D] → output dense.
 */
import type { ExportContext } from '../context';
import { MASK_NEGATIVE } from '../../spec';
import { denseOp } from './dense';

/** Float mask [B,T] → additive bias [B,1,1,T] (0 for tokens, -1e9 for padding), computed once per graph. */
export function attentionBiasOp({ g }: ExportContext, mask: string): string {
  const bias = g.op('Mul', [g.op('Sub', [g.scalar(1), mask]), g.scalar(MASK_NEGATIVE)]);
  return g.op('Unsqueeze', [bias, g.int64([1, 2])]);
}

export function selfAttentionOp(ctx: ExportContext, name: string, x: string, bias: string, dim: number, heads: number): string {
  const { g } = ctx;
  const dh = dim / heads;
  const headsShape = g.int64([0, 0, heads, dh]);
  const split = (part: string, perm: number[]) =>
    g.op('Transpose', [g.op('Reshape', [denseOp(ctx, `${name}/${part}`, x), headsShape])], { perm: { ints: perm } });
  const q = split('query', [0, 2, 1, 3]);
  const k = split('key', [0, 2, 3, 1]);
  const v = split('value', [0, 2, 1, 3]);
  const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, k]), g.scalar(1 / Math.sqrt(dh))]), bias]);
  const weights = g.op('Softmax', [scores], { axis: { i: -1 } });
  const context = g.op('Transpose', [g.op('MatMul', [weights, v])], { perm: { ints: [0, 2, 1, 3] } });
  return denseOp(ctx, `${name}/output`, g.op('Reshape', [context, g.int64([0, 0, dim])]));
}
