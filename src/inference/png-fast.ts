/**
 * A fast path for the PNGs serving sees most: small, 8-bit, non-interlaced greyscale or RGB images already at the
 * model's size (an RGB image for a 1-channel model only when every pixel is grey). For those, the set-up of a sharp pipeline costs far more than the decode itself (the first serving
 * profile: 17 % of the event loop for 28×28 PNGs, docs/serving.md); here it is one zlib inflate and an unfilter.
 *
 *   decodeExactPng(bytes, { height, width, channels }) → Uint8Array HWC, or null when the image is not such a PNG
 *
 * null means "use the general decoder" (sharp), never "invalid": any other colour type, bit depth, interlacing, a
 * palette, transparency or colour-management chunk (gAMA, iCCP, sRGB, cHRM, sBIT: a general decoder may transform
 * the pixels), a size other than the model's, or a structural problem (bad CRC, truncated data) falls back, so the
 * general decoder decides and words the error. For the images it accepts the result is exactly the stored samples,
 * which is what sharp returns for them.
 */
import zlib from 'node:zlib';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Ancillary chunks that do not change pixel values. */
const HARMLESS = new Set(['tEXt', 'zTXt', 'iTXt', 'tIME', 'pHYs', 'bKGD', 'hIST', 'sPLT', 'eXIf']);

function type(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

export function decodeExactPng(bytes: Uint8Array, shape: { height: number; width: number; channels: number }): Uint8Array | null {
  if (bytes.length < 8 + 25 || SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  if (shape.channels !== 1 && shape.channels !== 3) return null;
  let colour = -1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  let at = 8;
  let sawHeader = false;
  let sawEnd = false;
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const name = type(bytes, at + 4);
    const dataAt = at + 8;
    if (dataAt + length + 4 > bytes.length) return null;
    const crc = view.getUint32(dataAt + length);
    if (zlib.crc32(bytes.subarray(at + 4, dataAt + length)) !== crc) return null;
    if (!sawHeader) {
      if (name !== 'IHDR' || length !== 13) return null;
      const width = view.getUint32(dataAt);
      const height = view.getUint32(dataAt + 4);
      const [depth, ctype, compression, filter, interlace] = bytes.subarray(dataAt + 8, dataAt + 13);
      // Greyscale for a 1-channel model, RGB for either (an RGB image is greyscale only if every pixel is: below).
      const usable = ctype === 2 || (ctype === 0 && shape.channels === 1);
      if (width !== shape.width || height !== shape.height || depth !== 8 || !usable || compression !== 0 || filter !== 0 || interlace !== 0) return null;
      colour = ctype!;
      sawHeader = true;
    } else if (name === 'IDAT') {
      idat.push(bytes.subarray(dataAt, dataAt + length));
    } else if (name === 'IEND') {
      sawEnd = true;
      break;
    } else if (!HARMLESS.has(name)) {
      return null;
    }
    at = dataAt + length + 4;
  }
  if (!sawEnd || idat.length === 0) return null;
  const stored = colour === 2 ? 3 : 1;
  const stride = shape.width * stored;
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(idat.length === 1 ? idat[0]! : Buffer.concat(idat));
  } catch {
    return null;
  }
  if (raw.length !== shape.height * (stride + 1)) return null;
  const pixels = unfilter(raw, shape.height, stride, stored);
  if (!pixels || stored === shape.channels) return pixels;
  // RGB stored, one channel wanted: exact only when R = G = B everywhere (then sharp's b-w conversion is the
  // identity; checked for all 256 levels). Encoders, sharp included, often store greyscale images as RGB.
  const grey = new Uint8Array(shape.height * shape.width);
  for (let i = 0; i < grey.length; i++) {
    const v = pixels[3 * i]!;
    if (pixels[3 * i + 1] !== v || pixels[3 * i + 2] !== v) return null;
    grey[i] = v;
  }
  return grey;
}

/** PNG's five scanline filters undone in place order (bpp = channels for 8-bit samples). */
function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number): Uint8Array | null {
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[row + x - bpp]! : 0;
      const b = y > 0 ? out[prev + x]! : 0;
      const c = x >= bpp && y > 0 ? out[prev + x - bpp]! : 0;
      let pred: number;
      switch (f) {
        case 0:
          pred = 0;
          break;
        case 1:
          pred = a;
          break;
        case 2:
          pred = b;
          break;
        case 3:
          pred = (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          return null;
      }
      out[row + x] = (raw[src + x]! + pred) & 0xff;
    }
  }
  return out;
}
