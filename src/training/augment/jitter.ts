import { checkSequence, type SequenceDims, type Rng } from './types';

/** Time-series jitter: additive N(0, σ²) noise scaled by each feature's standard deviation over time. */
export function jitter(values: Float32Array, dims: SequenceDims, rng: Rng, sigma = 0.05): Float32Array {
  checkSequence(values, dims);
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new Error(`jitter sigma must be a finite number ≥ 0; got ${sigma}.`);
  const { length: T, features: F } = dims;
  const scale = new Float32Array(F);
  for (let j = 0; j < F; j++) {
    let m = 0, v = 0;
    for (let t = 0; t < T; t++) m += values[t * F + j]!;
    m /= T;
    for (let t = 0; t < T; t++) v += (values[t * F + j]! - m) ** 2;
    // A constant feature still gets some noise, so the view differs.
    scale[j] = Math.sqrt(v / T) || 1;
  }
  const out = new Float32Array(values.length);
  for (let t = 0; t < T; t++) for (let j = 0; j < F; j++) out[t * F + j] = values[t * F + j]! + sigma * scale[j]! * rng.normal();
  return out;
}
