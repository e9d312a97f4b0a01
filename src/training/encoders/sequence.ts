/**
 * Sequence encoder over values [B,T,F]: a temporal conv1d stack (`encoder/conv{i}`, each + activation + dropout;
 * causal/same/valid padding, dilation) then an optional GRU (`encoder/gru`). Output: all positions [B,T',D].
 */
import type { tf } from '../engine/tf';
import { sequenceFeatureShape, type SequenceEncoderSpec, type SequenceInputSpec } from '../../models/spec';
import type { ParamStore } from './params';
import type { ApplyContext, Encoder, EncoderResult, ModelInputs } from './types';
import { addConv1d, conv1d } from './layers/conv';
import { activate, dropout } from './layers/activations';
import { addGru, gru } from './layers/gru';
import { requireInput } from './inputs';

export class SequenceEncoder implements Encoder {
  constructor(
    private readonly store: ParamStore,
    input: SequenceInputSpec,
    private readonly spec: SequenceEncoderSpec,
  ) {
    let c = sequenceFeatureShape(input).features;
    spec.conv.forEach((layer, i) => {
      addConv1d(store, `encoder/conv${i}`, layer.kernelSize, c, layer.filters);
      c = layer.filters;
    });
    if (spec.gru) addGru(store, 'encoder/gru', c, spec.gru.units);
  }

  apply(inputs: ModelInputs, ctx: ApplyContext): EncoderResult {
    let x = requireInput(inputs.values, 'values');
    this.spec.conv.forEach((layer, i) => {
      const y = activate(conv1d(this.store, `encoder/conv${i}`, x, layer.dilation, layer.padding), layer.activation);
      x = dropout(y, this.spec.dropout, ctx.training, ctx.rng) as tf.Tensor3D;
    });
    if (this.spec.gru) x = gru(this.store, 'encoder/gru', x);
    return { sequence: x, mask: null };
  }
}
