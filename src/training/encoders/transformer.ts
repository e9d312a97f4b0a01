/**
 * Transformer encoder over tokens.
 *   x = embed(`encoder/embed/tokens` [V,D])[ids] + `encoder/embed/positions` [maxLength,D][0:T]  (→ dropout)
 *   per layer i (prefix `encoder/layer{i}`), with mask [B,T]:
 *     pre-LN:  x = x + drop(attn(LN_attn(x)));  x = x + drop(ffn(LN_ffn(x)))     and a final `encoder/final_norm`
 *     post-LN: x = LN_attn(x + drop(attn(x)));  x = LN_ffn(x + drop(ffn(x)))
 *   attn: layers/attention.ts (`.../attn/...`), LN params `.../attn_norm`, `.../ffn_norm`
 *   ffn(x) = act(x·W1 + b1)·W2 + b2  (`.../ffn/in`, `.../ffn/out`)
 * Output: sequence [B,T,D] and the float mask [B,T].
 */
import { tf } from '../engine/tf';
import type { TokensInputSpec, TransformerEncoderSpec } from '../../models/spec';
import type { ParamStore } from './params';
import type { ApplyContext, Encoder, EncoderResult, ModelInputs } from './types';
import { addDense, dense } from './layers/dense';
import { activate, dropout } from './layers/activations';
import { addEmbedding, embed } from './layers/embedding';
import { addLayerNorm, layerNorm } from './layers/layernorm';
import { addSelfAttention, selfAttention } from './layers/attention';
import { requireInput, tokenMask } from './inputs';

export class TransformerEncoder implements Encoder {
  constructor(
    private readonly store: ParamStore,
    private readonly input: TokensInputSpec,
    private readonly spec: TransformerEncoderSpec,
  ) {
    const d = spec.dModel;
    addEmbedding(store, 'encoder/embed/tokens', input.vocabSize, d);
    addEmbedding(store, 'encoder/embed/positions', input.maxLength, d);
    for (let i = 0; i < spec.numLayers; i++) {
      const p = `encoder/layer${i}`;
      addLayerNorm(store, `${p}/attn_norm`, d);
      addSelfAttention(store, `${p}/attn`, d);
      addLayerNorm(store, `${p}/ffn_norm`, d);
      addDense(store, `${p}/ffn/in`, d, spec.ffDim, { he: spec.activation === 'relu' });
      addDense(store, `${p}/ffn/out`, spec.ffDim, d);
    }
    if (spec.norm === 'pre') addLayerNorm(store, 'encoder/final_norm', d);
  }

  apply(inputs: ModelInputs, ctx: ApplyContext): EncoderResult {
    const s = this.store;
    const { spec } = this;
    const ids = requireInput(inputs.inputIds, 'inputIds');
    const t = ids.shape[1];
    if (t > this.input.maxLength) {
      throw new Error(`Token sequence length ${t} exceeds maxLength ${this.input.maxLength}; truncate inputs first`);
    }
    const mask = tokenMask(inputs, this.input);
    const positions = tf.slice(s.get('encoder/embed/positions'), [0, 0], [t, spec.dModel]);
    let x = tf.add(embed(s, 'encoder/embed/tokens', ids), positions) as tf.Tensor3D;
    const drop = (y: tf.Tensor) => dropout(y, spec.dropout, ctx.training, ctx.rng) as tf.Tensor3D;
    x = drop(x);
    const eps = spec.layerNormEpsilon;
    const attn = (p: string, y: tf.Tensor3D) =>
      selfAttention(s, `${p}/attn`, y, mask, spec.numHeads, { training: ctx.training, dropout: spec.dropout, rng: ctx.rng });
    const ffn = (p: string, y: tf.Tensor) => dense(s, `${p}/ffn/out`, activate(dense(s, `${p}/ffn/in`, y), spec.activation));
    for (let i = 0; i < spec.numLayers; i++) {
      const p = `encoder/layer${i}`;
      if (spec.norm === 'pre') {
        x = tf.add(x, drop(attn(p, layerNorm(s, `${p}/attn_norm`, x, eps) as tf.Tensor3D)));
        x = tf.add(x, drop(ffn(p, layerNorm(s, `${p}/ffn_norm`, x, eps))));
      } else {
        x = layerNorm(s, `${p}/attn_norm`, tf.add(x, drop(attn(p, x))), eps) as tf.Tensor3D;
        x = layerNorm(s, `${p}/ffn_norm`, tf.add(x, drop(ffn(p, x))), eps) as tf.Tensor3D;
      }
    }
    if (spec.norm === 'pre') x = layerNorm(s, 'encoder/final_norm', x, eps) as tf.Tensor3D;
    return { sequence: x, mask };
  }
}
