// Label-preserving augmentation for FULL fine-tuning: with a few hundred labels the encoder overfits them within a
// few epochs, and mild views of each labeled example (the same families the contrastive pretext uses, weaker) act as
// more labels. Applied per batch to copies; the prepared inputs are never changed.
//   image:    random resized crop (area 60-100 %), horizontal flip
//   sequence: per-feature magnitude scaling (σ 0.1) and jitter (σ 0.03 of each feature's spread)
//   tokens:   word-piece dropout: 10 % of the real tokens after [CLS] are masked out of attention
import { horizontalFlip, jitter, randomResizedCrop, scaling } from '../augment';
import type { ModelInputs } from '../encoders/types';
import type { Rng } from '../rng';
import { gatherHost, toModelInputs, type PreparedInputs } from './inputs';

export function augmentedBatch(p: PreparedInputs, indices: ArrayLike<number>, rng: Rng): ModelInputs {
  const b = indices.length;
  const host = gatherHost(p, indices);
  const { size } = host;
  if (p.kind === 'tokens') {
    const mask = host.mask!;
    for (let i = 0; i < b; i++) {
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
    return toModelInputs(p, b, host);
  }
  const values = host.values!;
  for (let i = 0; i < b; i++) {
    let x: Float32Array = values.slice(i * size, (i + 1) * size);
    if (p.kind === 'image') {
      const dims = { height: p.inner[0]!, width: p.inner[1]!, channels: p.inner[2]! };
      x = horizontalFlip(randomResizedCrop(x, dims, rng, { scale: [0.6, 1] }), dims, rng, 0.5);
    } else {
      const dims = { length: p.inner[0]!, features: p.inner[1]! };
      x = jitter(scaling(x, dims, rng, 0.1), dims, rng, 0.03);
    }
    values.set(x, i * size);
  }
  return toModelInputs(p, b, host);
}
