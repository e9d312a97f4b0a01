/** Input checks and the token padding mask, shared by the encoders. */
import { tf } from '../engine/tf';
import type { TokensInputSpec } from '../../models/spec';
import type { ModelInputs } from './types';

export function requireInput<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`Missing model input "${name}"`);
  return value;
}

/** Float mask [B,T]: the given attentionMask, or inputIds != padId. */
export function tokenMask(inputs: ModelInputs, input: TokensInputSpec): tf.Tensor2D {
  if (inputs.attentionMask) return tf.cast(inputs.attentionMask, 'float32');
  const ids = requireInput(inputs.inputIds, 'inputIds');
  return tf.cast(tf.notEqual(ids, input.padId), 'float32') as tf.Tensor2D;
}
