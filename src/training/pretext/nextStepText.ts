import { tf } from '../engine/tf';
import { sequenceDim, type EncoderKind } from '../../models/spec';
import type { PretextModel } from '../encoders/model';
import type { ParamStore } from '../encoders/params';
import { maskedSoftmaxCrossEntropy } from '../losses/maskedCrossEntropy';
import { IGNORE_INDEX } from '../labels';
import type { Rng } from '../rng';
import { buildSpec, ensureKind, host, requireSequence, toTensor, unsupportedEncoder } from './common';
import { addLinear, embedTokens, linear } from './heads';
import { packTokens, textSetup } from './text';
import type { Example, HostBatch, LossOptions, ModelSizing, PretextTask, TaskSetup } from './types';

/**
 * NEXT_STEP × TEXT: causal language modelling, CE of token t + 1 given tokens ≤ t. The spec's transformer attends
 * in both directions, so this task embeds tokens itself (`task/embed`, a one-hot matmul) and feeds the vectors to a
 * causal conv+GRU sequence encoder; padding positions carry no loss.
 */
export class NextStepTextTask implements PretextTask {
  readonly pretext = 'NEXT_STEP' as const;
  readonly modality = 'TEXT' as const;
  readonly encoderKinds: readonly EncoderKind[] = ['sequence'];

  modelSpec(kind: EncoderKind, setup: Omit<TaskSetup, 'spec'>, sizing: ModelSizing) {
    if (!this.encoderKinds.includes(kind)) {
      throw unsupportedEncoder(this.pretext, this.modality, kind, this.encoderKinds);
    }
    const { maxLength } = textSetup(setup);
    return buildSpec({ kind: 'sequence', length: maxLength, features: sizing.dim }, kind, sizing, 'causal');
  }

  addHeads(heads: ParamStore, setup: TaskSetup): void {
    const { tokenizer } = textSetup(setup);
    const input = setup.spec.input;
    if (input.kind !== 'sequence') throw new Error('NEXT_STEP × TEXT expects the sequence spec built by its modelSpec().');
    heads.add('task/embed', [tokenizer.vocabSize, input.features], { kind: 'normal', std: 0.02 });
    addLinear(heads, 'task/lm', sequenceDim(setup.spec) as number, tokenizer.vocabSize);
  }

  prepare(examples: readonly Example[], _rng: Rng, setup: TaskSetup): HostBatch {
    const { tokenizer, maxLength } = textSetup(setup);
    const texts = ensureKind(examples, 'TEXT');
    const batch = packTokens(tokenizer, texts.map((e) => e.ids), maxLength);
    const ids = batch.inputIds!.data;
    const mask = batch.attentionMask!.data;
    const labels = new Int32Array(ids.length).fill(IGNORE_INDEX);
    for (let r = 0; r < texts.length; r++) {
      for (let t = 0; t + 1 < maxLength; t++) {
        const j = r * maxLength + t;
        if (mask[j + 1]) labels[j] = ids[j + 1]!;
      }
    }
    return { ...batch, labels: host(labels, [texts.length, maxLength]) };
  }

  private encode(model: PretextModel, heads: ParamStore, batch: HostBatch, options: LossOptions) {
    const values = embedTokens(heads, 'task/embed', toTensor(batch.inputIds, 'inputIds') as tf.Tensor2D);
    return model.apply({ values }, { ...options, head: false });
  }

  loss(model: PretextModel, heads: ParamStore, batch: HostBatch, options: LossOptions): tf.Scalar {
    return tf.tidy(() => {
      const seq = requireSequence(model, this.encode(model, heads, batch, options), 'Next-token prediction');
      return maskedSoftmaxCrossEntropy(linear(heads, 'task/lm', seq), toTensor(batch.labels, 'labels'));
    });
  }

  embedInputs(examples: readonly Example[], setup: TaskSetup): HostBatch {
    const { tokenizer, maxLength } = textSetup(setup);
    return packTokens(tokenizer, ensureKind(examples, 'TEXT').map((e) => e.ids), maxLength);
  }

  /** Mean of the causal states over real tokens (the GRU's last state would read padding). */
  embed(model: PretextModel, heads: ParamStore, batch: HostBatch): tf.Tensor2D {
    return tf.tidy(() => {
      const seq = requireSequence(model, this.encode(model, heads, batch, { training: false }), 'Next-token prediction');
      const m = tf.expandDims(toTensor(batch.attentionMask, 'attentionMask').toFloat(), -1);
      return tf.div(tf.sum(tf.mul(seq, m), 1), tf.maximum(tf.sum(m, 1), 1)) as tf.Tensor2D;
    });
  }
}
