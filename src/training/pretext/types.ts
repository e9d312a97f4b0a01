// The contract every pretext task implements. A task turns clean examples into a host batch (typed arrays only:
// augmentation and masking run off the tfjs critical path, in the prefetching loader), then turns a host batch
// into a scalar loss with the model and its own task heads.
import type { tf } from '../engine/tf';
import type { EncoderKind, ModelSpec } from '../../models/spec';
import type { PretextModel } from '../encoders/model';
import type { ParamStore } from '../encoders/params';
import type { Modality, RowShape } from '../../ingest/types';
import type { TextTokenizer } from '../tokenizer/textTokenizer';
import type { Rng } from '../rng';

import type { Pretext } from '../../contracts/pretext';

// The names and options are part of the contract the gateway validates with (src/contracts/pretext.ts).
export { PRETEXTS, type Pretext, type TaskOptions } from '../../contracts/pretext';
export type { Modality, EncoderKind };

/** One clean training example, already decoded and scaled (see data/examples.ts). */
export type Example =
  /** Word-piece ids without [CLS] or padding. */
  | { kind: 'TEXT'; ids: Int32Array }
  /** HWC float pixels in 0..1. */
  | { kind: 'IMAGE'; pixels: Float32Array }
  /** Time-major T×F values at the task's fixed length, standardized per feature. */
  | { kind: 'SEQUENCE'; values: Float32Array };

export interface HostTensor { data: Float32Array | Int32Array; shape: number[]; dtype: 'float32' | 'int32' }
export type HostBatch = Record<string, HostTensor>;


/** What a task needs to know about the data and the model it trains. */
export interface TaskSetup {
  shape: RowShape;
  /** SEQUENCE: the fixed length every example is padded or cut to. */
  sequenceLength?: number;
  /** TEXT only. */
  tokenizer?: TextTokenizer;
  /** TEXT: tokens per example including [CLS]. */
  maxLength?: number;
  spec: ModelSpec;
}

export interface ModelSizing {
  /** Embedding width. */
  dim: number;
  /** Transformer layers. */
  layers: number;
}

export interface LossOptions { training: boolean; rng?: () => number }

export interface PretextTask {
  readonly pretext: Pretext;
  readonly modality: Modality;
  /** Encoder kinds this task can train; the first is the default. */
  readonly encoderKinds: readonly EncoderKind[];
  /** The model spec for this task's data (the encoder the platform exports; task heads are not part of it). */
  modelSpec(encoder: EncoderKind, setup: Omit<TaskSetup, 'spec'>, sizing: ModelSizing): ModelSpec;
  /** Registers the task's own head parameters under `task/...`. */
  addHeads(heads: ParamStore, setup: TaskSetup): void;
  /** Augments / masks `examples` into a host batch (pure typed arrays, no tfjs). */
  prepare(examples: readonly Example[], rng: Rng, setup: TaskSetup): HostBatch;
  /** Scalar loss for a host batch (call inside tf.variableGrads). */
  loss(model: PretextModel, heads: ParamStore, batch: HostBatch, options: LossOptions): tf.Scalar;
  /** Clean model inputs for embedding (evaluation, kNN). */
  embedInputs(examples: readonly Example[], setup: TaskSetup): HostBatch;
  /** Embeddings [N, D] of `embedInputs` output. */
  embed(model: PretextModel, heads: ParamStore, batch: HostBatch): tf.Tensor2D;
}
