// Image decoding for ingest: the shared decoder (src/contracts/preprocess.ts) with ingest's typed problems, plus
// probing a local dataset's image size and converting IDX greyscale pixels.
import sharp from 'sharp';
import { decodeImage as decodeShared, ImageDecodeError, imageKind } from '../contracts/preprocess';
import { InputError } from './errors';
import type { IngestLimits } from './limits';
import type { RowShape } from './types';

export { imageKind };

export type ImageShape = Extract<RowShape, { modality: 'IMAGE' }>;

/** Reads width, height and channel count without decoding pixels (used to infer a local dataset's shape). */
export async function probeImage(bytes: Uint8Array): Promise<{ width: number; height: number; channels: 1 | 3 }> {
  try {
    const meta = await sharp(bytes).metadata();
    const grey = meta.channels === 1 || meta.channels === 2 || meta.space === 'b-w';
    return { width: meta.width ?? 0, height: meta.height ?? 0, channels: grey ? 1 : 3 };
  } catch (e) {
    throw new InputError('CORRUPT_IMAGE', `image cannot be read: ${(e as Error).message}`);
  }
}

/** The shared decoder (contracts/preprocess.ts), its failures as this ingest's CORRUPT_IMAGE problems. */
export async function decodeImage(bytes: Uint8Array, shape: ImageShape, limits: IngestLimits): Promise<Uint8Array> {
  try {
    return await decodeShared(bytes, shape, limits);
  } catch (e) {
    if (e instanceof ImageDecodeError) throw new InputError('CORRUPT_IMAGE', e.message);
    throw e;
  }
}

/** Resizes / re-channels raw greyscale pixels (IDX images whose size differs from the declared one). */
export async function convertGrey(pixels: Uint8Array, width: number, height: number, shape: ImageShape): Promise<Uint8Array> {
  if (width === shape.width && height === shape.height) {
    if (shape.channels === 1) return pixels;
    const out = new Uint8Array(pixels.length * 3);
    for (let i = 0; i < pixels.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = pixels[i]!;
    return out;
  }
  let img = sharp(pixels, { raw: { width, height, channels: 1 } }).resize(shape.width, shape.height, { fit: 'fill' });
  img = shape.channels === 1 ? img.toColourspace('b-w') : img.toColourspace('srgb');
  const { data } = await img.raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
