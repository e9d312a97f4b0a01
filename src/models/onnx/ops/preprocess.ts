/** In-graph image scaling, as layers/preprocess.ts: raw pixels [B,H,W,C] 0..255 → (x/255 - mean) / std. */
import type { ImageInputSpec } from '../../spec';
import type { GraphBuilder } from '../graph';

export function scalePixelsOp(g: GraphBuilder, pixels: string, input: ImageInputSpec): string {
  const scaled = g.op('Div', [pixels, g.scalar(255)]);
  const mean = g.float('preprocess/mean', input.mean, [input.mean.length]);
  const std = g.float('preprocess/std', input.std, [input.std.length]);
  return g.op('Div', [g.op('Sub', [scaled, mean]), std]);
}
