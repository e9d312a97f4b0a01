import type { Rng } from './types';

/** Keeps one contiguous span whose length is a random fraction in [minRatio, 1] of the input. */
export function spanCrop(ids: Int32Array, rng: Rng, minRatio = 0.5): Int32Array {
  if (!(minRatio > 0 && minRatio <= 1)) throw new Error(`spanCrop minRatio must be in (0, 1]; got ${minRatio}.`);
  if (ids.length <= 1) return ids.slice();
  const len = Math.max(1, Math.round(ids.length * rng.uniform(minRatio, 1)));
  const start = rng.int(ids.length - len + 1);
  return ids.slice(start, start + len);
}
