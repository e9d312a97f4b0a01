// Shared machinery of next-frame prediction (NEXT_STEP × SEQUENCE, and × IMAGE with rows as frames): a causal
// encoder reads frames ≤ t and a head predicts frame t + 1, by MSE or by CPC InfoNCE against the batch's frames.
import { tf } from '../engine/tf';
import { sequenceDim, type EncoderKind, type InputSpec, type ModelSpec } from '../../models/spec';
import type { PretextModel } from '../encoders/model';
import type { ParamStore } from '../encoders/params';
import { maskedMse } from '../losses/maskedMse';
import { CpcInfoNceLoss } from '../losses/cpcInfoNce';
import type { Rng } from '../rng';
import { buildSpec, checkTemperature, host, modelInputs, requireSequence, stack, toTensor, unsupportedEncoder } from './common';
import { addLinear, linear } from './heads';
import type { Example, HostBatch, LossOptions, Modality, ModelSizing, PretextTask, TaskOptions, TaskSetup } from './types';

import { NEXT_STEP_VARIANTS } from '../../contracts/pretext';

export { NEXT_STEP_VARIANTS };
/** Most (context, future) pairs one CPC batch scores against each other (M×M logits). */
const MAX_CPC_PAIRS = 256;

export abstract class NextFrameTask implements PretextTask {
  readonly pretext = 'NEXT_STEP' as const;
  abstract readonly modality: Modality;
  readonly encoderKinds: readonly EncoderKind[] = ['sequence'];
  readonly variant: 'mse' | 'cpc';
  readonly cpc: CpcInfoNceLoss | null;
  readonly projectionDim: number;

  constructor(options: TaskOptions = {}) {
    const variant = options.variant ?? 'mse';
    if (!NEXT_STEP_VARIANTS.includes(variant)) {
      throw new Error(`Unsupported variant: "${String(variant)}". Should be one of: ${NEXT_STEP_VARIANTS.join(', ')}.`);
    }
    this.variant = variant;
    this.cpc = variant === 'cpc' ? new CpcInfoNceLoss({ temperature: checkTemperature(options.temperature ?? 1) }) : null;
    this.projectionDim = options.projectionDim ?? 64;
  }

  protected abstract input(setup: Omit<TaskSetup, 'spec'>): InputSpec;
  /** Frames [T·F] of each example, in the model's units. */
  protected abstract frames(examples: readonly Example[], setup: TaskSetup): Float32Array[];

  private dims(setup: Omit<TaskSetup, 'spec'>): { T: number; F: number } {
    const input = this.input(setup);
    if (input.kind !== 'sequence') throw new Error('unreachable: next-frame tasks feed sequences');
    if (input.length < 2) throw new Error(`Next-step prediction needs sequences of at least 2 steps; got ${input.length}.`);
    return { T: input.length, F: input.features };
  }

  modelSpec(kind: EncoderKind, setup: Omit<TaskSetup, 'spec'>, sizing: ModelSizing): ModelSpec {
    if (!this.encoderKinds.includes(kind)) throw unsupportedEncoder(this.pretext, this.modality, kind, this.encoderKinds);
    return buildSpec(this.input(setup), kind, sizing, 'causal');
  }

  addHeads(heads: ParamStore, setup: TaskSetup): void {
    const d = sequenceDim(setup.spec) as number;
    const { F } = this.dims(setup);
    if (this.variant === 'mse') {
      addLinear(heads, 'task/next', d, F);
    } else {
      addLinear(heads, 'task/cpc/predict', d, this.projectionDim);
      addLinear(heads, 'task/cpc/future', F, this.projectionDim);
    }
  }

  prepare(examples: readonly Example[], rng: Rng, setup: TaskSetup): HostBatch {
    const { T, F } = this.dims(setup);
    const values = stack(this.frames(examples, setup), [T, F]);
    if (this.variant === 'mse') return { values };
    // CPC scores a random subset of (b, t) pairs; a one-hot selection matrix instead of gather keeps every backend's
    // gradients available.
    const total = examples.length * (T - 1);
    const m = Math.min(MAX_CPC_PAIRS, total);
    const picked = rng.permutation(total).subarray(0, m);
    const select = new Float32Array(m * total);
    picked.forEach((p, i) => (select[i * total + p] = 1));
    return { values, select: host(select, [m, total]) };
  }

  loss(model: PretextModel, heads: ParamStore, batch: HostBatch, options: LossOptions): tf.Scalar {
    return tf.tidy(() => {
      const values = toTensor(batch.values, 'values') as tf.Tensor3D;
      const [b, t, f] = values.shape;
      const seq = requireSequence(model, model.apply({ values }, { ...options, head: false }), 'Next-step prediction');
      const d = seq.shape[2];
      const context = tf.slice(seq, [0, 0, 0], [b, t - 1, d]);
      const future = tf.slice(values, [0, 1, 0], [b, t - 1, f]);
      if (this.variant === 'mse') return maskedMse(linear(heads, 'task/next', context), future, null);
      const select = toTensor(batch.select, 'select') as tf.Tensor2D;
      const c = tf.matMul(select, tf.reshape(context, [-1, d]) as tf.Tensor2D);
      const z = tf.matMul(select, tf.reshape(future, [-1, f]) as tf.Tensor2D);
      return this.cpc!.call(linear(heads, 'task/cpc/predict', c), linear(heads, 'task/cpc/future', z));
    });
  }

  embedInputs(examples: readonly Example[], setup: TaskSetup): HostBatch {
    const { T, F } = this.dims(setup);
    return { values: stack(this.frames(examples, setup), [T, F]) };
  }

  embed(model: PretextModel, _heads: ParamStore, batch: HostBatch): tf.Tensor2D {
    return tf.tidy(() => model.apply(modelInputs(batch), { training: false, head: false }).embedding);
  }
}
