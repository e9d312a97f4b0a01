import { tf } from '../engine/tf';
import { embeddingDim, sequenceDim, type EncoderKind } from '../../models/spec';
import type { PretextModel } from '../encoders/model';
import type { ParamStore } from '../encoders/params';
import { maskTokens } from '../augment/maskTokens';
import { maskedSoftmaxCrossEntropy } from '../losses/maskedCrossEntropy';
import { IGNORE_INDEX } from '../labels';
import type { Rng } from '../rng';
import { buildSpec, checkRatio, ensureKind, host, modelInputs, requireSequence, toTensor, tokensInput, unsupportedEncoder } from './common';
import { addLinear, linear } from './heads';
import { packTokens, textSetup } from './text';
import type { Example, HostBatch, LossOptions, ModelSizing, PretextTask, TaskOptions, TaskSetup } from './types';

/**
 * MASKED × TEXT: BERT masked language modelling. 15 % of the word pieces (never [CLS]/[PAD]) are selected; of those
 * 80 % become [MASK], 10 % a random token, 10 % stay; the model predicts the originals (softmax CE over the vocabulary).
 */
export class MaskedTextTask implements PretextTask {
  readonly pretext = 'MASKED' as const;
  readonly modality = 'TEXT' as const;
  readonly encoderKinds: readonly EncoderKind[] = ['transformer'];
  readonly maskRatio: number;

  constructor(options: TaskOptions = {}) {
    this.maskRatio = checkRatio('maskRatio', options.maskRatio ?? 0.15, 'BERT uses 0.15.');
  }

  modelSpec(kind: EncoderKind, setup: Omit<TaskSetup, 'spec'>, sizing: ModelSizing) {
    if (!this.encoderKinds.includes(kind)) throw unsupportedEncoder(this.pretext, this.modality, kind, this.encoderKinds);
    return buildSpec(tokensInput(setup), kind, sizing, 'bidirectional');
  }

  addHeads(heads: ParamStore, setup: TaskSetup): void {
    const { tokenizer } = textSetup(setup);
    addLinear(heads, 'task/mlm', sequenceDim(setup.spec) ?? embeddingDim(setup.spec), tokenizer.vocabSize);
  }

  prepare(examples: readonly Example[], rng: Rng, setup: TaskSetup): HostBatch {
    const { tokenizer, maxLength } = textSetup(setup);
    const texts = ensureKind(examples, 'TEXT');
    const inputs: Int32Array[] = [];
    const labels = new Int32Array(texts.length * maxLength).fill(IGNORE_INDEX);
    texts.forEach((e, r) => {
      const ids = e.ids.subarray(0, maxLength - 1);
      const m = maskTokens(ids, rng, { ratio: this.maskRatio, maskId: tokenizer.maskId, vocabSize: tokenizer.vocabSize, specialIds: tokenizer.specialIds });
      inputs.push(m.input);
      // Position 0 is [CLS]; piece i sits at position i + 1.
      labels.set(m.labels, r * maxLength + 1);
    });
    return { ...packTokens(tokenizer, inputs, maxLength), labels: host(labels, [texts.length, maxLength]) };
  }

  loss(model: PretextModel, heads: ParamStore, batch: HostBatch, options: LossOptions): tf.Scalar {
    return tf.tidy(() => {
      const out = model.apply(modelInputs(batch), { ...options, head: false });
      const logits = linear(heads, 'task/mlm', requireSequence(model, out, 'Masked language modelling'));
      return maskedSoftmaxCrossEntropy(logits, toTensor(batch.labels, 'labels'));
    });
  }

  embedInputs(examples: readonly Example[], setup: TaskSetup): HostBatch {
    const { tokenizer, maxLength } = textSetup(setup);
    return packTokens(tokenizer, ensureKind(examples, 'TEXT').map((e) => e.ids), maxLength);
  }

  embed(model: PretextModel, _heads: ParamStore, batch: HostBatch): tf.Tensor2D {
    return tf.tidy(() => model.apply(modelInputs(batch), { training: false, head: false }).embedding);
  }
}
