// Label-preserving augmentation for FULL fine-tuning: with a few hundred labels the encoder overfits them within a
// few epochs, and mild views of each labeled example (the same families the contrastive pretext uses, weaker) act as
// more labels. Applied per batch to copies; the prepared inputs are never changed.
//   image:    random resized crop (area 60-100 %), horizontal flip
//   sequence: per-feature magnitude scaling (σ 0.1) and jitter (σ 0.03 of each feature's spread)
//   tokens:   word-piece dropout: 10 % of the real tokens after [CLS] are masked out of attention
import { tf } from '../engine/tf';
import { horizontalFlip, jitter, randomResizedCrop, scaling } from '../augment';
import type { ModelInputs } from '../encoders/types';
import type { Rng } from '../rng';
import type { PreparedInputs } from './inputs';

export function augmentedBatch(p: PreparedInputs, indices: ArrayLike<number>, rng: Rng): ModelInputs {
  const b = indices.length;
  const size = p.inner.reduce((a, c) => a * c, 1);
  if (p.kind === 'tokens') {
    const ids = new Int32Array(b * size);
    const mask = new Int32Array(b * size);
    for (let i = 0; i < b; i++) {
      const j = indices[i]!;
      ids.set(p.ids!.subarray(j * size, (j + 1) * size), i * size);
      mask.set(p.mask!.subarray(j * size, (j + 1) * size), i * size);
      // Position 0 is [CLS]; keep it, and keep at least one other real token.
      let kept = 0;
      for (let t = 1; t < size; t++) kept += mask[i * size + t]!;
      for (let t = 1; t < size && kept > 1; t++) {
        if (mask[i * size + t] && rng.next() < 0.1) {
          mask[i * size + t] = 0;
          kept--;
        }
      }
    }
    return { inputIds: tf.tensor2d(ids, [b, size], 'int32'), attentionMask: tf.tensor2d(mask, [b, size], 'int32') };
  }
  const values = new Float32Array(b * size);
  for (let i = 0; i < b; i++) {
    const j = indices[i]!;
    let x: Float32Array = p.values!.slice(j * size, (j + 1) * size);
    if (p.kind === 'image') {
      const dims = { height: p.inner[0]!, width: p.inner[1]!, channels: p.inner[2]! };
      x = horizontalFlip(randomResizedCrop(x, dims, rng, { scale: [0.6, 1] }), dims, rng, 0.5);
    } else {
      const dims = { length: p.inner[0]!, features: p.inner[1]! };
      x = jitter(scaling(x, dims, rng, 0.1), dims, rng, 0.03);
    }
    values.set(x, i * size);
  }
  const t = tf.tensor(values, [b, ...p.inner], 'float32');
  return p.kind === 'image' ? { pixels: t as tf.Tensor4D } : { values: t as tf.Tensor3D };
}
