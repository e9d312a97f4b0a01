import type { Rng } from './types';

/** Adds i.i.d. N(0, std²) noise to every value (images or sequences alike). */
export function gaussianNoise(values: Float32Array, rng: Rng, std = 0.05): Float32Array {
  if (!(std >= 0) || !Number.isFinite(std)) throw new Error(`gaussianNoise std must be a finite number ≥ 0; got ${std}.`);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! + std * rng.normal();
  return out;
}
