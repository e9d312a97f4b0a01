/**
 * Shared types of the tfjs model implementation.
 *
 * Inputs by input kind (see src/models/spec.ts):
 *   tokens:   { inputIds: int32 [B,T], attentionMask?: [B,T] (1 real / 0 pad; default: inputIds != padId) }
 *   image:    { pixels: float32 [B,H,W,C], raw 0..255 (the model scales them) }
 *   sequence: { values: float32 [B,T,F] }
 */
import type { tf } from '../engine/tf';

export interface ModelInputs {
  inputIds?: tf.Tensor2D;
  attentionMask?: tf.Tensor2D;
  pixels?: tf.Tensor4D;
  values?: tf.Tensor3D;
}

export interface ApplyOptions {
  /** Training mode: dropout on, batch norm uses batch statistics and updates its running stats. */
  training?: boolean;
  /** Source of dropout seeds (e.g. makeRng(seed)); unseeded when absent. */
  rng?: () => number;
  /** Run the spec's head (default: true when the spec has one). */
  head?: boolean;
}

export interface ApplyContext {
  training: boolean;
  rng?: () => number;
}

export interface ModelOutputs {
  /** Per-position features [B,T,D] (CNN: the final feature map flattened to T = H'·W'); absent for the MLP. */
  sequence?: tf.Tensor3D;
  /** Float mask [B,T] for `sequence` (tokens only; null when every position is real). */
  mask: tf.Tensor2D | null;
  /** Pooled representation [B,D] before L2 normalization; projection/classifier/regressor heads read this. */
  pooled: tf.Tensor2D;
  /** `pooled`, L2-normalized when spec.normalize: what the platform serves as the embedding. */
  embedding: tf.Tensor2D;
  /** Head output: projection [B,P], classifier logits [B,K], regressor [B,R], vocab logits [B,T,V], frames [B,T,F]. */
  head?: tf.Tensor;
}

export interface EncoderResult {
  sequence?: tf.Tensor3D;
  mask: tf.Tensor2D | null;
  /** Set by encoders that pool internally (the MLP). */
  pooled?: tf.Tensor2D;
}

export interface Encoder {
  apply(inputs: ModelInputs, ctx: ApplyContext): EncoderResult;
}
