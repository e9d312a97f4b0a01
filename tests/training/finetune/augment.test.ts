// Fine-tuning augmentation: label-preserving views of a batch, reproducible from the seed, never touching the
// prepared inputs; accepted only by FULL fine-tuning, where it trains on the views.
import '../../setup/realm';
import { fineTune, prepareInputs } from '../../../src/training/finetune';
import { augmentedBatch } from '../../../src/training/finetune/augment';
import { useBackend } from '../../../src/training/trainer/backend';
import { assertModelSpec } from '../../../src/models/spec';
import { createRng } from '../../../src/training/rng';
import { tf } from '../../../src/training/engine/tf';
import { tinyImages, tinySequences } from '../data/fixtures';

beforeAll(async () => {
  await useBackend('wasm');
});

const imageSpec = assertModelSpec({
  input: { kind: 'image', height: 8, width: 8, channels: 1 },
  encoder: { kind: 'cnn', blocks: [{ type: 'conv', filters: 8, kernelSize: 3, batchNorm: false }] },
});

test('image and sequence views keep the shape, differ from the rows, repeat with the seed and leave the inputs intact', async () => {
  const images = await prepareInputs(tinyImages(8, 3).rows, imageSpec.input);
  const before = images.values!.slice();
  const view = async (seed: number) => {
    const b = augmentedBatch(images, [0, 1, 2, 3], createRng(seed, 'aug'));
    const data = (await b.pixels!.data()) as Float32Array;
    expect(b.pixels!.shape).toEqual([4, 8, 8, 1]);
    tf.dispose(Object.values(b));
    return data;
  };
  const a = await view(1);
  expect(Array.from(await view(1))).toEqual(Array.from(a));
  expect(Array.from(a)).not.toEqual(Array.from(before.subarray(0, 4 * 64)));
  expect(Array.from(images.values!)).toEqual(Array.from(before));

  const seqSpec = assertModelSpec({ input: { kind: 'sequence', length: 16, features: 2 }, encoder: { kind: 'sequence', conv: [{ filters: 4, kernelSize: 3 }] } });
  const seqs = await prepareInputs(tinySequences(4, 2).rows, seqSpec.input);
  const s = augmentedBatch(seqs, [0, 1], createRng(1, 'aug'));
  const got = (await s.values!.data()) as Float32Array;
  expect(s.values!.shape).toEqual([2, 16, 2]);
  let moved = 0;
  for (let i = 0; i < got.length; i++) moved = Math.max(moved, Math.abs(got[i]! - seqs.values![i]!));
  expect(moved).toBeGreaterThan(0);
  expect(moved).toBeLessThan(5); // mild: scaling σ 0.1 and jitter σ 0.03 of the spread
  tf.dispose(Object.values(s));
});

test('token views drop word pieces from attention but keep [CLS] and at least one other token', () => {
  const n = 50;
  const size = 6;
  const mask = new Int32Array(n * size);
  for (let i = 0; i < n; i++) for (let t = 0; t < (i % 2 ? 2 : size); t++) mask[i * size + t] = 1;
  const ids = Int32Array.from(mask, (m, k) => (m ? 5 + (k % size) : 0));
  const p = { kind: 'tokens' as const, n, inner: [size], ids, mask };
  const b = augmentedBatch(p, Array.from({ length: n }, (_, i) => i), createRng(4, 'aug'));
  const out = b.attentionMask!.dataSync();
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    expect(out[i * size]).toBe(1);
    let kept = 0;
    for (let t = 1; t < size; t++) {
      expect(out[i * size + t]! <= mask[i * size + t]!).toBe(true);
      kept += out[i * size + t]!;
      dropped += mask[i * size + t]! - out[i * size + t]!;
    }
    expect(kept).toBeGreaterThanOrEqual(1);
  }
  expect(dropped).toBeGreaterThan(0);
  expect(Array.from(b.inputIds!.dataSync())).toEqual(Array.from(ids));
  tf.dispose(Object.values(b));
});

test('FULL fine-tuning trains on the views (a different model than without); other modes refuse augment', async () => {
  const rows = tinyImages(96, 2).rows.map((r, i) => ({ ...r, split: i % 3 === 2 ? ('test' as const) : ('train' as const) }));
  const common = { base: null, spec: imageSpec, rows, task: 'CLASSIFICATION' as const, mode: 'FULL' as const, seed: 1 };
  const plain = await fineTune({ ...common, hyperparameters: { epochs: 2, minSteps: 0, batchSize: 16 } });
  const aug = await fineTune({ ...common, hyperparameters: { epochs: 2, minSteps: 0, batchSize: 16, augment: true } });
  const again = await fineTune({ ...common, hyperparameters: { epochs: 2, minSteps: 0, batchSize: 16, augment: true } });
  const k = 'head/out/kernel';
  expect(Array.from(aug.weights[k]!.data)).not.toEqual(Array.from(plain.weights[k]!.data));
  expect(Array.from(again.weights[k]!.data)).toEqual(Array.from(aug.weights[k]!.data));
  for (const mode of ['LINEAR_PROBE', 'MLP_HEAD'] as const) {
    await expect(fineTune({ ...common, mode, hyperparameters: { augment: true } })).rejects.toThrow(/augment needs FULL fine-tuning/);
  }
});
