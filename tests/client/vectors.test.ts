// Client helpers for the packed wire forms: what packPixels / packFloat32 send is what the server decodes, and
// decodeEmbedding reads every encoding the server answers with.
import { decodeEmbedding, packFloat32, packPixels } from '../../src/client/vectors';
import { decodePackedFloat32, decodePackedPixels } from '../../src/inference/packed';
import { encodeVector } from '../../src/inference/postprocess';

test('packed inputs round-trip through the server decoders', () => {
  const px = Uint8Array.from({ length: 2 * 3 * 1 }, (_, i) => i * 40);
  const p = packPixels(px, [2, 3, 1]);
  const d = decodePackedPixels(p, { height: 2, width: 3, channels: 1 });
  expect(d.ok && Array.from(d.value)).toEqual(Array.from(px));
  const values = [0.25, -1.5, 3e-8, 1e20, -0, 7];
  const t = decodePackedFloat32(packFloat32(values, [3, 2]), 3, 2);
  expect(t.ok && Array.from(t.value)).toEqual(Array.from(Float32Array.from(values)));
  expect(() => packPixels(px, [2, 2, 1])).toThrow(/needs 4/);
});

test('decodeEmbedding reads FLOAT, BASE64 and INT8 answers; BINARY is refused with a pointer to bytes', () => {
  const v = Float32Array.from([0.5, -0.25, 0.125, 1]);
  expect(Array.from(decodeEmbedding(encodeVector(v, 'FLOAT')))).toEqual(Array.from(v));
  expect(Array.from(decodeEmbedding(encodeVector(v, 'BASE64')))).toEqual(Array.from(v));
  const q = encodeVector(v, 'INT8') as { scale: number; values: number[]; base64: string };
  const fromB64 = decodeEmbedding({ encoding: 'INT8', base64: q.base64, scale: q.scale });
  const fromValues = decodeEmbedding({ encoding: 'INT8', values: q.values, scale: q.scale });
  expect(Array.from(fromB64)).toEqual(Array.from(fromValues));
  fromB64.forEach((x, i) => expect(Math.abs(x - v[i]!)).toBeLessThanOrEqual(q.scale / 2 + 1e-7));
  expect(() => decodeEmbedding(encodeVector(v, 'BINARY'))).toThrow(/sign bits/);
});
