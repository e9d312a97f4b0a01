// ModelVersion.inputSpec as stored: the architecture spec plus the preprocessing fixed at training time. Shared by
// the gateway (serving, createFineTune checks) and the trainer task (fine-tuning from a stored version).
import type { ModelSpec } from './spec';

export interface StoredPreprocess {
  modality?: string;
  pretext?: string;
  maxLength?: number;
  sequenceLength?: number;
  normalization?: { mean: number[]; std: number[] };
  imageAsRows?: boolean;
  tokenEmbedding?: string;
}

export interface StoredInputSpec {
  spec: ModelSpec;
  preprocess?: StoredPreprocess;
}

const INPUT_KIND: Record<string, string> = { IMAGE: 'image', SEQUENCE: 'sequence', TEXT: 'tokens' };

/**
 * Why rows of `modality` cannot be fine-tuned on with this stored version, or null when they can. Fine-tuning feeds
 * rows straight to the encoder's input (pixels, standardized sequences, word pieces), so the encoder must read
 * that modality directly. NEXT_STEP × TEXT versions do: their token table is stored in front of the encoder (a
 * tokens spec over a sequence encoder). Encoders that read images as row sequences (NEXT_STEP × IMAGE), and local
 * artifacts that keep the token table among the task heads (`preprocess.tokenEmbedding`), are not supported.
 */
export function fineTuneIncompatibility(stored: StoredInputSpec, modality: string): string | null {
  const kind = stored.spec?.input?.kind;
  if (!kind) return 'the version has no input spec';
  if (stored.preprocess?.imageAsRows || stored.preprocess?.tokenEmbedding || INPUT_KIND[modality] !== kind) {
    return `its encoder reads ${kind} inputs, and ${modality} rows reach it only through NEXT_STEP preprocessing, which fine-tuning does not support yet; pretrain with MASKED or CONTRASTIVE`;
  }
  return null;
}

/** Why the dataset's rows do not fit the encoder's input (image size, sequence features), or null when they do. */
export function shapeMismatch(stored: StoredInputSpec, shape: { modality: string; height?: number; width?: number; channels?: number; features?: number }): string | null {
  const input = stored.spec.input;
  if (input.kind === 'image' && (shape.height !== input.height || shape.width !== input.width || shape.channels !== input.channels)) {
    return `the dataset's images are ${shape.height}×${shape.width}×${shape.channels}; the model takes ${input.height}×${input.width}×${input.channels}`;
  }
  if (input.kind === 'sequence' && shape.features !== input.features) {
    return `the dataset's sequences have ${shape.features} features per step; the model takes ${input.features}`;
  }
  return null;
}
