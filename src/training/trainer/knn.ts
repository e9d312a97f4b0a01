/**
 * Online kNN accuracy (Wu et al. 2018; the usual SSL monitor): each query takes the majority label of its k most
 * cosine-similar bank embeddings (ties → the nearest neighbour's label among the tied).
 * bank [N, D] row-major, queries [M, D] row-major.
 */
export function knnAccuracy(
  bank: Float32Array, bankLabels: readonly string[],
  queries: Float32Array, queryLabels: readonly string[],
  dim: number, k = 5,
): number {
  const n = bankLabels.length;
  const m = queryLabels.length;
  if (n === 0 || m === 0) throw new Error('kNN accuracy needs labeled bank and query embeddings.');
  const norm = (x: Float32Array, rows: number) => {
    const out = new Float32Array(x.length);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += x[r * dim + d]! ** 2;
      const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
      for (let d = 0; d < dim; d++) out[r * dim + d] = x[r * dim + d]! * inv;
    }
    return out;
  };
  const b = norm(bank, n);
  const q = norm(queries, m);
  const kk = Math.min(k, n);
  let correct = 0;
  const sims = new Float32Array(n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += q[i * dim + d]! * b[j * dim + d]!;
      sims[j] = s;
    }
    const top = Array.from(sims.keys()).sort((a, c) => sims[c]! - sims[a]!).slice(0, kk);
    const votes = new Map<string, number>();
    for (const j of top) votes.set(bankLabels[j]!, (votes.get(bankLabels[j]!) ?? 0) + 1);
    const best = Math.max(...votes.values());
    const winner = top.map((j) => bankLabels[j]!).find((l) => votes.get(l) === best)!;
    if (winner === queryLabels[i]) correct++;
  }
  return correct / m;
}
