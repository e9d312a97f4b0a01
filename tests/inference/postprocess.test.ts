// Embedding postprocessing: normalization, Matryoshka truncation, the four wire encodings, softmax and top-k,
// checked against direct computations.
import {
  decodeBase64Vector,
  dequantizeInt8,
  encodeVectors,
  l2Normalize,
  softmax,
  topK,
  truncateDimensions,
  unpackBinary,
} from '../../src/inference/postprocess';
import { rng } from './artifacts';

function randomRows(rows: number, width: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: rows * width }, () => r() * 4 - 2);
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

test('l2Normalize makes unit rows and leaves zero rows at zero', () => {
  const data = randomRows(3, 5, 1);
  data.fill(0, 5, 10);
  const original = data.slice();
  l2Normalize(data, 5);
  expect(norm(data.subarray(0, 5))).toBeCloseTo(1, 6);
  expect(Array.from(data.subarray(5, 10))).toEqual([0, 0, 0, 0, 0]);
  expect(norm(data.subarray(10, 15))).toBeCloseTo(1, 6);
  const n = norm(original.subarray(10, 15));
  for (let i = 10; i < 15; i++) expect(data[i]).toBeCloseTo(original[i] / n, 6);
});

test('Matryoshka truncation keeps each row prefix; renormalizing gives unit prefixes', () => {
  const data = randomRows(4, 8, 2);
  const cut = truncateDimensions(data, 8, 3);
  expect(cut.length).toBe(12);
  for (let r = 0; r < 4; r++) expect(Array.from(cut.subarray(r * 3, r * 3 + 3))).toEqual(Array.from(data.subarray(r * 8, r * 8 + 3)));
  l2Normalize(cut, 3);
  for (let r = 0; r < 4; r++) expect(norm(cut.subarray(r * 3, r * 3 + 3))).toBeCloseTo(1, 6);
  expect(() => truncateDimensions(data, 8, 9)).toThrow(/from 1 to the model's embedding width 8, got 9/);
  expect(() => truncateDimensions(data, 8, 0)).toThrow(/got 0/);
});

test('FLOAT and BASE64 carry the exact float32 values (BASE64 = little-endian float32 bytes)', () => {
  const data = randomRows(2, 6, 3);
  const floats = encodeVectors(data, 6, 'FLOAT');
  expect(floats).toHaveLength(2);
  expect(floats[1]).toEqual({ encoding: 'FLOAT', values: Array.from(data.subarray(6, 12)) });
  const b64 = encodeVectors(data, 6, 'BASE64');
  const first = b64[0] as { encoding: 'BASE64'; base64: string };
  const raw = Buffer.from(first.base64, 'base64');
  expect(raw.length).toBe(24);
  expect(raw.readFloatLE(4)).toBe(data[1]);
  expect(Array.from(decodeBase64Vector(first.base64))).toEqual(Array.from(data.subarray(0, 6)));
});

test('INT8: symmetric per-vector scale = max|v|/127, error at most scale/2, zero rows stay zero', () => {
  const data = randomRows(3, 16, 4);
  data.fill(0, 16, 32);
  const enc = encodeVectors(data, 16, 'INT8') as { encoding: 'INT8'; values: number[]; scale: number }[];
  for (const r of [0, 2]) {
    const row = data.subarray(r * 16, r * 16 + 16);
    const maxAbs = Math.max(...Array.from(row, Math.abs));
    expect(enc[r].scale).toBeCloseTo(maxAbs / 127, 7);
    expect(Math.max(...enc[r].values.map(Math.abs))).toBe(127);
    for (const q of enc[r].values) expect(Number.isInteger(q) && q >= -127 && q <= 127).toBe(true);
    const back = dequantizeInt8(enc[r].values, enc[r].scale);
    for (let i = 0; i < 16; i++) expect(Math.abs(back[i] - row[i])).toBeLessThanOrEqual(enc[r].scale / 2 + 1e-7);
  }
  expect(enc[1]).toEqual({ encoding: 'INT8', values: new Array(16).fill(0), scale: 0, base64: Buffer.alloc(16).toString('base64') });
  // The packed form carries the same q values as signed bytes.
  expect(Array.from(new Int8Array(Buffer.from((enc[0] as unknown as { base64: string }).base64, 'base64')))).toEqual(enc[0].values);
});

test('BINARY packs sign bits MSB-first into ceil(d/8) bytes', () => {
  const v = Float32Array.from([0.5, -1, 2, 0, -0.1, 3, 1, -2, /* byte 2 */ 7, -7]);
  const [enc] = encodeVectors(v, 10, 'BINARY') as { encoding: 'BINARY'; bytes: number[] }[];
  // bits: 1 0 1 0 0 1 1 0 | 1 0 (zero-padded)
  expect(enc.bytes).toEqual([0b10100110, 0b10000000]);
  expect(Array.from(Buffer.from((enc as unknown as { base64: string }).base64, 'base64'))).toEqual(enc.bytes);
  expect(Array.from(unpackBinary(enc.bytes, 10))).toEqual([1, -1, 1, -1, -1, 1, 1, -1, 1, -1]);
  expect(() => encodeVectors(v, 10, 'FP16' as 'FLOAT')).toThrow(/Unsupported encoding: "FP16"\. Should be one of: FLOAT, BASE64, INT8, BINARY\./);
});

test('softmax rows sum to 1 and match exp ratios, stable for large logits; topK orders by value', () => {
  const logits = Float32Array.from([1, 2, 3, 1000, 1001, 999]);
  const p = softmax(logits, 3);
  const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
  const s = e[0] + e[1] + e[2];
  for (let i = 0; i < 3; i++) expect(p[i]).toBeCloseTo(e[i] / s, 6);
  expect(p[3] + p[4] + p[5]).toBeCloseTo(1, 6);
  expect(p[4]).toBeGreaterThan(p[3]);
  expect(topK(p.subarray(3, 6), 2)).toEqual([1, 0]);
  expect(topK([0.2, 0.5, 0.5], 5)).toEqual([1, 2, 0]);
});
