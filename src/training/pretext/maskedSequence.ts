import { tf } from '../engine/tf';
import { sequenceDim, sequenceFeatureShape, type EncoderKind, type SequenceInputSpec } from '../../models/spec';
import type { PretextModel } from '../encoders/model';
import type { ParamStore } from '../encoders/params';
import { maskedMse } from '../losses/maskedMse';
import type { Rng } from '../rng';
import { buildSpec, checkRatio, ensureKind, host, modelInputs, requireSequence, sequenceInput, stack, toTensor, unsupportedEncoder } from './common';
import { addLinear, linear } from './heads';
import { sequenceDims } from './sequence';
import { logmel } from '../encoders/layers/logmel';
import type { Example, HostBatch, LossOptions, ModelSizing, PretextTask, TaskOptions, TaskSetup } from './types';

/**
 * MASKED × SEQUENCE: a random share of time steps is zeroed (= the feature mean after standardization); a per-position
 * linear head reconstructs them from a non-causal conv encoder; MSE on the hidden frames only.
 * Audio (an input with a log-mel front end): the share is of log-mel frames; a hidden frame's samples are silenced in
 * the waveform the model reads, and the head reconstructs the clean clip's (normalized) log-mel frames there.
 */
export class MaskedSequenceTask implements PretextTask {
  readonly pretext = 'MASKED' as const;
  readonly modality = 'SEQUENCE' as const;
  readonly encoderKinds: readonly EncoderKind[] = ['sequence'];
  readonly maskRatio: number;

  constructor(options: TaskOptions = {}) {
    this.maskRatio = checkRatio('maskRatio', options.maskRatio ?? 0.3, 'Masked-frame modelling typically hides 0.15–0.5 of the steps.');
  }

  modelSpec(kind: EncoderKind, setup: Omit<TaskSetup, 'spec'>, sizing: ModelSizing) {
    if (!this.encoderKinds.includes(kind)) throw unsupportedEncoder(this.pretext, this.modality, kind, this.encoderKinds);
    return buildSpec(sequenceInput(setup), kind, sizing, 'bidirectional');
  }

  addHeads(heads: ParamStore, setup: TaskSetup): void {
    const input = setup.spec.input;
    const out = input.kind === 'sequence' && input.frontEnd ? sequenceFeatureShape(input).features : sequenceDims(setup).features;
    addLinear(heads, 'task/frames', sequenceDim(setup.spec) as number, out);
  }

  prepare(examples: readonly Example[], rng: Rng, setup: TaskSetup): HostBatch {
    const input = setup.spec.input;
    if (input.kind === 'sequence' && input.frontEnd) return this.prepareAudio(examples, rng, input);
    const { length: T, features: F } = sequenceDims(setup);
    const seqs = ensureKind(examples, 'SEQUENCE');
    const mask = this.drawMask(seqs.length, T, rng);
    const inputs = seqs.map((e, b) => {
      const x = e.values.slice();
      for (let t = 0; t < T; t++) if (mask[b * T + t]) x.fill(0, t * F, (t + 1) * F);
      return x;
    });
    return { values: stack(inputs, [T, F]), targets: stack(seqs.map((e) => e.values), [T, F]), mask: host(mask, [seqs.length, T]) };
  }

  /** [n × T] of 0/1: each step hidden with probability maskRatio, at least one per example (drawn example by example). */
  private drawMask(n: number, T: number, rng: Rng): Float32Array {
    const mask = new Float32Array(n * T);
    for (let b = 0; b < n; b++) {
      let any = false;
      for (let t = 0; t < T; t++) if (rng.next() < this.maskRatio) { mask[b * T + t] = 1; any = true; }
      if (!any) mask[b * T + rng.int(T)] = 1;
    }
    return mask;
  }

  /** Waveform [S] per example; frames of the front end are hidden by silencing their samples. */
  private prepareAudio(examples: readonly Example[], rng: Rng, input: SequenceInputSpec): HostBatch {
    const fe = input.frontEnd!;
    const S = input.length;
    const T = sequenceFeatureShape(input).length;
    const seqs = ensureKind(examples, 'SEQUENCE');
    const mask = this.drawMask(seqs.length, T, rng);
    const inputs = seqs.map((e, b) => {
      const x = e.values.slice();
      for (let t = 0; t < T; t++) if (mask[b * T + t]) x.fill(0, t * fe.hop, Math.min(S, t * fe.hop + fe.frameLength));
      return x;
    });
    return { values: stack(inputs, [S, 1]), clean: stack(seqs.map((e) => e.values), [S, 1]), mask: host(mask, [seqs.length, T]) };
  }

  loss(model: PretextModel, heads: ParamStore, batch: HostBatch, options: LossOptions): tf.Scalar {
    return tf.tidy(() => {
      const out = model.apply(modelInputs(batch), { ...options, head: false });
      const predictions = linear(heads, 'task/frames', requireSequence(model, out, 'Masked-frame modelling'));
      const input = model.spec.input;
      // Audio: the targets are the clean clip's log-mel frames (constants: no parameter reaches them).
      const targets = batch.clean && input.kind === 'sequence' && input.frontEnd
        ? logmel(toTensor(batch.clean, 'clean') as tf.Tensor3D, input)
        : toTensor(batch.targets, 'targets');
      return maskedMse(predictions, targets, toTensor(batch.mask, 'mask'));
    });
  }

  embedInputs(examples: readonly Example[], setup: TaskSetup): HostBatch {
    const d = sequenceDims(setup);
    return { values: stack(ensureKind(examples, 'SEQUENCE').map((e) => e.values), [d.length, d.features]) };
  }

  embed(model: PretextModel, _heads: ParamStore, batch: HostBatch): tf.Tensor2D {
    return tf.tidy(() => model.apply(modelInputs(batch), { training: false, head: false }).embedding);
  }
}
