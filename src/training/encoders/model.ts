/**
 * The tfjs model built from a ModelSpec. This is the API the trainer, checkpoints and the exporter use.
 *
 *   const model = buildModel(spec, { seed: 42 });
 *   const out = model.apply({ inputIds, attentionMask }, { training: true, rng });   // inside tf.tidy / minimize
 *   // out.sequence? [B,T,D], out.mask, out.pooled [B,D], out.embedding [B,D], out.head? (see types.ts)
 *   model.trainableVariables()   // Record<name, tf.Variable> for optimizers / tf.variableGrads
 *   model.getWeights()           // NamedWeights (all params incl. batch-norm state) → checkpoints / exportOnnx
 *   model.setWeights(w, { strict })
 *   model.dispose()
 *
 * A sequence input with a `frontEnd` (audio) takes the raw waveform as `values` [B,S,1]; apply() turns it into
 * log-mel frames [B,T',nMels] (layers/logmel.ts) before the encoder.
 *
 * apply() is pure except that training-mode batch norm updates its running statistics.
 */
import { tf } from '../engine/tf';
import { type HeadSpec, type ModelSpec, assertModelSpec } from '../../models/spec';
import { makeRng } from './init';
import { type NamedWeights, ParamStore } from './params';
import type { ApplyOptions, Encoder, ModelInputs, ModelOutputs } from './types';
import { MlpEncoder } from './mlp';
import { CnnEncoder } from './cnn';
import { TransformerEncoder } from './transformer';
import { SequenceEncoder } from './sequence';
import { addHead, applyHead, headReadsSequence } from './heads';
import { l2Normalize, pool } from './layers/pooling';
import { logmel } from './layers/logmel';

export class PretextModel {
  readonly params: ParamStore;
  private readonly encoder: Encoder;

  constructor(
    readonly spec: ModelSpec,
    opts: { seed: number | string },
  ) {
    this.params = new ParamStore(makeRng(opts.seed));
    this.encoder = createEncoder(this.params, spec);
    if (spec.head) addHead(this.params, spec, spec.head);
  }

  apply(inputs: ModelInputs, opts: ApplyOptions = {}): ModelOutputs {
    const ctx = { training: opts.training ?? false, rng: opts.rng };
    const input = this.spec.input;
    // Audio: the encoder reads log-mel frames computed from the raw waveform (part of the model, as in ONNX).
    if (input.kind === 'sequence' && input.frontEnd && inputs.values) inputs = { ...inputs, values: logmel(inputs.values, input) };
    const { sequence, mask, pooled: direct } = this.encoder.apply(inputs, ctx);
    const pooled = direct ?? pool(sequence as tf.Tensor3D, mask, this.spec.pooling);
    const embedding = this.spec.normalize ? l2Normalize(pooled) : pooled;
    const out: ModelOutputs = { sequence, mask, pooled, embedding };
    if (this.spec.head && (opts.head ?? true)) out.head = this.applyHead(out, this.spec.head);
    return out;
  }

  private applyHead(out: ModelOutputs, head: HeadSpec): tf.Tensor {
    return applyHead(this.params, head, headReadsSequence(head) ? (out.sequence as tf.Tensor3D) : out.pooled);
  }

  trainableVariables(): Record<string, tf.Variable> {
    return this.params.trainableVariables();
  }

  getWeights(): NamedWeights {
    return this.params.exportWeights();
  }

  setWeights(weights: NamedWeights, opts: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    return this.params.importWeights(weights, opts);
  }

  dispose(): void {
    this.params.dispose();
  }
}

function createEncoder(store: ParamStore, spec: ModelSpec): Encoder {
  const { input, encoder } = spec;
  if (encoder.kind === 'mlp') return new MlpEncoder(store, input, encoder);
  if (encoder.kind === 'cnn' && input.kind === 'image') return new CnnEncoder(store, input, encoder);
  if (encoder.kind === 'transformer' && input.kind === 'tokens') return new TransformerEncoder(store, input, encoder);
  if (encoder.kind === 'sequence' && input.kind === 'sequence') return new SequenceEncoder(store, input, encoder);
  throw new Error(`Unsupported encoder "${encoder.kind}" for ${input.kind} input`);
}

/** Validates the spec (plain JSON accepted) and builds the model with seeded initialisation. */
export function buildModel(spec: ModelSpec | unknown, opts: { seed: number | string }): PretextModel {
  return new PretextModel(assertModelSpec(spec), opts);
}
