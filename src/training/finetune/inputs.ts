// Rows → model inputs for fine-tuning, evaluation and embedding. Rows are converted once into flat typed arrays
// (PreparedInputs) so that training can draw many batches without touching the rows again.
//   image input:    raw 0..255 pixels, HWC (the model scales them in-graph)
//   sequence input: values standardized with the pretraining run's normalization, cut / zero-padded to length T
//   tokens input:   [CLS] + word pieces from the pretraining run's tokenizer, cut / padded to maxLength
import { tf } from '../engine/tf';
import type { InputSpec } from '../../models/spec';
import type { Row } from '../../ingest/types';
import type { ModelInputs } from '../encoders/types';
import type { PretextModel } from '../encoders/model';
import type { TextTokenizer } from '../tokenizer/textTokenizer';
import { standardize, type SequenceNormalization } from '../../contracts/preprocess';

/** The data-dependent preprocessing a pretraining run fixed (TrainResult.tokenizer / .normalization). */
export interface InputPipeline {
  tokenizer?: TextTokenizer;
  normalization?: SequenceNormalization;
}

export interface PreparedInputs {
  kind: InputSpec['kind'];
  n: number;
  /** Per-example shape after the batch axis. */
  inner: number[];
  /** image: pixels [n,H,W,C]; sequence: values [n,T,F]. */
  values?: Float32Array;
  /** tokens: ids and attention mask [n, maxLength]. */
  ids?: Int32Array;
  mask?: Int32Array;
}

export async function prepareInputs(rows: readonly Row[], input: InputSpec, pipeline: InputPipeline = {}): Promise<PreparedInputs> {
  const n = rows.length;
  switch (input.kind) {
    case 'image': {
      const size = input.height * input.width * input.channels;
      const values = new Float32Array(n * size);
      rows.forEach((row, i) => {
        if (row.modality !== 'IMAGE') throw new Error(`Row ${row.index} is ${row.modality}; this model takes IMAGE rows.`);
        if (row.pixels.length !== size) {
          throw new Error(`Row ${row.index} has ${row.pixels.length} pixel values; the model takes ${input.height}×${input.width}×${input.channels} = ${size}.`);
        }
        values.set(row.pixels, i * size);
      });
      return { kind: 'image', n, inner: [input.height, input.width, input.channels], values };
    }
    case 'sequence': {
      const { length: T, features: F } = input;
      const norm = pipeline.normalization;
      const values = new Float32Array(n * T * F);
      rows.forEach((row, i) => {
        if (row.modality !== 'SEQUENCE') throw new Error(`Row ${row.index} is ${row.modality}; this model takes SEQUENCE rows.`);
        if (row.values.length !== row.length * F) throw new Error(`Row ${row.index} has ${row.values.length} values; ${row.length} steps × ${F} features expected.`);
        const steps = Math.min(T, row.length);
        for (let t = 0; t < steps; t++) {
          for (let f = 0; f < F; f++) {
            const v = row.values[t * F + f]!;
            values[(i * T + t) * F + f] = norm ? standardize(v, norm, f) : v;
          }
        }
      });
      return { kind: 'sequence', n, inner: [T, F], values };
    }
    case 'tokens': {
      const tok = pipeline.tokenizer;
      if (!tok) throw new Error('A tokens model needs the tokenizer of its pretraining run (TrainResult.tokenizer) in the input pipeline.');
      const texts = rows.map((row) => {
        if (row.modality !== 'TEXT') throw new Error(`Row ${row.index} is ${row.modality}; this model takes TEXT rows.`);
        return row.text;
      });
      const ids = new Int32Array(n * input.maxLength);
      const mask = new Int32Array(n * input.maxLength);
      // Chunks keep the native tokenizer's peak memory bounded; long mails are cut before tokenizing for speed.
      for (let i = 0; i < n; i += 1024) {
        const part = texts.slice(i, i + 1024).map((t) => t.slice(0, 16 * input.maxLength));
        const enc = await tok.encode(part, input.maxLength, true);
        ids.set(enc.inputIds, i * input.maxLength);
        mask.set(enc.attentionMask, i * input.maxLength);
      }
      return { kind: 'tokens', n, inner: [input.maxLength], ids, mask };
    }
  }
}

/** Model input tensors for the examples at `indices` (the caller disposes them, e.g. inside tf.tidy). */
/** The rows at `indices`, copied into fresh host arrays (ids + mask for tokens, values otherwise). */
export function gatherHost(p: PreparedInputs, indices: ArrayLike<number>): { ids?: Int32Array; mask?: Int32Array; values?: Float32Array; size: number } {
  const b = indices.length;
  const size = p.inner.reduce((a, c) => a * c, 1);
  const pick = <T extends Int32Array | Float32Array>(src: T, out: T): T => {
    for (let i = 0; i < b; i++) out.set(src.subarray(indices[i]! * size, (indices[i]! + 1) * size), i * size);
    return out;
  };
  if (p.kind === 'tokens') return { ids: pick(p.ids!, new Int32Array(b * size)), mask: pick(p.mask!, new Int32Array(b * size)), size };
  return { values: pick(p.values!, new Float32Array(b * size)), size };
}

/** Host arrays of a batch (from gatherHost, possibly augmented) as the model's input tensors. */
export function toModelInputs(p: PreparedInputs, b: number, host: { ids?: Int32Array; mask?: Int32Array; values?: Float32Array }): ModelInputs {
  if (p.kind === 'tokens') {
    const size = p.inner[0]!;
    return { inputIds: tf.tensor2d(host.ids!, [b, size], 'int32'), attentionMask: tf.tensor2d(host.mask!, [b, size], 'int32') };
  }
  const t = tf.tensor(host.values!, [b, ...p.inner], 'float32');
  return p.kind === 'image' ? { pixels: t as tf.Tensor4D } : { values: t as tf.Tensor3D };
}

export function batchInputs(p: PreparedInputs, indices: ArrayLike<number>): ModelInputs {
  return toModelInputs(p, indices.length, gatherHost(p, indices));
}

export function range(start: number, end: number): Int32Array {
  const out = new Int32Array(Math.max(0, end - start));
  for (let i = 0; i < out.length; i++) out[i] = start + i;
  return out;
}

/**
 * Runs the model (inference mode) over all prepared examples and returns one output as a flat [n, width] array:
 * 'embedding' (what is served), 'pooled' (what heads read) or 'head' (logits / predictions).
 */
export async function runModel(
  model: PretextModel, p: PreparedInputs, output: 'embedding' | 'pooled' | 'head', batchSize = 256,
): Promise<{ data: Float32Array; width: number }> {
  const parts: Float32Array[] = [];
  let width = 0;
  for (let s = 0; s < p.n; s += batchSize) {
    const y = tf.tidy(() => {
      const out = model.apply(batchInputs(p, range(s, Math.min(p.n, s + batchSize))), { training: false, head: output === 'head' });
      const t = output === 'head' ? out.head : out[output];
      if (!t) throw new Error('The model has no head; fine-tune it first or ask for the embedding.');
      return t;
    });
    width = y.shape[y.shape.length - 1]!;
    parts.push((await y.data()) as Float32Array);
    y.dispose();
  }
  const data = new Float32Array(p.n * width);
  let o = 0;
  for (const part of parts) {
    data.set(part, o);
    o += part.length;
  }
  return { data, width };
}
