// Preprocessing: the same ids as the trainer's tokenizer, images decoded by ingest's upload decoder, raw pixels,
// sequences, and typed per-input errors.
import sharp from 'sharp';
import { prepareInputs, type PrepareLimits } from '../../src/inference/preprocess';
import { InferenceInputError, InferenceLimitError } from '../../src/inference/errors';
import { decodeImage } from '../../src/ingest/image-decode';
import { DEFAULT_LIMITS } from '../../src/ingest/limits';
import { assertModelSpec, type InputSpec } from '../../src/models/spec';
import { TextTokenizer } from '../../src/training/tokenizer';
import { SENTENCES } from './artifacts';

const limits: PrepareLimits = { maxTokens: 10_000, maxImageBytes: 4096, maxImagePixels: 1024 * 1024 };
const rgb: InputSpec = { kind: 'image', height: 4, width: 5, channels: 3, mean: [0], std: [1] };

async function errorOf(p: Promise<unknown>): Promise<InferenceInputError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(InferenceInputError);
  return e as InferenceInputError;
}

test('text rows are [CLS] + the trainer tokenizer pieces, exactly as TextTokenizer.encode packs them for training', async () => {
  const tokenizer = await TextTokenizer.train(SENTENCES, { vocabSize: 96 });
  const spec = assertModelSpec({
    input: { kind: 'tokens', vocabSize: 128, maxLength: 12 },
    encoder: { kind: 'transformer', dModel: 8, numHeads: 2, numLayers: 1, ffDim: 8 },
  }).input;
  const texts = ['A stitch in time', '', 'judge my vow'];
  const { rows, tokens } = await prepareInputs(spec, texts.map((text) => ({ text })), { tokenizer, limits });
  const trained = await tokenizer.encode(texts, 12, false);
  rows.forEach((row, r) => {
    if (row.kind !== 'tokens') throw new Error('expected tokens');
    const len = trained.lengths[r];
    expect(Array.from(row.ids)).toEqual(Array.from(trained.inputIds.subarray(r * 12, r * 12 + len)));
  });
  expect(tokens).toBe(trained.lengths.reduce((a, b) => a + b, 0));
  const err = await errorOf(prepareInputs(spec, [{ text: 'ok' }, { pixels: [1] }], { tokenizer, limits }));
  expect(err.index).toBe(1);
  expect(err.message).toMatch(/input 1: a text model takes \{ text \}, got pixels/);
});

test('images: base64, data URLs and raw bytes decode like an ingest upload; RGBA → RGB, resized to the spec', async () => {
  const raw = Buffer.from(Array.from({ length: 10 * 8 * 4 }, (_, i) => (i * 37) % 256));
  const png = await sharp(raw, { raw: { width: 10, height: 8, channels: 4 } }).png().toBuffer();
  const jpeg = await sharp(raw, { raw: { width: 10, height: 8, channels: 4 } }).removeAlpha().jpeg().toBuffer();
  const { rows } = await prepareInputs(rgb, [{ image: png.toString('base64') }, { image: `data:image/png;base64,${png.toString('base64')}` }, { image: new Uint8Array(jpeg) }], { limits });
  const expected = await decodeImage(png, { modality: 'IMAGE', height: 4, width: 5, channels: 3 }, DEFAULT_LIMITS);
  const expectedJpeg = await decodeImage(jpeg, { modality: 'IMAGE', height: 4, width: 5, channels: 3 }, DEFAULT_LIMITS);
  expect(rows.map((r) => (r.kind === 'image' ? Array.from(r.pixels) : null))).toEqual([Array.from(expected), Array.from(expected), Array.from(expectedJpeg)]);
  expect(expected.length).toBe(4 * 5 * 3);
});

test('image problems are reported per input: bad base64, not an image, too large, wrong pixel count or range', async () => {
  const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).png().toBuffer();
  const err = await errorOf(
    prepareInputs(
      rgb,
      [
        { image: png.toString('base64') },
        { image: 'not base64 !!' },
        { image: Buffer.from('hello world, not a picture').toString('base64') },
        { image: Buffer.alloc(5000, 1).toString('base64') },
        { pixels: [1, 2, 3] },
        { pixels: Array.from({ length: 60 }, (_, i) => (i === 7 ? 300 : 0)) },
        { sequence: [[1]] },
      ],
      { limits },
    ),
  );
  expect(err.problems.map((p) => p.index)).toEqual([1, 2, 3, 4, 5, 6]);
  const [b64, notImage, tooBig, count, range, kind] = err.problems.map((p) => p.message);
  expect(b64).toMatch(/not valid base64/);
  expect(notImage).toMatch(/not a PNG or JPEG image/);
  expect(tooBig).toMatch(/5000 bytes, more than the limit of 4096/);
  expect(count).toMatch(/3 values; the model takes 4×5×3 = 60 \(HWC\)/);
  expect(range).toMatch(/pixels\[7\] = 300 is not an integer 0\.\.255/);
  expect(kind).toMatch(/an image model takes \{ image \} or \{ pixels \}, got sequence/);
});

test('sequences: nested [T][F] and flat Float32Array agree; shape and non-finite values are rejected', async () => {
  const spec: InputSpec = { kind: 'sequence', length: 3, features: 2 };
  const nested = [[1, 2], [3, 4], [5, 6]];
  const { rows } = await prepareInputs(spec, [{ sequence: nested }, { sequence: Float32Array.from([1, 2, 3, 4, 5, 6]) }], { limits });
  expect(rows.map((r) => (r.kind === 'sequence' ? Array.from(r.values) : null))).toEqual([[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]]);
  const err = await errorOf(
    prepareInputs(spec, [{ sequence: [[1, 2], [3, 4]] }, { sequence: [[1, 2], [3], [5, 6]] }, { sequence: Float32Array.from([0, 0, Infinity, 0, 0, 0]) }], { limits }),
  );
  expect(err.problems.map((p) => p.message)).toEqual([
    'sequence has 2 steps; the model takes exactly 3 steps of 2 features ([T, F] = [3, 2])',
    'sequence step 1 has 1 features; the model takes 2',
    'sequence value 2 (step 1, feature 0) is Infinity; NaN and Infinity are not allowed',
  ]);
});

test('the per-request token limit is a typed limit error', async () => {
  const tokenizer = await TextTokenizer.train(SENTENCES, { vocabSize: 96 });
  const spec: InputSpec = { kind: 'tokens', vocabSize: 128, maxLength: 64, padId: 0, clsId: 1, maskId: 2 };
  const e = await prepareInputs(spec, [{ text: SENTENCES[0] }], { tokenizer, limits: { ...limits, maxTokens: 3 } }).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(InferenceLimitError);
  expect((e as InferenceLimitError).limit).toBe('maxTokens');
});
