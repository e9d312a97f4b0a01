import { checkImage, type ImageDims, type Rng } from './types';

/** Mirrors the image left↔right with probability `p` (returns a copy either way, never the input). */
export function horizontalFlip(pixels: Float32Array, dims: ImageDims, rng: Rng, p = 0.5): Float32Array {
  checkImage(pixels, dims);
  if (!(p >= 0 && p <= 1)) throw new Error(`horizontalFlip probability must be in [0, 1]; got ${p}.`);
  if (rng.next() >= p) return pixels.slice();
  const { height: H, width: W, channels: C } = dims;
  const out = new Float32Array(pixels.length);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) out[(y * W + x) * C + c] = pixels[(y * W + (W - 1 - x)) * C + c]!;
    }
  }
  return out;
}
