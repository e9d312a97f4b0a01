/**
 * API inputs (GraphQL `EmbedInput`, the REST shims) → runtime inputs, for one stored model version.
 *
 *   text      → { text }
 *   image     → { image } (base64 PNG/JPEG; decoded by preprocess)
 *   pixels    → { pixels } (packed uint8 HWC of the model's size; see packed.ts)
 *   sequence  → { sequence } ([T][F] JSON numbers), standardized with the training statistics
 *   tensor    → { sequence } (packed float32 [T, F]), standardized the same way
 *
 * Exactly one field per input. Every problem is collected with its input index and thrown once as
 * InferenceInputError, so the gateway answers BAD_USER_INPUT listing them all.
 */
import { standardize, standardizeInPlace } from '../contracts/preprocess';
import type { StoredInputSpec } from '../models/stored-spec';
import { type InputProblem, InferenceInputError } from './errors';
import { type PackedArray, decodePackedFloat32, decodePackedPixels } from './packed';
import type { InferenceInput } from './preprocess';

export interface ApiInput {
  text?: string | null;
  image?: string | null;
  sequence?: number[][] | null;
  pixels?: PackedArray | null;
  tensor?: PackedArray | null;
}

const FIELDS = ['text', 'image', 'pixels', 'sequence', 'tensor'] as const;

export function toInferenceInputs(stored: StoredInputSpec, inputs: readonly ApiInput[]): InferenceInput[] {
  const pre = stored.preprocess ?? {};
  const input = stored.spec.input;
  const norm = pre.normalization;
  const problems: InputProblem[] = [];
  const out = inputs.map((inp, index): InferenceInput => {
    const problem = (message: string): InferenceInput => {
      problems.push({ index, message });
      return { text: '' };
    };
    let given: (typeof FIELDS)[number] | null = null;
    for (const k of FIELDS) {
      if (inp[k] == null) continue;
      if (given) return problem('give exactly one of text, image (base64 PNG/JPEG), pixels, sequence or tensor');
      given = k;
    }
    switch (given) {
      case null:
        return problem('give exactly one of text, image (base64 PNG/JPEG), pixels, sequence or tensor');
      case 'text':
        return { text: inp.text! };
      case 'image':
      case 'pixels': {
        if (pre.imageAsRows) return problem('this model reads images as row sequences; send the rows as a sequence or tensor');
        if (given === 'image') return { image: inp.image! };
        if (input.kind !== 'image') return problem(`pixels are for image models; this model takes ${input.kind === 'tokens' ? 'text' : 'a sequence or tensor'}`);
        const px = decodePackedPixels(inp.pixels, input);
        return px.ok ? { pixels: px.value } : problem(px.message);
      }
      case 'sequence':
        // Sequences are standardized per feature with the statistics fitted at training time (kept beside the graph).
        return { sequence: norm ? inp.sequence!.map((step) => step.map((x, f) => standardize(x, norm, f))) : inp.sequence! };
      case 'tensor': {
        if (input.kind !== 'sequence') return problem(`tensor is for sequence models; this model takes ${input.kind === 'tokens' ? 'text' : 'an image or pixels'}`);
        const t = decodePackedFloat32(inp.tensor, input.length, input.features);
        if (!t.ok) return problem(t.message);
        return { sequence: norm ? standardizeInPlace(t.value, norm, input.features) : t.value };
      }
    }
  });
  if (problems.length) throw new InferenceInputError(problems);
  return out;
}
