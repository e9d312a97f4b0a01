// Preprocessing shared by training and serving, so a row means the same thing on both sides: image bytes decoded
// to the declared H×W×C (the upload path in ingest, and serving's { image } inputs), and per-feature sequence
// standardization with the statistics fitted on the training rows (training, fine-tuning and serving).
import sharp from 'sharp';

/** Per-feature standardization of sequences, fitted on the training rows (std 1 for constant features). */
export interface SequenceNormalization {
  mean: number[];
  std: number[];
}

/** Feature `f` of a value standardized; a missing mean counts as 0 and a missing or zero std as 1. */
export function standardize(value: number, norm: SequenceNormalization, f: number): number {
  return (value - (norm.mean[f] ?? 0)) / (norm.std[f] || 1);
}

/** Time-major values [T·F] standardized in place. */
export function standardizeInPlace(values: Float32Array, norm: SequenceNormalization, features: number): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] = standardize(values[i]!, norm, i % features);
  return values;
}

export interface ImageSize {
  height: number;
  width: number;
  channels: number;
}

/** An image that is not a PNG/JPEG or that sharp cannot decode to the requested size. */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
}

export function imageKind(head: Uint8Array): 'png' | 'jpeg' | null {
  if (head.length >= 8 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  return null;
}

/** PNG/JPEG bytes → uint8 HWC pixels of exactly `size` (stretched to fit; greyscale for 1 channel, sRGB for 3). */
export async function decodeImage(bytes: Uint8Array, size: ImageSize, limits: { maxImagePixels: number }): Promise<Uint8Array> {
  const kind = imageKind(bytes);
  if (kind === null) throw new ImageDecodeError('not a PNG or JPEG image (bad signature)');
  try {
    let img = sharp(bytes, { limitInputPixels: limits.maxImagePixels, failOn: 'error' }).resize(size.width, size.height, {
      fit: 'fill',
    });
    img = size.channels === 1 ? img.toColourspace('b-w') : img.removeAlpha().toColourspace('srgb');
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== size.channels || data.length !== size.width * size.height * size.channels) {
      throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (e) {
    throw new ImageDecodeError(`${kind.toUpperCase()} cannot be decoded: ${(e as Error).message}`);
  }
}
