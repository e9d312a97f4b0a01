// Self-training (src/training/finetune/self-training.ts) on small real tfjs fine-tunes: pseudo-labels come only from
// train rows outside the labeled subset, are class-balanced and capped, the held-out split is never labelled or
// trained on, and only the real labels count as labels used.
import '../../setup/realm';
import { fineTuneWithSelfTraining } from '../../../src/training/finetune/self-training';
import { useBackend } from '../../../src/training/trainer/backend';
import { assertModelSpec, type ModelSpec } from '../../../src/models/spec';
import type { Row } from '../../../src/ingest/types';
import { tinyImages } from '../data/fixtures';

beforeAll(async () => {
  await useBackend('wasm');
});

const spec: ModelSpec = assertModelSpec({
  input: { kind: 'image', height: 8, width: 8, channels: 1, mean: [0.5], std: [0.5] },
  encoder: { kind: 'cnn', blocks: [{ type: 'conv', filters: 8, kernelSize: 3, batchNorm: false }, { type: 'conv', filters: 16, kernelSize: 3, stride: 2 }] },
});

test('one round: K per class from the unlabeled pool, retrained from the base, evaluated on the held-out split', async () => {
  const rows: Row[] = tinyImages(120, 2).rows.map((r, i) => ({ ...r, split: i % 4 === 3 ? 'test' : 'train' }));
  const logs: string[] = [];
  const r = await fineTuneWithSelfTraining(
    { base: null, spec, rows, task: 'CLASSIFICATION', mode: 'FULL', labelsPerClass: 3, seed: 1, backend: 'wasm', hyperparameters: { maxSteps: 20, minSteps: 10, epochs: 2 }, onLog: (m) => logs.push(m) },
    { perClassMultiplier: 4 },
  );
  const classes = new Set(rows.filter((x) => x.split === 'train').map((x) => x.label)).size;
  expect(r.labels!.length).toBeGreaterThanOrEqual(classes);
  expect(r.labeledRows).toHaveLength(3 * classes);
  expect(r.labeledRows.every((x) => x.split === 'train')).toBe(true);
  const [round] = r.selfTraining.rounds;
  const trainRows = rows.filter((x) => x.split === 'train').length;
  expect(round!.pool).toBe(trainRows - 3 * classes);
  // At most K = 4 × 3 per class; the trained set is the real labels plus the pseudo-labels.
  expect(round!.pseudoLabels).toBeGreaterThan(0);
  expect(round!.pseudoLabels).toBeLessThanOrEqual(12 * classes);
  expect(r.trainSize).toBe(3 * classes + round!.pseudoLabels);
  expect(round!.meanConfidence).toBeGreaterThan(1 / classes);
  expect(r.evaluation?.task).toBe('CLASSIFICATION');
  expect(r.evaluation!.testSize).toBe(rows.filter((x) => x.split === 'test').length);
  expect(logs.some((m) => /Self-training round 1/.test(m))).toBe(true);
});

test('refuses what it cannot do', async () => {
  const rows: Row[] = tinyImages(20, 2).rows;
  await expect(fineTuneWithSelfTraining({ base: null, spec, rows, task: 'REGRESSION', mode: 'FULL' })).rejects.toThrow(/FULL CLASSIFICATION/);
  await expect(fineTuneWithSelfTraining({ base: null, spec, rows, task: 'CLASSIFICATION', mode: 'LINEAR_PROBE' })).rejects.toThrow(/FULL CLASSIFICATION/);
});
