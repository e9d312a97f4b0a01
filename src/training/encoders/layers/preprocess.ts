/**
 * Image preprocessing shared with the exported graph: raw pixels 0..255 [B,H,W,C] → (x/255 - mean[c]) / std[c].
 * Kept here (not in augment/) because it is part of the model: ONNX does the same steps in-graph.
 */
import { tf } from '../../engine/tf';
import type { ImageInputSpec } from '../../../models/spec';

export function scalePixels(pixels: tf.Tensor4D, input: ImageInputSpec): tf.Tensor4D {
  const mean = tf.tensor1d(input.mean);
  const std = tf.tensor1d(input.std);
  return tf.div(tf.sub(tf.div(pixels, 255), mean), std);
}
