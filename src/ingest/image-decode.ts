// Decodes PNG/JPEG bytes with sharp to the dataset's declared height × width × channels (uint8 HWC).
import sharp from 'sharp';
import { InputError } from './errors';
import type { IngestLimits } from './limits';
import type { RowShape } from './types';

export type ImageShape = Extract<RowShape, { modality: 'IMAGE' }>;

export function imageKind(head: Uint8Array): 'png' | 'jpeg' | null {
  if (head.length >= 8 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  return null;
}

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

export async function decodeImage(bytes: Uint8Array, shape: ImageShape, limits: IngestLimits): Promise<Uint8Array> {
  const kind = imageKind(bytes);
  if (kind === null) throw new InputError('CORRUPT_IMAGE', 'not a PNG or JPEG image (bad signature)');
  try {
    let img = sharp(bytes, { limitInputPixels: limits.maxImagePixels, failOn: 'error' }).resize(shape.width, shape.height, {
      fit: 'fill',
    });
    img = shape.channels === 1 ? img.toColourspace('b-w') : img.removeAlpha().toColourspace('srgb');
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== shape.channels || data.length !== shape.width * shape.height * shape.channels) {
      throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (e) {
    throw new InputError('CORRUPT_IMAGE', `${kind.toUpperCase()} cannot be decoded: ${(e as Error).message}`);
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
