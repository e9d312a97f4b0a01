/**
 * One preprocessing path per modality, turning request inputs into model rows. Every problem is collected per
 * input index and thrown once as InferenceInputError, before anything is queued.
 *
 *   text     { text }            → the trainer's TextTokenizer (same tokenizer.json → same ids as training):
 *                                  [CLS] + word pieces, packed by TextTokenizer.pack. Over the spec's maxLength:
 *                                  truncate NONE → error, END → keep the start (training's behaviour), START → keep
 *                                  the end.
 *   image    { image }           → base64 (optionally a data: URL) or raw bytes of a PNG/JPEG, decoded by the contracts'
 *                                  decodeImage (as on the upload path) to the spec's H×W×C; small PNGs already at
 *                                  that size take png-fast.ts (same pixels, no sharp pipeline).
 *            { pixels }          → already decoded uint8 HWC pixels (a dataset row), exactly H·W·C values 0..255.
 *   sequence { sequence }        → [T][F] numbers, or a flat time-major Float32Array of T·F; T and F must equal
 *                                  the spec's length and features; NaN/±Infinity rejected.
 * Rows stay raw (0..255 pixels, unscaled values): the exported graph normalizes in-graph.
 */
import type { ImageInputSpec, InputSpec, SequenceInputSpec, TokensInputSpec } from '../models/spec';
import { decodeImage } from '../contracts/preprocess';
import type { TextTokenizer } from '../contracts/tokenizer';
import { type InputProblem, InferenceInputError, InferenceLimitError } from './errors';
import { decodeExactPng } from './png-fast';

export type InferenceInput =
  | { text: string }
  | { image: string | Uint8Array }
  | { pixels: ArrayLike<number> }
  | { sequence: ArrayLike<ArrayLike<number>> | Float32Array };

export const TRUNCATIONS = ['NONE', 'START', 'END'] as const;
export type Truncation = (typeof TRUNCATIONS)[number];

/** A validated model row. Token rows are unpadded ([CLS] + pieces); the batcher pads a batch to its longest row. */
export type PreparedRow =
  | { kind: 'tokens'; ids: Int32Array }
  | { kind: 'image'; pixels: Uint8Array }
  | { kind: 'sequence'; values: Float32Array };

export interface PrepareLimits {
  /** Most tokens (after truncation, [CLS] included) summed over one request's texts. */
  maxTokens: number;
  /** Largest encoded image (PNG/JPEG bytes) per input. */
  maxImageBytes: number;
  /** Largest decoded image (width × height) sharp will accept. */
  maxImagePixels: number;
}

export interface PrepareOptions {
  truncate?: Truncation;
  tokenizer?: TextTokenizer;
  limits: PrepareLimits;
}

export interface Prepared {
  rows: PreparedRow[];
  /** Tokens used ([CLS] included) for text models, 0 otherwise: usage accounting. */
  tokens: number;
}

const INPUT_KEYS: Record<InputSpec['kind'], string> = { tokens: '{ text }', image: '{ image } or { pixels }', sequence: '{ sequence }' };

/** Validates and converts a request's inputs for a model whose input is `spec`. */
export async function prepareInputs(spec: InputSpec, inputs: readonly InferenceInput[], opts: PrepareOptions): Promise<Prepared> {
  switch (spec.kind) {
    case 'tokens':
      return prepareText(spec, inputs, opts);
    case 'image':
      return { rows: await prepareImages(spec, inputs, opts.limits), tokens: 0 };
    case 'sequence':
      return { rows: prepareSequences(spec, inputs), tokens: 0 };
  }
}

function wrongKind(spec: InputSpec, input: unknown): string {
  const keys = input && typeof input === 'object' ? Object.keys(input).join(', ') || 'no fields' : typeof input;
  const model = { tokens: 'a text', image: 'an image', sequence: 'a sequence' }[spec.kind];
  return `${model} model takes ${INPUT_KEYS[spec.kind]}, got ${keys}`;
}

function fail(problems: InputProblem[]): void {
  if (problems.length) throw new InferenceInputError(problems);
}

// -- text ----------------------------------------------------------------------------------------------------------

async function prepareText(spec: TokensInputSpec, inputs: readonly InferenceInput[], opts: PrepareOptions): Promise<Prepared> {
  const truncate = opts.truncate ?? 'NONE';
  if (!TRUNCATIONS.includes(truncate)) {
    throw new InferenceInputError([{ index: 0, message: `Unsupported truncate: "${String(truncate)}". Should be one of: ${TRUNCATIONS.join(', ')}.` }]);
  }
  const tokenizer = opts.tokenizer;
  if (!tokenizer) throw new Error('a text model needs its tokenizer; load the artifact with tokenizer.json');
  const problems: InputProblem[] = [];
  const texts: string[] = [];
  inputs.forEach((input, index) => {
    const text = (input as { text?: unknown }).text;
    if (typeof text !== 'string') problems.push({ index, message: wrongKind(spec, input) });
    else texts.push(text);
  });
  fail(problems);
  const pieces = await tokenizer.tokenize(texts);
  const keep = spec.maxLength - 1; // room for [CLS]
  const rows: PreparedRow[] = [];
  let tokens = 0;
  pieces.forEach((ids, index) => {
    let kept = ids;
    if (ids.length > keep) {
      if (truncate === 'NONE') {
        problems.push({
          index,
          message: `text has ${ids.length + 1} tokens, more than the model's maxLength ${spec.maxLength}; shorten it or pass truncate START or END`,
        });
        return;
      }
      kept = truncate === 'END' ? ids.subarray(0, keep) : ids.subarray(ids.length - keep);
    }
    // The training packer, sized to this row, so inference ids are exactly what training saw (no padding yet).
    const packed = tokenizer.pack([kept], kept.length + 1, false);
    tokens += packed.lengths[0];
    rows.push({ kind: 'tokens', ids: packed.inputIds });
  });
  fail(problems);
  if (tokens > opts.limits.maxTokens) {
    throw new InferenceLimitError('maxTokens', opts.limits.maxTokens, tokens, `Request has ${tokens} tokens, more than the limit of ${opts.limits.maxTokens}; send fewer or shorter texts.`);
  }
  return { rows, tokens };
}

// -- image ---------------------------------------------------------------------------------------------------------

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DATA_URL = /^data:[a-z0-9.+/-]*(;[a-z0-9=-]+)*;base64,/i;

/** Decoded size of a base64 string without decoding it (so an oversized upload is refused before allocating). */
function base64Bytes(s: string): number {
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return Math.floor((s.length * 3) / 4) - pad;
}

async function prepareImages(spec: ImageInputSpec, inputs: readonly InferenceInput[], limits: PrepareLimits): Promise<PreparedRow[]> {
  const size = spec.height * spec.width * spec.channels;
  const problems: InputProblem[] = [];
  const rows = await Promise.all(
    inputs.map(async (input, index): Promise<PreparedRow | null> => {
      const problem = (message: string) => {
        problems.push({ index, message });
        return null;
      };
      if (input && typeof input === 'object' && 'pixels' in input) {
        const px = input.pixels;
        if (!px || typeof px.length !== 'number') return problem('pixels must be an array of numbers 0..255');
        if (px.length !== size) {
          return problem(`pixels has ${px.length} values; the model takes ${spec.height}×${spec.width}×${spec.channels} = ${size} (HWC)`);
        }
        // A byte array holds only integers 0..255 by construction; copy it so later changes by the caller cannot reach the batch.
        if (px instanceof Uint8Array) return { kind: 'image', pixels: px.slice() };
        const out = new Uint8Array(size);
        for (let i = 0; i < size; i++) {
          const v = px[i];
          if (!(Number.isInteger(v) && v >= 0 && v <= 255)) return problem(`pixels[${i}] = ${v} is not an integer 0..255`);
          out[i] = v;
        }
        return { kind: 'image', pixels: out };
      }
      const image = (input as { image?: unknown }).image;
      let bytes: Uint8Array;
      if (typeof image === 'string') {
        const b64 = image.replace(DATA_URL, '').replace(/\s+/g, '');
        if (!BASE64.test(b64) || b64.length % 4 === 1) return problem('image is not valid base64');
        const n = base64Bytes(b64);
        if (n > limits.maxImageBytes) return problem(`image has ${n} bytes, more than the limit of ${limits.maxImageBytes}`);
        bytes = new Uint8Array(Buffer.from(b64, 'base64'));
      } else if (ArrayBuffer.isView(image) && (image as Uint8Array).BYTES_PER_ELEMENT === 1) {
        bytes = image as Uint8Array;
        if (bytes.length > limits.maxImageBytes) return problem(`image has ${bytes.length} bytes, more than the limit of ${limits.maxImageBytes}`);
      } else {
        return problem(wrongKind(spec, input));
      }
      if (bytes.length === 0) return problem('image is empty');
      if (spec.channels !== 1 && spec.channels !== 3) {
        return problem(`the model takes ${spec.channels}-channel images, which PNG/JPEG decoding cannot produce; send { pixels } instead`);
      }
      // Small PNGs already at the model's size skip sharp's per-image set-up (exactly the same pixels; see png-fast.ts).
      const fast = decodeExactPng(bytes, spec);
      if (fast) return { kind: 'image', pixels: fast };
      try {
        const pixels = await decodeImage(bytes, spec, limits);
        return { kind: 'image', pixels };
      } catch (e) {
        return problem((e as Error).message);
      }
    }),
  );
  fail(problems);
  return rows as PreparedRow[];
}

// -- sequence ------------------------------------------------------------------------------------------------------

function prepareSequences(spec: SequenceInputSpec, inputs: readonly InferenceInput[]): PreparedRow[] {
  const { length: t, features: f } = spec;
  const problems: InputProblem[] = [];
  const rows: PreparedRow[] = [];
  inputs.forEach((input, index) => {
    const seq = (input as { sequence?: unknown }).sequence;
    const problem = (message: string) => problems.push({ index, message });
    const values = new Float32Array(t * f);
    if (seq instanceof Float32Array || (ArrayBuffer.isView(seq) && (seq as Float32Array).BYTES_PER_ELEMENT === 4 && !Array.isArray(seq))) {
      const flat = seq as Float32Array;
      if (flat.length !== t * f) return void problem(`sequence has ${flat.length} values; the model takes [${t}, ${f}] = ${t * f} (time-major)`);
      for (let i = 0; i < flat.length; i++) {
        if (!Number.isFinite(flat[i])) return void problem(`sequence value ${i} (step ${Math.floor(i / f)}, feature ${i % f}) is ${flat[i]}; NaN and Infinity are not allowed`);
      }
      values.set(flat);
    } else if (Array.isArray(seq)) {
      if (seq.length !== t) return void problem(`sequence has ${seq.length} steps; the model takes exactly ${t} steps of ${f} features ([T, F] = [${t}, ${f}])`);
      for (let s = 0; s < t; s++) {
        const step = seq[s] as ArrayLike<number> | undefined;
        if (!step || typeof step.length !== 'number' || step.length !== f) {
          return void problem(`sequence step ${s} has ${step && typeof step.length === 'number' ? step.length : 'no'} features; the model takes ${f}`);
        }
        for (let k = 0; k < f; k++) {
          const v = step[k];
          if (typeof v !== 'number' || !Number.isFinite(v)) return void problem(`sequence[${s}][${k}] is ${String(v)}; values must be finite numbers (no NaN or Infinity)`);
          values[s * f + k] = v;
        }
      }
    } else {
      return void problem(wrongKind(spec, input));
    }
    rows.push({ kind: 'sequence', values });
  });
  fail(problems);
  return rows;
}
