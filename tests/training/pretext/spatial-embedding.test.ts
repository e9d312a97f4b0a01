// CONTRASTIVE spatialEmbedding: the encoder ends in one 'valid' conv spanning its whole output map, so the pooled
// embedding is a dense layer over the flattened map (positions kept). Off by default.
import { tf } from '../../../src/training/engine/tf';
import { useBackend } from '../../../src/training/trainer/backend';
import { getPretextTask } from '../../../src/training/pretext';
import { buildModel } from '../../../src/training/encoders';
import { embeddingDim } from '../../../src/models/spec';
import type { RowShape } from '../../../src/ingest/types';

beforeAll(async () => {
  await useBackend('wasm');
});

const image: RowShape = { modality: 'IMAGE', height: 28, width: 28, channels: 1 };
const sequence: RowShape = { modality: 'SEQUENCE', length: 28, features: 28 };

test('IMAGE: a narrow trunk, then a 7x7 valid conv to 1x1xdim; the model embeds to [B, dim]', () => {
  const spec = getPretextTask('CONTRASTIVE', 'IMAGE', { spatialEmbedding: true }).modelSpec('cnn', { shape: image }, { dim: 128, layers: 1 });
  if (spec.encoder.kind !== 'cnn') throw new Error('expected a cnn');
  expect(spec.encoder.blocks.map((b) => (b.type === 'conv' ? [b.filters, b.kernelSize, b.stride, b.padding] : b.type))).toEqual([
    [16, 3, 1, 'same'], [32, 3, 2, 'same'], [32, 3, 2, 'same'], [128, 7, 1, 'valid'],
  ]);
  expect(embeddingDim(spec)).toBe(128);
  const model = buildModel(spec, { seed: 1 });
  const out = tf.tidy(() => model.apply({ pixels: tf.randomUniform([2, 28, 28, 1], 0, 255) as tf.Tensor4D }).embedding.shape);
  model.dispose();
  expect(out).toEqual([2, 128]);
});

test('SEQUENCE: same-length convs, then a conv spanning all 28 steps; default stays mean-pooled', () => {
  const spatial = getPretextTask('CONTRASTIVE', 'SEQUENCE', { spatialEmbedding: true }).modelSpec('sequence', { shape: sequence }, { dim: 64, layers: 1 });
  if (spatial.encoder.kind !== 'sequence') throw new Error('expected a sequence encoder');
  expect(spatial.encoder.conv.map((c) => [c.filters, c.kernelSize, c.padding])).toEqual([[32, 5, 'same'], [32, 3, 'same'], [64, 28, 'valid']]);
  const model = buildModel(spatial, { seed: 1 });
  const shape = tf.tidy(() => model.apply({ values: tf.randomNormal([3, 28, 28]) as tf.Tensor3D }).embedding.shape);
  model.dispose();
  expect(shape).toEqual([3, 64]);
  const pooled = getPretextTask('CONTRASTIVE', 'SEQUENCE').modelSpec('sequence', { shape: sequence }, { dim: 64, layers: 1 });
  if (pooled.encoder.kind !== 'sequence') throw new Error('expected a sequence encoder');
  expect(pooled.encoder.conv.map((c) => c.padding)).toEqual(['same', 'same']);
});
