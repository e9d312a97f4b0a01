/**
 * Heads on top of the encoder.
 *   projection (contrastive): pooled [B,D] → (dense+ReLU per hidden) → dense → [B,outputDim]
 *   classifier:               pooled → (dense+ReLU)* → dense → logits [B,numClasses]
 *   regressor:                pooled → (dense+ReLU)* → dense → [B,outputDim]
 *   vocab (masked/next-token): sequence [B,T,D] → dense → logits [B,T,vocabSize]
 *   frames (reconstruction):  sequence [B,T,D] → dense → [B,T,outputDim]
 * Params: `head/hidden{i}/{kernel,bias}`, `head/out/{kernel,bias}`.
 */
import { tf } from '../engine/tf';
import { type HeadSpec, type ModelSpec, embeddingDim, headOutputDim, sequenceDim } from '../../models/spec';
import type { ParamStore } from './params';
import { addDense, dense } from './layers/dense';

export function headReadsSequence(head: HeadSpec): boolean {
  return head.kind === 'vocab' || head.kind === 'frames';
}

export function headHidden(head: HeadSpec): number[] {
  return head.kind === 'projection' || head.kind === 'classifier' || head.kind === 'regressor' ? head.hidden : [];
}

export function addHead(store: ParamStore, spec: ModelSpec, head: HeadSpec): void {
  let inDim = headReadsSequence(head) ? (sequenceDim(spec) as number) : embeddingDim(spec);
  headHidden(head).forEach((width, i) => {
    addDense(store, `head/hidden${i}`, inDim, width, { he: true });
    inDim = width;
  });
  addDense(store, 'head/out', inDim, headOutputDim(spec, head));
}

/** `features` is `sequence` [B,T,D] for vocab/frames heads, `pooled` [B,D] otherwise. */
export function applyHead(store: ParamStore, head: HeadSpec, features: tf.Tensor): tf.Tensor {
  let x = features;
  headHidden(head).forEach((_, i) => {
    x = tf.relu(dense(store, `head/hidden${i}`, x));
  });
  return dense(store, 'head/out', x);
}
