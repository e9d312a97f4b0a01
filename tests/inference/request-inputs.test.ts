// Packed inputs (raw uint8 pixels, float32 tensors) and the API → runtime input mapping: valid payloads decode to
// exactly the values sent, every invalid one is refused with its input index and a reason.
import { InferenceInputError } from '../../src/inference/errors';
import { toInferenceInputs, type ApiInput } from '../../src/inference/request-inputs';
import { decodePackedFloat32, decodePackedPixels } from '../../src/inference/packed';
import type { StoredInputSpec } from '../../src/models/stored-spec';
import { defaultSpec } from '../../src/models/spec';

const image: StoredInputSpec = { spec: defaultSpec('image', 'cnn', { height: 4, width: 3, channels: 2 }), preprocess: { modality: 'IMAGE' } };
const norm = { mean: [1, -2], std: [2, 0.5] };
const seqSpec = defaultSpec('sequence', 'mlp', { length: 5, features: 2 });
const sequence: StoredInputSpec = { spec: seqSpec, preprocess: { modality: 'SEQUENCE', normalization: norm } };

const b64 = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

function problemsOf(f: () => unknown): Array<{ index: number; message: string }> {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InferenceInputError);
    return (e as InferenceInputError).problems;
  }
  throw new Error('expected InferenceInputError');
}

test('packed pixels decode to the bytes sent (padded and unpadded base64, URL-safe alphabet)', () => {
  const px = Uint8Array.from({ length: 24 }, (_, i) => (i * 53) % 256);
  const std = b64(px);
  for (const s of [std, std.replace(/=+$/, ''), Buffer.from(px).toString('base64url')]) {
    const d = decodePackedPixels({ base64: s, shape: [4, 3, 2] }, { height: 4, width: 3, channels: 2 });
    expect(d.ok && Array.from(d.value)).toEqual(Array.from(px));
  }
});

test('packed float32 tensors decode little-endian, and toInferenceInputs standardizes them like JSON sequences', () => {
  const steps = Array.from({ length: 5 }, (_, s) => [s * 0.5 - 1, 3 - s]);
  const flat = Float32Array.from(steps.flat());
  const d = decodePackedFloat32({ base64: b64(flat), shape: [5, 2] }, 5, 2);
  expect(d.ok && Array.from(d.value)).toEqual(Array.from(flat));
  const [fromTensor, fromJson] = toInferenceInputs(sequence, [{ tensor: { base64: b64(flat), shape: [5, 2] } }, { sequence: steps }]);
  const t = (fromTensor as { sequence: Float32Array }).sequence;
  const j = (fromJson as { sequence: number[][] }).sequence;
  expect(t).toBeInstanceOf(Float32Array);
  j.flat().forEach((v, i) => expect(t[i]).toBeCloseTo(v, 6));
  expect(t[0]).toBeCloseTo((-1 - 1) / 2, 6);
  expect(t[1]).toBeCloseTo((3 + 2) / 0.5, 6);
});

test('every invalid packed input is refused with its index and a reason', () => {
  const px = b64(new Uint8Array(24));
  const nan = Float32Array.from({ length: 10 }, (_, i) => (i === 3 ? NaN : i));
  const inf = Float32Array.from({ length: 10 }, (_, i) => (i === 7 ? -Infinity : i));
  const imageInputs: ApiInput[] = [
    { pixels: { base64: px, shape: [4, 3, 2] } }, // valid
    { pixels: { base64: px, shape: [3, 4, 2] } }, // wrong shape
    { pixels: { base64: px, shape: [4, 3] } }, // wrong rank
    { pixels: { base64: b64(new Uint8Array(23)), shape: [4, 3, 2] } }, // too few bytes
    { pixels: { base64: b64(new Uint8Array(4096)), shape: [4, 3, 2] } }, // too many bytes
    { pixels: { base64: `${'!'.repeat(31)}=`, shape: [4, 3, 2] } }, // right length, not base64
    { pixels: { base64: px, shape: [4, 3.5, 2] } }, // non-integer shape
    { tensor: { base64: b64(new Float32Array(24)), shape: [4, 6] } }, // tensor for an image model
    { pixels: { base64: px, shape: [4, 3, 2] }, image: 'eA==' }, // two fields
    {}, // none
  ];
  const problems = problemsOf(() => toInferenceInputs(image, imageInputs));
  expect(problems.map((p) => p.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const msg = (i: number) => problems.find((p) => p.index === i)!.message;
  expect(msg(1)).toMatch(/shape is \[3, 4, 2\]; the model takes \[4, 3, 2\]/);
  expect(msg(3)).toMatch(/has 32 characters; 24 bytes take 32|decodes to 23 bytes/);
  expect(msg(4)).toMatch(/24 bytes take 32/);
  expect(msg(5)).toMatch(/not valid base64/);
  expect(msg(6)).toMatch(/non-negative integers/);
  expect(msg(7)).toMatch(/tensor is for sequence models/);
  expect(msg(8)).toMatch(/exactly one of/);

  const seqProblems = problemsOf(() =>
    toInferenceInputs(sequence, [
      { tensor: { base64: b64(nan), shape: [5, 2] } },
      { tensor: { base64: b64(inf), shape: [5, 2] } },
      { tensor: { base64: b64(new Float32Array(10)), shape: [2, 5] } },
      { tensor: { base64: b64(new Float32Array(9)), shape: [5, 2] } },
      { pixels: { base64: px, shape: [4, 3, 2] } },
      { tensor: { base64: b64(new Float32Array(10)), shape: [5, 2] } }, // valid
    ]),
  );
  expect(seqProblems.map((p) => p.index)).toEqual([0, 1, 2, 3, 4]);
  expect(seqProblems[0]!.message).toMatch(/value 3 \(step 1, feature 1\) is NaN/);
  expect(seqProblems[1]!.message).toMatch(/value 7 \(step 3, feature 1\) is -Infinity/);
  expect(seqProblems[2]!.message).toMatch(/shape is \[2, 5\]; the model takes \[5, 2\]/);
  expect(seqProblems[3]!.message).toMatch(/40 bytes take 56/);
  expect(seqProblems[4]!.message).toMatch(/pixels are for image models/);
});
