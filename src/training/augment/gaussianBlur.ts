import { checkImage, type ImageDims, type Rng } from './types';

export interface GaussianBlurOptions {
  /** σ drawn uniformly from this range, in pixels. */
  sigma?: [number, number];
  /** Probability of blurring at all. */
  p?: number;
}

/** Separable Gaussian blur with a random σ (kernel radius ⌈3σ⌉, edges clamped). */
export function gaussianBlur(pixels: Float32Array, dims: ImageDims, rng: Rng, options: GaussianBlurOptions = {}): Float32Array {
  checkImage(pixels, dims);
  const [smin, smax] = options.sigma ?? [0.1, 1.0];
  const p = options.p ?? 0.5;
  if (!(smin > 0 && smin <= smax)) throw new Error(`gaussianBlur sigma must satisfy 0 < min ≤ max; got [${smin}, ${smax}].`);
  if (rng.next() >= p) return pixels.slice();
  const sigma = rng.uniform(smin, smax);
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= s;
  const { height: H, width: W, channels: C } = dims;
  const tmp = new Float32Array(pixels.length);
  const out = new Float32Array(pixels.length);
  const clamp = (v: number, n: number) => (v < 0 ? 0 : v >= n ? n - 1 : v);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) {
    let acc = 0;
    for (let i = -r; i <= r; i++) acc += k[i + r]! * pixels[(y * W + clamp(x + i, W)) * C + c]!;
    tmp[(y * W + x) * C + c] = acc;
  }
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) {
    let acc = 0;
    for (let i = -r; i <= r; i++) acc += k[i + r]! * tmp[(clamp(y + i, H) * W + x) * C + c]!;
    out[(y * W + x) * C + c] = acc;
  }
  return out;
}
