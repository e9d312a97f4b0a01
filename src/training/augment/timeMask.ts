import { checkSequence, type SequenceDims, type Rng } from './types';

/** SpecAugment-style time masking: sets one random span of up to `maxRatio`·T steps to `fill`. */
export function timeMask(values: Float32Array, dims: SequenceDims, rng: Rng, maxRatio = 0.2, fill = 0): Float32Array {
  checkSequence(values, dims);
  if (!(maxRatio > 0 && maxRatio < 1)) throw new Error(`timeMask maxRatio must be in (0, 1); got ${maxRatio}.`);
  const { length: T, features: F } = dims;
  const out = values.slice();
  const width = 1 + rng.int(Math.max(1, Math.floor(T * maxRatio)));
  const start = rng.int(T - width + 1);
  out.fill(fill, start * F, (start + width) * F);
  return out;
}
