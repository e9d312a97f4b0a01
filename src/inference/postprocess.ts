/**
 * Turning raw model outputs into what clients receive. All functions take row-major `rows × width` Float32Arrays.
 *
 *   l2Normalize(data, width)                 in place; all-zero rows stay zero
 *   truncateDimensions(data, width, dims)    Matryoshka: keep the first `dims` values of each row (new array)
 *   encodeVectors(data, width, encoding)     FLOAT | BASE64 | INT8 | BINARY, one EncodedVector per row
 *   decodeBase64Vector / dequantizeInt8 / unpackBinary   the inverse operations, for clients and tests
 *   softmax(data, width), topK(probs, k)
 *
 * Matryoshka truncation keeps a prefix of the embedding; a normalized embedding is re-normalized after the cut,
 * since the prefix of a unit vector is shorter than 1 (the service cuts first, then normalizes).
 *
 * Encodings:
 *   FLOAT   values: number[] (float32 precision).
 *   BASE64  the row's float32 values, little-endian, 4 bytes each, base64 (standard alphabet, padded), encoded
 *           straight from the output buffer (no per-value work on a little-endian host).
 *   INT8    symmetric per-vector quantization: scale = max|v| / 127, q = round(v / scale) ∈ [-127, 127];
 *           v ≈ q × scale (error ≤ scale / 2 per value). -128 is never used, so negation is exact. An all-zero
 *           row has scale 0 and q all 0. base64: the q values as signed bytes (one per dimension).
 *   BINARY  one sign bit per dimension, 1 when v > 0, packed 8 per byte, most significant bit first (numpy
 *           packbits' default order); the last byte is zero-padded. bytes: number[] of length ceil(dims / 8);
 *           base64: the same bytes. Hamming distance between two packed vectors approximates their angle.
 * The packed `base64` form of every encoding lets a client skip JSON number lists entirely.
 */
import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';

export const ENCODINGS = ['FLOAT', 'BASE64', 'INT8', 'BINARY'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export type EncodedVector =
  | { encoding: 'FLOAT'; values: number[] }
  | { encoding: 'BASE64'; base64: string }
  | { encoding: 'INT8'; values: number[]; scale: number; base64: string }
  | { encoding: 'BINARY'; bytes: number[]; base64: string };

export function l2Normalize(data: Float32Array, width: number): Float32Array {
  for (let off = 0; off < data.length; off += width) {
    let sum = 0;
    for (let j = 0; j < width; j++) sum += data[off + j] * data[off + j];
    if (sum === 0) continue;
    const inv = 1 / Math.sqrt(sum);
    for (let j = 0; j < width; j++) data[off + j] *= inv;
  }
  return data;
}

export function truncateDimensions(data: Float32Array, width: number, dims: number): Float32Array {
  if (!(Number.isInteger(dims) && dims >= 1 && dims <= width)) {
    throw new RangeError(`dimensions must be an integer from 1 to the model's embedding width ${width}, got ${dims}.`);
  }
  const rows = data.length / width;
  if (dims === width) return data.slice();
  const out = new Float32Array(rows * dims);
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * width, r * width + dims), r * dims);
  return out;
}

function row(data: Float32Array, width: number, r: number): Float32Array {
  return data.subarray(r * width, (r + 1) * width);
}

export function encodeVectors(data: Float32Array, width: number, encoding: Encoding): EncodedVector[] {
  if (!ENCODINGS.includes(encoding)) throw new RangeError(`Unsupported encoding: "${String(encoding)}". Should be one of: ${ENCODINGS.join(', ')}.`);
  const rows = width === 0 ? 0 : data.length / width;
  const out: EncodedVector[] = [];
  for (let r = 0; r < rows; r++) out.push(encodeVector(row(data, width, r), encoding));
  return out;
}

export function encodeVector(v: Float32Array, encoding: Encoding): EncodedVector {
  switch (encoding) {
    case 'FLOAT':
      return { encoding, values: Array.from(v) };
    case 'BASE64':
      return { encoding, base64: float32Base64(v) };
    case 'INT8': {
      let max = 0;
      for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]));
      const scale = max / 127;
      const q = new Int8Array(v.length);
      for (let i = 0; i < v.length; i++) q[i] = scale === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(v[i] / scale)));
      return { encoding, values: Array.from(q), scale, base64: Buffer.from(q.buffer, q.byteOffset, q.byteLength).toString('base64') };
    }
    case 'BINARY': {
      const packed = new Uint8Array(Math.ceil(v.length / 8));
      for (let i = 0; i < v.length; i++) if (v[i] > 0) packed[i >> 3] |= 0x80 >> (i & 7);
      return { encoding, bytes: Array.from(packed), base64: Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength).toString('base64') };
    }
  }
}

/** Little-endian float32 bytes of `v`, base64: one native call over the array's own memory on little-endian hosts. */
export function float32Base64(v: Float32Array): string {
  if (LITTLE_ENDIAN) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  const bytes = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) bytes.writeFloatLE(v[i], i * 4);
  return bytes.toString('base64');
}

export function decodeBase64Vector(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length % 4 !== 0) throw new Error(`base64 vector has ${bytes.length} bytes, not a multiple of 4 (float32)`);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

export function dequantizeInt8(values: readonly number[], scale: number): Float32Array {
  return Float32Array.from(values, (q) => q * scale);
}

/** Sign bits back to ±1 (dims: the vector's length before packing). */
export function unpackBinary(bytes: readonly number[], dims: number): Int8Array {
  const out = new Int8Array(dims);
  for (let i = 0; i < dims; i++) out[i] = bytes[i >> 3] & (0x80 >> (i & 7)) ? 1 : -1;
  return out;
}

/** Row-wise softmax (max-subtracted, so large logits do not overflow), new array. */
export function softmax(data: Float32Array, width: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let off = 0; off < data.length; off += width) {
    let max = -Infinity;
    for (let j = 0; j < width; j++) max = Math.max(max, data[off + j]);
    let sum = 0;
    for (let j = 0; j < width; j++) sum += out[off + j] = Math.exp(data[off + j] - max);
    for (let j = 0; j < width; j++) out[off + j] /= sum;
  }
  return out;
}

/** Indices of the k largest values, largest first; ties keep the lower index first. */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[b] - values[a] || a - b);
  return idx.slice(0, Math.max(0, Math.min(k, values.length)));
}
