/**
 * Packed inputs: arrays sent as base64 bytes with their shape, so a request costs one native base64 decode instead
 * of an image decoder or a JSON number per value.
 *
 *   decodePackedPixels({ base64, shape: [H, W, C] }, spec)  → Uint8Array, HWC, exactly the model's H×W×C
 *   decodePackedFloat32({ base64, shape: [T, F] }, t, f)    → Float32Array, time-major, little-endian on the wire
 *
 * Both return `{ ok: false, message }` for anything unusable (shape, byte count, base64, NaN/±Infinity), checked
 * before any allocation the size of the payload: the expected byte count follows from the model, so the length of
 * the base64 string alone decides whether the input can be right.
 */
import { endianness } from 'node:os';

export interface PackedArray {
  /** The values' bytes, base64 (standard or URL-safe alphabet, padded or not). */
  base64: string;
  /** Dimensions, outermost first. */
  shape: readonly number[];
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; message: string };

const LITTLE_ENDIAN = endianness() === 'LE';

/** Lengths a base64 string of `bytes` bytes can have (padded and unpadded). */
function base64Lengths(bytes: number): [number, number] {
  return [4 * Math.ceil(bytes / 3), Math.ceil((bytes * 4) / 3)];
}

function shapeProblem(shape: unknown, expected: readonly number[], names: string): string | null {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) return `shape must be a list of non-negative integers ${names}`;
  if (shape.length !== expected.length || shape.some((d, i) => d !== expected[i])) {
    return `shape is [${shape.join(', ')}]; the model takes [${expected.join(', ')}] ${names}`;
  }
  return null;
}

/** Decodes exactly `bytes` bytes, or says why the string cannot hold them. */
function decodeBytes(base64: unknown, bytes: number, what: string): Decoded<Buffer> {
  if (typeof base64 !== 'string') return { ok: false, message: `${what}.base64 must be a base64 string` };
  const [padded, unpadded] = base64Lengths(bytes);
  if (base64.length !== padded && base64.length !== unpadded) {
    return { ok: false, message: `${what}.base64 has ${base64.length} characters; ${bytes} bytes take ${padded} (base64, padded)` };
  }
  const buf = Buffer.from(base64, 'base64');
  // Node skips characters outside the alphabet, so a string of the right length with any of them decodes short.
  if (buf.length !== bytes) return { ok: false, message: `${what}.base64 is not valid base64 (decodes to ${buf.length} bytes, expected ${bytes})` };
  return { ok: true, value: buf };
}

/** Raw uint8 HWC pixels of an image model's exact size. */
export function decodePackedPixels(p: PackedArray | null | undefined, spec: { height: number; width: number; channels: number }): Decoded<Uint8Array> {
  if (!p || typeof p !== 'object') return { ok: false, message: 'pixels must be { base64, shape }' };
  const expected = [spec.height, spec.width, spec.channels];
  const bad = shapeProblem(p.shape, expected, '(height, width, channels; uint8)');
  if (bad) return { ok: false, message: `pixels ${bad}` };
  const bytes = decodeBytes(p.base64, spec.height * spec.width * spec.channels, 'pixels');
  if (!bytes.ok) return bytes;
  // Buffer.from may return a slice of Node's shared pool: copy so the row owns its bytes.
  return { ok: true, value: new Uint8Array(bytes.value) };
}

/** A float32 little-endian [T, F] tensor with T = length and F = features; NaN and ±Infinity are refused. */
export function decodePackedFloat32(p: PackedArray | null | undefined, length: number, features: number): Decoded<Float32Array> {
  if (!p || typeof p !== 'object') return { ok: false, message: 'tensor must be { base64, shape }' };
  const bad = shapeProblem(p.shape, [length, features], '(time steps, features; float32 little-endian)');
  if (bad) return { ok: false, message: `tensor ${bad}` };
  const n = length * features;
  const bytes = decodeBytes(p.base64, n * 4, 'tensor');
  if (!bytes.ok) return bytes;
  const buf = bytes.value;
  const out = new Float32Array(n);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(buf);
  else for (let i = 0; i < n; i++) out[i] = buf.readFloatLE(i * 4);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[i]!)) {
      return { ok: false, message: `tensor value ${i} (step ${Math.floor(i / features)}, feature ${i % features}) is ${out[i]}; NaN and Infinity are not allowed` };
    }
  }
  return { ok: true, value: out };
}
