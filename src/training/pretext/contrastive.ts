// Shared SimCLR machinery for the three CONTRASTIVE tasks: each modality file only says how to make a view.
import { tf } from '../engine/tf';
import { embeddingDim, type EncoderKind, type InputSpec, type ModelSpec } from '../../models/spec';
import type { PretextModel } from '../encoders/model';
import type { ParamStore } from '../encoders/params';
import { NTXentLoss } from '../losses/ntXent';
import { VICRegLoss } from '../losses/vicreg';
import type { Rng } from '../rng';
import { buildSpec, checkTemperature, modelInputs, unsupportedEncoder } from './common';
import { addProjection, project } from './heads';
import type { Example, HostBatch, LossOptions, Modality, ModelSizing, PretextTask, TaskOptions, TaskSetup } from './types';

export abstract class ContrastiveTask implements PretextTask {
  readonly pretext = 'CONTRASTIVE' as const;
  abstract readonly modality: Modality;
  abstract readonly encoderKinds: readonly EncoderKind[];
  readonly ntXent: NTXentLoss;
  readonly vicreg: VICRegLoss | null;
  readonly projectionDim: number;
  readonly spatialEmbedding: boolean;

  constructor(options: TaskOptions = {}) {
    this.ntXent = new NTXentLoss({ temperature: checkTemperature(options.temperature ?? 0.5) });
    const objective = options.objective ?? 'infonce';
    if (objective !== 'infonce' && objective !== 'vicreg') throw new Error(`Unsupported objective: "${String(objective)}". Should be one of: infonce, vicreg.`);
    this.vicreg = objective === 'vicreg' ? new VICRegLoss() : null;
    this.projectionDim = options.projectionDim ?? 64;
    this.spatialEmbedding = options.spatialEmbedding ?? false;
    if (!Number.isInteger(this.projectionDim) || this.projectionDim < 1) throw new Error(`projectionDim must be a positive integer; got ${this.projectionDim}.`);
  }

  protected abstract input(setup: Omit<TaskSetup, 'spec'>): InputSpec;
  /** Two independently augmented views of every example, under keys prefixed `a.` and `b.`. */
  protected abstract views(examples: readonly Example[], rng: Rng, setup: TaskSetup): HostBatch;
  abstract embedInputs(examples: readonly Example[], setup: TaskSetup): HostBatch;

  modelSpec(kind: EncoderKind, setup: Omit<TaskSetup, 'spec'>, sizing: ModelSizing): ModelSpec {
    if (!this.encoderKinds.includes(kind)) throw unsupportedEncoder(this.pretext, this.modality, kind, this.encoderKinds);
    return buildSpec(this.input(setup), kind, sizing, 'bidirectional', { spatialEmbedding: this.spatialEmbedding });
  }

  addHeads(heads: ParamStore, setup: TaskSetup): void {
    addProjection(heads, embeddingDim(setup.spec), this.projectionDim);
  }

  prepare(examples: readonly Example[], rng: Rng, setup: TaskSetup): HostBatch {
    if (examples.length < 2) throw new Error(`Contrastive training needs at least 2 examples per batch (the others are the negatives); got ${examples.length}. Increase batchSize or add rows.`);
    return this.views(examples, rng, setup);
  }

  loss(model: PretextModel, heads: ParamStore, batch: HostBatch, options: LossOptions): tf.Scalar {
    return tf.tidy(() => {
      const za = project(heads, model.apply(modelInputs(batch, 'a.'), { ...options, head: false }).pooled);
      const zb = project(heads, model.apply(modelInputs(batch, 'b.'), { ...options, head: false }).pooled);
      return this.vicreg ? this.vicreg.call(za, zb) : this.ntXent.call(za, zb);
    });
  }

  embed(model: PretextModel, _heads: ParamStore, batch: HostBatch): tf.Tensor2D {
    return tf.tidy(() => model.apply(modelInputs(batch), { training: false, head: false }).embedding);
  }
}
