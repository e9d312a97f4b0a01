import type { Rng } from './types';

/** Drops each token with probability `p`, always keeping at least one (and every id in `keepIds`). */
export function deleteTokens(ids: Int32Array, rng: Rng, p = 0.1, keepIds: readonly number[] = []): Int32Array {
  if (!(p >= 0 && p < 1)) throw new Error(`deleteTokens probability must be in [0, 1); got ${p}.`);
  const keep = new Set(keepIds);
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) if (keep.has(ids[i]!) || rng.next() >= p) out.push(ids[i]!);
  if (out.length === 0 && ids.length > 0) out.push(ids[rng.int(ids.length)]!);
  return Int32Array.from(out);
}
