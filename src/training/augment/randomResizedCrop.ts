import { checkImage, type ImageDims, type Rng } from './types';

export interface RandomResizedCropOptions {
  /** Range of the crop's area as a fraction of the image (SimCLR: [0.08, 1]; small images do better near [0.3, 1]). */
  scale?: [number, number];
  /** Range of the crop's aspect ratio w/h, sampled log-uniformly. */
  ratio?: [number, number];
}

/**
 * Crops a random box (area and aspect ratio drawn from the given ranges) and resizes it back to the full image size
 * with bilinear interpolation, so every view has the model's input shape. Falls back to the whole image when
 * ten draws fail to fit.
 */
export function randomResizedCrop(pixels: Float32Array, dims: ImageDims, rng: Rng, options: RandomResizedCropOptions = {}): Float32Array {
  checkImage(pixels, dims);
  const [smin, smax] = options.scale ?? [0.3, 1];
  const [rmin, rmax] = options.ratio ?? [3 / 4, 4 / 3];
  if (!(smin > 0 && smin <= smax && smax <= 1)) throw new Error(`randomResizedCrop scale must satisfy 0 < min ≤ max ≤ 1; got [${smin}, ${smax}].`);
  if (!(rmin > 0 && rmin <= rmax)) throw new Error(`randomResizedCrop ratio must satisfy 0 < min ≤ max; got [${rmin}, ${rmax}].`);
  const { height: H, width: W } = dims;
  let box = { top: 0, left: 0, h: H, w: W };
  for (let attempt = 0; attempt < 10; attempt++) {
    const area = H * W * rng.uniform(smin, smax);
    const ratio = Math.exp(rng.uniform(Math.log(rmin), Math.log(rmax)));
    const w = Math.round(Math.sqrt(area * ratio));
    const h = Math.round(Math.sqrt(area / ratio));
    if (w >= 1 && h >= 1 && w <= W && h <= H) {
      box = { top: rng.int(H - h + 1), left: rng.int(W - w + 1), h, w };
      break;
    }
  }
  return resizeBox(pixels, dims, box);
}

function resizeBox(src: Float32Array, dims: ImageDims, box: { top: number; left: number; h: number; w: number }): Float32Array {
  const { height: H, width: W, channels: C } = dims;
  const out = new Float32Array(H * W * C);
  for (let y = 0; y < H; y++) {
    // Pixel-centre alignment, clamped inside the box.
    const sy = Math.min(Math.max(box.top + ((y + 0.5) * box.h) / H - 0.5, box.top), box.top + box.h - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, box.top + box.h - 1);
    const fy = sy - y0;
    for (let x = 0; x < W; x++) {
      const sx = Math.min(Math.max(box.left + ((x + 0.5) * box.w) / W - 0.5, box.left), box.left + box.w - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, box.left + box.w - 1);
      const fx = sx - x0;
      for (let c = 0; c < C; c++) {
        const a = src[(y0 * W + x0) * C + c]!;
        const b = src[(y0 * W + x1) * C + c]!;
        const d = src[(y1 * W + x0) * C + c]!;
        const e = src[(y1 * W + x1) * C + c]!;
        out[(y * W + x) * C + c] = (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * d + fx * e);
      }
    }
  }
  return out;
}
