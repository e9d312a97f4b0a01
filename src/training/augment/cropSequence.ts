import { checkSequence, type SequenceDims, type Rng } from './types';

/**
 * Takes a random window covering a fraction in [minRatio, 1] of the time steps and stretches it back to the full
 * length by linear interpolation, so the view keeps the model's input shape.
 */
export function cropSequence(values: Float32Array, dims: SequenceDims, rng: Rng, minRatio = 0.6): Float32Array {
  checkSequence(values, dims);
  if (!(minRatio > 0 && minRatio <= 1)) throw new Error(`cropSequence minRatio must be in (0, 1]; got ${minRatio}.`);
  const { length: T, features: F } = dims;
  const win = Math.max(2, Math.min(T, Math.round(T * rng.uniform(minRatio, 1))));
  if (T < 2) return values.slice();
  const start = rng.int(T - win + 1);
  const out = new Float32Array(values.length);
  for (let t = 0; t < T; t++) {
    const s = start + (T === 1 ? 0 : (t * (win - 1)) / (T - 1));
    const t0 = Math.floor(s);
    const t1 = Math.min(t0 + 1, start + win - 1);
    const f = s - t0;
    for (let j = 0; j < F; j++) out[t * F + j] = (1 - f) * values[t0 * F + j]! + f * values[t1 * F + j]!;
  }
  return out;
}
