/** Embedding lookup: Gather(table [V,D], ids int64 [B,T]) → [B,T,D]. */
import type { ExportContext } from '../context';

export function embeddingOp({ g, w }: ExportContext, name: string, ids: string): string {
  const table = w.get(name);
  return g.op('Gather', [g.float(name, table.data, table.shape), ids], { axis: { i: 0 } });
}
