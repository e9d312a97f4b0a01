import { checkImage, type ImageDims, type Rng } from './types';

export interface ColorJitterOptions {
  /** Brightness factor drawn from [1 − b, 1 + b]. */
  brightness?: number;
  /** Contrast factor drawn from [1 − c, 1 + c], applied around the image mean. */
  contrast?: number;
  /** Clamp range of the result (pixels scaled to 0..1 by default). */
  range?: [number, number];
}

/** Random brightness then contrast change, clamped to `range`. */
export function colorJitter(pixels: Float32Array, dims: ImageDims, rng: Rng, options: ColorJitterOptions = {}): Float32Array {
  checkImage(pixels, dims);
  const b = options.brightness ?? 0.4;
  const c = options.contrast ?? 0.4;
  if (!(b >= 0 && b < 1) || !(c >= 0 && c < 1)) throw new Error(`colorJitter brightness and contrast must be in [0, 1); got ${b} and ${c}.`);
  const [lo, hi] = options.range ?? [0, 1];
  const bf = rng.uniform(1 - b, 1 + b);
  const cf = rng.uniform(1 - c, 1 + c);
  let mean = 0;
  for (let i = 0; i < pixels.length; i++) mean += pixels[i]! * bf;
  mean /= pixels.length;
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const v = (pixels[i]! * bf - mean) * cf + mean;
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}
