// The NEXT_STEP × TEXT encoder as one servable model: its token-embedding table in front of the causal conv+GRU
// sequence encoder, read by a tokens spec (`input.kind: 'tokens'`, `encoder.kind: 'sequence'`, `embedDim`).
//
// Pretraining keeps that table among the task heads (`task/embed`) and feeds the encoder a sequence spec; what is
// stored, exported, served and fine-tuned is this tokens spec with the table renamed `encoder/embed/tokens`, the
// same name the ONNX exporter Gathers from (src/models/onnx/encoders/sequence.ts). The embedding is the mask-aware
// mean of the causal states over real tokens, as NextStepTextTask.embed computes it during pretraining.
//
// It subclasses PretextModel so that fine-tuning, evaluation and checkpoints take it unchanged; src/training/encoders
// has no tokens front-end for the sequence encoder (that would be its natural home).
import { tf } from '../engine/tf';
import { type ModelSpec, assertModelSpec } from '../../models/spec';
import { buildModel, PretextModel } from '../encoders/model';
import type { NamedWeights } from '../encoders/params';
import type { ApplyOptions, ModelInputs, ModelOutputs } from '../encoders/types';
import { applyHead, headReadsSequence } from '../encoders/heads';
import { l2Normalize, pool } from '../encoders/layers/pooling';
import { embedTokens } from '../pretext/heads';

/** Name of the table in the servable model's weights (and the ONNX initializer it becomes). */
export const TOKEN_TABLE = 'encoder/embed/tokens';
/** Where NextStepTextTask keeps the table while pretraining (src/training/pretext/nextStepText.ts). */
export const PRETEXT_TOKEN_TABLE = 'task/embed';

export function isTokenSequenceSpec(spec: ModelSpec): boolean {
  return spec.input.kind === 'tokens' && spec.encoder.kind === 'sequence';
}

/** The sequence spec the wrapped encoder is built from: values [B, maxLength, embedDim]. */
function innerSpec(spec: ModelSpec): ModelSpec {
  if (spec.input.kind !== 'tokens' || spec.encoder.kind !== 'sequence' || spec.encoder.embedDim === undefined) {
    throw new Error('A token-sequence model needs a tokens input and a sequence encoder with embedDim.');
  }
  const { embedDim, ...encoder } = spec.encoder;
  return assertModelSpec({ ...spec, input: { kind: 'sequence', length: spec.input.maxLength, features: embedDim }, encoder, pooling: 'mean' });
}

export class TokenSequenceModel extends PretextModel {
  constructor(spec: ModelSpec, opts: { seed: number | string }) {
    super(innerSpec(spec), opts);
    // Callers (inputs, evaluation, export) read the tokens spec; the encoder inside was built from innerSpec.
    (this as { spec: ModelSpec }).spec = spec;
    const input = spec.input as Extract<ModelSpec['input'], { kind: 'tokens' }>;
    const width = (spec.encoder as { embedDim: number }).embedDim;
    this.params.add(TOKEN_TABLE, [input.vocabSize, width], { kind: 'normal', std: 0.02 });
  }

  override apply(inputs: ModelInputs, opts: ApplyOptions = {}): ModelOutputs {
    const ids = inputs.inputIds;
    if (!ids) throw new Error('This model reads text: pass inputIds (and attentionMask).');
    const padId = (this.spec.input as { padId: number }).padId;
    const mask = (inputs.attentionMask ?? tf.notEqual(ids, padId)).toFloat() as tf.Tensor2D;
    const values = embedTokens(this.params, TOKEN_TABLE, ids);
    const { sequence } = super.apply({ values }, { ...opts, head: false });
    const pooled = pool(sequence as tf.Tensor3D, mask, this.spec.pooling);
    const out: ModelOutputs = { sequence, mask, pooled, embedding: this.spec.normalize ? l2Normalize(pooled) : pooled };
    const head = this.spec.head;
    if (head && (opts.head ?? true)) out.head = applyHead(this.params, head, headReadsSequence(head) ? (sequence as tf.Tensor3D) : pooled);
    return out;
  }
}

/** buildModel for every spec, including the tokens → sequence encoder this file adds. */
export function buildEncoderModel(specJson: ModelSpec | unknown, opts: { seed: number | string }): PretextModel {
  const spec = assertModelSpec(specJson);
  return isTokenSequenceSpec(spec) ? new TokenSequenceModel(spec, opts) : buildModel(spec, opts);
}

/**
 * A NEXT_STEP × TEXT pretraining result (sequence spec, encoder weights, task heads) as the servable tokens model:
 * spec and weights ready for exportOnnx, the weights file and fine-tuning.
 */
export function servableNextStepText(
  spec: ModelSpec,
  weights: NamedWeights,
  heads: NamedWeights,
  tokenizer: { vocabSize: number; padId: number; clsId: number; maskId: number },
): { spec: ModelSpec; weights: NamedWeights } {
  const table = heads[PRETEXT_TOKEN_TABLE];
  if (!table) throw new Error(`The NEXT_STEP × TEXT heads have no "${PRETEXT_TOKEN_TABLE}" table to serve text with.`);
  if (spec.input.kind !== 'sequence' || spec.encoder.kind !== 'sequence') throw new Error('NEXT_STEP × TEXT trains a sequence encoder over a sequence spec.');
  const [vocabSize, width] = table.shape as [number, number];
  if (width !== spec.input.features || vocabSize < tokenizer.vocabSize) {
    throw new Error(`The token table [${table.shape}] does not fit the encoder (features ${spec.input.features}) and tokenizer (vocab ${tokenizer.vocabSize}).`);
  }
  const served = assertModelSpec({
    ...spec,
    input: { kind: 'tokens', vocabSize, maxLength: spec.input.length, padId: tokenizer.padId, clsId: tokenizer.clsId, maskId: tokenizer.maskId },
    encoder: { ...spec.encoder, embedDim: width },
    // NextStepTextTask.embed: the mean of the causal states over real tokens (the spec's 'last' would read padding).
    pooling: 'mean',
  });
  return { spec: served, weights: { ...weights, [TOKEN_TABLE]: table } };
}
