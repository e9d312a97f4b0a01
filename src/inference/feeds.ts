/**
 * Packs prepared rows into the exported graph's input tensors (names and layouts: src/models/onnx/export.ts).
 *   tokens:   input_ids / attention_mask int64 [B, T], T = the batch's longest row; shorter rows are padded with
 *             padId and mask 0, which the graph's mask-aware attention and pooling ignore.
 *   image:    pixels float32 [B, H, W, C], raw 0..255.
 *   sequence: values float32 [B, T, F].
 */
import type { InputSpec } from '../models/spec';
import type { FeedTensor } from './onnx';
import type { PreparedRow } from './preprocess';

export function packFeeds(spec: InputSpec, rows: readonly PreparedRow[]): Record<string, FeedTensor> {
  const b = rows.length;
  switch (spec.kind) {
    case 'tokens': {
      let t = 1;
      for (const r of rows) if (r.kind === 'tokens') t = Math.max(t, r.ids.length);
      const ids = new Int32Array(b * t).fill(spec.padId);
      const mask = new Int32Array(b * t);
      rows.forEach((r, i) => {
        if (r.kind !== 'tokens') throw new Error(`row ${i} is ${r.kind}, the model takes tokens`);
        ids.set(r.ids, i * t);
        mask.fill(1, i * t, i * t + r.ids.length);
      });
      return { input_ids: { type: 'int64', data: ids, dims: [b, t] }, attention_mask: { type: 'int64', data: mask, dims: [b, t] } };
    }
    case 'image': {
      const size = spec.height * spec.width * spec.channels;
      const data = new Float32Array(b * size);
      rows.forEach((r, i) => {
        if (r.kind !== 'image') throw new Error(`row ${i} is ${r.kind}, the model takes image`);
        data.set(r.pixels, i * size);
      });
      return { pixels: { type: 'float32', data, dims: [b, spec.height, spec.width, spec.channels] } };
    }
    case 'sequence': {
      const size = spec.length * spec.features;
      const data = new Float32Array(b * size);
      rows.forEach((r, i) => {
        if (r.kind !== 'sequence') throw new Error(`row ${i} is ${r.kind}, the model takes sequence`);
        data.set(r.values, i * size);
      });
      return { values: { type: 'float32', data, dims: [b, spec.length, spec.features] } };
    }
  }
}
