import { checkSequence, type SequenceDims, type Rng } from './types';

/** Multiplies each feature by its own factor drawn from N(1, σ²) (time-series magnitude scaling). */
export function scaling(values: Float32Array, dims: SequenceDims, rng: Rng, sigma = 0.1): Float32Array {
  checkSequence(values, dims);
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new Error(`scaling sigma must be a finite number ≥ 0; got ${sigma}.`);
  const { length: T, features: F } = dims;
  const factor = new Float32Array(F);
  for (let j = 0; j < F; j++) factor[j] = 1 + sigma * rng.normal();
  const out = new Float32Array(values.length);
  for (let t = 0; t < T; t++) for (let j = 0; j < F; j++) out[t * F + j] = values[t * F + j]! * factor[j]!;
  return out;
}
