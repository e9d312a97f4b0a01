/**
 * MLP encoder. Input to the first layer:
 *   image [B,H,W,C] → scaled → flattened [B, H·W·C];  sequence [B,T,F] → [B, T·F];
 *   tokens → embedding `encoder/embed/tokens` [V,E] → mask-aware mean over T → [B,E].
 * Then `encoder/dense{i}` (kernel/bias) + activation (+ dropout) for each hidden width; the last layer's output is
 * the pooled representation.
 */
import { tf } from '../engine/tf';
import { sequenceFeatureShape, type InputSpec, type MlpEncoderSpec } from '../../models/spec';
import type { ParamStore } from './params';
import type { ApplyContext, Encoder, EncoderResult, ModelInputs } from './types';
import { addDense, dense } from './layers/dense';
import { activate, dropout } from './layers/activations';
import { addEmbedding, embedMeanPooled } from './layers/embedding';
import { scalePixels } from './layers/preprocess';
import { requireInput, tokenMask } from './inputs';

export class MlpEncoder implements Encoder {
  constructor(
    private readonly store: ParamStore,
    private readonly input: InputSpec,
    private readonly spec: MlpEncoderSpec,
  ) {
    let inDim: number;
    switch (input.kind) {
      case 'tokens':
        inDim = spec.embedDim as number;
        addEmbedding(store, 'encoder/embed/tokens', input.vocabSize, inDim);
        break;
      case 'image':
        inDim = input.height * input.width * input.channels;
        break;
      case 'sequence':
        inDim = sequenceFeatureShape(input).length * sequenceFeatureShape(input).features;
        break;
    }
    const he = spec.activation === 'relu';
    spec.hidden.forEach((width, i) => {
      addDense(store, `encoder/dense${i}`, inDim, width, { he });
      inDim = width;
    });
  }

  apply(inputs: ModelInputs, ctx: ApplyContext): EncoderResult {
    let x: tf.Tensor2D;
    let mask: tf.Tensor2D | null = null;
    switch (this.input.kind) {
      case 'tokens': {
        mask = tokenMask(inputs, this.input);
        x = embedMeanPooled(this.store, 'encoder/embed/tokens', inputs.inputIds as tf.Tensor2D, mask);
        break;
      }
      case 'image': {
        const pixels = requireInput(inputs.pixels, 'pixels');
        x = tf.reshape(scalePixels(pixels, this.input), [pixels.shape[0], -1]);
        break;
      }
      case 'sequence': {
        const values = requireInput(inputs.values, 'values');
        x = tf.reshape(values, [values.shape[0], -1]);
        break;
      }
    }
    let h: tf.Tensor = x;
    this.spec.hidden.forEach((_, i) => {
      h = activate(dense(this.store, `encoder/dense${i}`, h), this.spec.activation);
      h = dropout(h, this.spec.dropout, ctx.training, ctx.rng);
    });
    return { mask, pooled: h as tf.Tensor2D };
  }
}
