// The small-PNG fast path: for every PNG it accepts, exactly what sharp (the upload decoder) returns; anything it
// does not handle falls back (null) instead of guessing.
import sharp from 'sharp';
import { decodeExactPng } from '../../src/inference/png-fast';
import { decodeImage } from '../../src/ingest/image-decode';
import { DEFAULT_LIMITS } from '../../src/ingest/limits';
import { rng } from './artifacts';

const shapeOf = (h: number, w: number, c: 1 | 3) => ({ height: h, width: w, channels: c });

test('greyscale and RGB PNGs at the model size decode exactly like sharp, whatever filters and compression the encoder chose', async () => {
  const r = rng(3);
  for (const [h, w, c] of [[28, 28, 1], [7, 5, 3], [1, 9, 1], [16, 16, 3]] as const) {
    // Smooth and noisy content, so the encoder's adaptive filtering picks different filters per row.
    const px = Uint8Array.from({ length: h * w * c }, (_, i) => (i % 3 === 0 ? Math.floor(r() * 256) : (i * 7) % 256));
    for (const opts of [{ compressionLevel: 9, adaptiveFiltering: true }, { compressionLevel: 1, adaptiveFiltering: false }, { compressionLevel: 6, adaptiveFiltering: true, palette: false }]) {
      const png = await sharp(Buffer.from(px), { raw: { width: w, height: h, channels: c } }).png(opts).toBuffer();
      const fast = decodeExactPng(png, shapeOf(h, w, c));
      expect(fast).not.toBeNull();
      const slow = await decodeImage(png, { modality: 'IMAGE', height: h, width: w, channels: c }, DEFAULT_LIMITS);
      expect(Array.from(fast!)).toEqual(Array.from(slow));
      expect(Array.from(fast!)).toEqual(Array.from(px));
    }
  }
});

test('every grey level stored as RGB decodes to itself for a 1-channel model, exactly like sharp', async () => {
  const px = Uint8Array.from({ length: 256 }, (_, i) => i);
  const png = await sharp(Buffer.from(px), { raw: { width: 16, height: 16, channels: 1 } }).png().toBuffer();
  const fast = decodeExactPng(png, shapeOf(16, 16, 1));
  const slow = await decodeImage(png, { modality: 'IMAGE', height: 16, width: 16, channels: 1 }, DEFAULT_LIMITS);
  expect(Array.from(fast!)).toEqual(Array.from(slow));
  expect(Array.from(fast!)).toEqual(Array.from(px));
});

test('anything else falls back to the general decoder: other sizes, alpha, palettes, 16-bit, interlaced, corrupt bytes, JPEG', async () => {
  const px = Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i * 13) % 256);
  const rgb = (o: Parameters<ReturnType<typeof sharp>['png']>[0] = {}) => sharp(Buffer.from(px), { raw: { width: 8, height: 8, channels: 3 } }).png(o).toBuffer();
  const ok = await rgb();
  expect(decodeExactPng(ok, shapeOf(8, 8, 3))).not.toBeNull();
  expect(decodeExactPng(ok, shapeOf(4, 4, 3))).toBeNull(); // needs a resize
  expect(decodeExactPng(ok, shapeOf(8, 8, 1))).toBeNull(); // needs a colour conversion (the pixels are not grey)
  expect(decodeExactPng(await sharp(Buffer.from(px), { raw: { width: 8, height: 16, channels: 1 } }).ensureAlpha().png().toBuffer(), shapeOf(16, 8, 1))).toBeNull();
  expect(decodeExactPng(await rgb({ palette: true }), shapeOf(8, 8, 3))).toBeNull();
  expect(decodeExactPng(await rgb({ progressive: true }), shapeOf(8, 8, 3))).toBeNull();
  expect(decodeExactPng(await sharp(Buffer.from(px), { raw: { width: 8, height: 8, channels: 3 } }).toColourspace('rgb16').png().toBuffer(), shapeOf(8, 8, 3))).toBeNull();
  const corrupt = Buffer.from(ok);
  corrupt[corrupt.length - 20] ^= 0xff;
  expect(decodeExactPng(corrupt, shapeOf(8, 8, 3))).toBeNull();
  expect(decodeExactPng(ok.subarray(0, ok.length - 12), shapeOf(8, 8, 3))).toBeNull();
  expect(decodeExactPng(await sharp(Buffer.from(px), { raw: { width: 8, height: 8, channels: 3 } }).jpeg().toBuffer(), shapeOf(8, 8, 3))).toBeNull();
});
