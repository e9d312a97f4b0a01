/** Head graphs, as src/training/encoders/heads.ts: (dense + ReLU per hidden width) then `head/out`. */
import type { HeadSpec } from '../spec';
import type { ExportContext } from './context';
import { denseOp } from './ops/dense';

export function headGraph(ctx: ExportContext, head: HeadSpec, features: string): string {
  let x = features;
  const hidden = head.kind === 'projection' || head.kind === 'classifier' || head.kind === 'regressor' ? head.hidden : [];
  hidden.forEach((_, i) => {
    x = ctx.g.op('Relu', [denseOp(ctx, `head/hidden${i}`, x)]);
  });
  return denseOp(ctx, 'head/out', x);
}
