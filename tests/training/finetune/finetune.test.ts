// Fine-tuning: label subsets, the three modes, bad inputs, and ONNX parity of the exported encoder + head graph.
import '../../setup/realm';
import { fineTune, stratifiedSubset, randomSubset } from '../../../src/training/finetune';
import { buildModel } from '../../../src/training/encoders';
import { useBackend } from '../../../src/training/trainer/backend';
import { exportOnnx } from '../../../src/models/onnx';
import { loadSession } from '../../../src/inference/onnx';
import { tf } from '../../../src/training/engine/tf';
import { assertModelSpec, type ModelSpec } from '../../../src/models/spec';
import type { Row } from '../../../src/ingest/types';
import { MemoryCheckpointStore } from '../../../src/training/trainer/checkpoint';
import { tinyImages, tinySequences } from '../data/fixtures';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('stratified label subsets', () => {
  const labels = [...Array(100).fill('a'), ...Array(30).fill('b'), ...Array(10).fill('c'), null];

  test('per class round(f·count), at least one, deterministic and nested across fractions', () => {
    const s10 = stratifiedSubset(labels, 0.1, 7);
    const count = (s: Int32Array, l: string) => Array.from(s).filter((i) => labels[i] === l).length;
    expect([count(s10, 'a'), count(s10, 'b'), count(s10, 'c')]).toEqual([10, 3, 1]);
    expect(Array.from(stratifiedSubset(labels, 0.1, 7))).toEqual(Array.from(s10));
    expect(Array.from(stratifiedSubset(labels, 0.1, 8))).not.toEqual(Array.from(s10));
    const s50 = new Set(stratifiedSubset(labels, 0.5, 7));
    expect(Array.from(s10).every((i) => s50.has(i))).toBe(true);
    expect(stratifiedSubset(labels, 1, 7).length).toBe(140);
    expect(stratifiedSubset(labels, 0.001, 7).length).toBe(3);
    expect(randomSubset(labels, 0.5, 7).length).toBe(70);
  });

  test('rejects fractions outside (0, 1]', () => {
    expect(() => stratifiedSubset(labels, 0, 1)).toThrow(/labelFraction must be in \(0, 1\]/);
    expect(() => stratifiedSubset(labels, 1.5, 1)).toThrow(/labelFraction/);
  });
});

const imageSpec: ModelSpec = assertModelSpec({
  input: { kind: 'image', height: 8, width: 8, channels: 1, mean: [0.5], std: [0.5] },
  encoder: { kind: 'cnn', blocks: [{ type: 'conv', filters: 8, kernelSize: 3, batchNorm: false }, { type: 'conv', filters: 16, kernelSize: 3, stride: 2 }] },
});

/** tinyImages with every third row in the test split. */
function imageRows(n: number): Row[] {
  return tinyImages(n, 2).rows.map((r, i) => ({ ...r, split: i % 3 === 2 ? 'test' : 'train' }));
}

async function onnxParity(spec: ModelSpec, weights: ReturnType<ReturnType<typeof buildModel>['getWeights']>, feedName: string, input: Float32Array, dims: number[], output: string) {
  const model = buildModel(spec, { seed: 0 });
  model.setWeights(weights);
  const x = tf.tensor(input, dims, 'float32');
  const out = model.apply(feedName === 'pixels' ? { pixels: x as tf.Tensor4D } : { values: x as tf.Tensor3D });
  const expected = (await out.head!.data()) as Float32Array;
  tf.dispose([x, out.head!, out.embedding, out.pooled, ...(out.sequence ? [out.sequence] : [])]);
  model.dispose();
  const session = await loadSession(exportOnnx(spec, weights, { includeHead: true }), { intraOpThreads: 1 });
  try {
    expect(session.outputNames).toEqual(['embedding', output]);
    const res = await session.run({ [feedName]: { type: 'float32', data: input, dims } });
    const got = res[output]!.data as Float32Array;
    expect(got.length).toBe(expected.length);
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
  } finally {
    await session.dispose();
  }
}

test('FULL fine-tune of a base encoder: learns, evaluates, and its one-graph ONNX export matches tfjs logits', async () => {
  const rows = imageRows(240);
  const base = buildModel(imageSpec, { seed: 3 });
  const baseWeights = base.getWeights();
  base.dispose();
  const result = await fineTune({
    base: { spec: imageSpec, weights: baseWeights }, rows, task: 'CLASSIFICATION', mode: 'FULL', seed: 1,
    hyperparameters: { epochs: 10, minSteps: 0, batchSize: 32, learningRate: 3e-3 },
  });
  expect(result.labels).toEqual(['0', '1', '2', '3']);
  expect(result.spec.head).toEqual({ kind: 'classifier', numClasses: 4, hidden: [] });
  expect(result.weights['head/out/kernel']!.shape).toEqual([16, 4]);
  // The encoder was trained, not just loaded.
  const changed = Object.keys(baseWeights).filter((n) => result.weights[n]!.data.some((v, i) => v !== baseWeights[n]!.data[i]));
  expect(changed.length).toBe(Object.keys(baseWeights).length);
  expect(result.trainSize).toBe(160);
  expect(result.steps).toBe(50);
  const ev = result.evaluation!;
  if (ev.task !== 'CLASSIFICATION') throw new Error('expected a classification evaluation');
  expect(ev.testSize).toBe(80);
  expect(ev.accuracy).toBeGreaterThan(0.5); // 4 classes: chance is 0.25
  expect(ev.confusionMatrix.flat().reduce((a, b) => a + b, 0)).toBe(80);

  const test = rows.filter((r) => r.split === 'test').slice(0, 6) as Extract<Row, { modality: 'IMAGE' }>[];
  const pixels = new Float32Array(6 * 64);
  test.forEach((r, i) => pixels.set(r.pixels, i * 64));
  await onnxParity(result.spec, result.weights, 'pixels', pixels, [6, 8, 8, 1], 'logits');
});

test('LINEAR_PROBE keeps the encoder frozen; labelFraction trains on the stratified subset', async () => {
  const rows = imageRows(240);
  const base = buildModel(imageSpec, { seed: 3 });
  const w = base.getWeights();
  base.dispose();
  const result = await fineTune({ base: { spec: imageSpec, weights: w }, rows, task: 'CLASSIFICATION', mode: 'LINEAR_PROBE', labelFraction: 0.25, seed: 2 });
  for (const [name, t] of Object.entries(w)) expect(Array.from(result.weights[name]!.data)).toEqual(Array.from(t.data));
  expect(result.trainSize).toBe(40);
  expect(result.evaluation?.task).toBe('CLASSIFICATION');
});

test('LP-FT: stage 1 fits the head on the frozen encoder, stage 2 trains the encoder at encoderLearningRateScale × the head rate', async () => {
  const rows = imageRows(240);
  const base = buildModel(imageSpec, { seed: 3 });
  const baseWeights = base.getWeights();
  base.dispose();
  const encoderNames = Object.keys(baseWeights).filter((n) => !n.startsWith('head/'));
  const trained = encoderNames.filter((n) => !/moving_(mean|variance)$/.test(n));
  expect(trained.length).toBe(encoderNames.length - 2);
  const headNames = ['head/out/kernel', 'head/out/bias'];
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
  const distance = (w: Record<string, { data: Float32Array }>, names: string[]) =>
    Math.sqrt(names.reduce((s, n) => s + w[n]!.data.reduce((t, x, i) => t + (x - baseWeights[n]!.data[i]!) ** 2, 0), 0));

  // Stage 1 on its own (what FULL runs first, same seed and subset): the encoder stays bit-identical, the head learns.
  const probe = await fineTune({ base: { spec: imageSpec, weights: baseWeights }, rows, task: 'CLASSIFICATION', mode: 'LINEAR_PROBE', seed: 1 });
  for (const n of encoderNames) expect(Array.from(probe.weights[n]!.data)).toEqual(Array.from(baseWeights[n]!.data));
  const pe = probe.evaluation!;
  expect(pe.task === 'CLASSIFICATION' && pe.accuracy).toBeGreaterThan(0.4); // chance 0.25

  // Stage 2 from that head: a checkpoint after every step shows where FULL started. The first warmup step moves each
  // weight by about its rate (Adam's first step is ±lr), 2e-4 for the head, 2e-5 for the encoder at scale 0.1.
  const run = async (encoderLearningRateScale: number, probeInit = true) => {
    const store = new MemoryCheckpointStore();
    const r = await fineTune({
      base: { spec: imageSpec, weights: baseWeights }, rows, task: 'CLASSIFICATION', mode: 'FULL', seed: 1,
      hyperparameters: { epochs: 10, minSteps: 0, batchSize: 32, learningRate: 1e-3, encoderLearningRateScale, probeInit },
      checkpoints: { store, every: 1 },
    });
    return { r, first: store.saved[0]! };
  };
  const lpft = await run(0.1);
  expect(lpft.r.steps).toBe(50); // warmup 5 steps: the first one runs at 1e-3 / 5
  for (const n of headNames) expect(maxDiff(lpft.first.weights[n]!.data, probe.weights[n]!.data)).toBeLessThan(3e-4);
  // (Batch-norm moving statistics are not the optimizer's: they track the batches in training mode at any rate.)
  for (const n of trained) expect(maxDiff(lpft.first.weights[n]!.data, baseWeights[n]!.data)).toBeLessThan(3e-5);
  // Without the probe the head starts from its random initialization, far from the probe's.
  const fresh = await run(0.1, false);
  expect(maxDiff(fresh.first.weights['head/out/kernel']!.data, probe.weights['head/out/kernel']!.data)).toBeGreaterThan(1e-2);

  // Stage 2 trains every encoder weight, the scaled-down rate moving it much less than the head's full rate does.
  for (const n of encoderNames) expect(lpft.r.weights[n]!.data.some((v, i) => v !== baseWeights[n]!.data[i])).toBe(true);
  const one = await run(1);
  expect(distance(lpft.r.weights, trained)).toBeLessThan(0.5 * distance(one.r.weights, trained));
  const ev = lpft.r.evaluation!;
  expect(ev.task === 'CLASSIFICATION' && ev.accuracy).toBeGreaterThan(0.4);

  // From scratch there are no features to preserve: the scale is ignored (bit-identical to one rate everywhere).
  const scratch = (encoderLearningRateScale: number) => fineTune({
    base: null, spec: imageSpec, rows, task: 'CLASSIFICATION', mode: 'FULL', seed: 1,
    hyperparameters: { epochs: 2, minSteps: 0, batchSize: 32, encoderLearningRateScale },
  });
  const [s1, s01] = [await scratch(1), await scratch(0.1)];
  for (const n of Object.keys(s1.weights)) expect(Array.from(s01.weights[n]!.data)).toEqual(Array.from(s1.weights[n]!.data));
  await expect(scratch(0)).rejects.toThrow(/encoderLearningRateScale must be in \(0, 1\]/);
});

test('MLP_HEAD regression on sequences from scratch: regressor head, metrics, ONNX parity, validation hold-out', async () => {
  // Target: the wave's frequency class as a number.
  const { rows: seq } = tinySequences(150, 4);
  const rows: Row[] = seq.map((r, i) => ({ ...r, split: i % 5 === 4 ? 'test' : 'train' }));
  const spec = assertModelSpec({ input: { kind: 'sequence', length: 16, features: 2 }, encoder: { kind: 'sequence', conv: [{ filters: 8, kernelSize: 3, padding: 'same' }] } });
  const logs: string[] = [];
  const result = await fineTune({
    base: null, spec, rows, task: 'REGRESSION', mode: 'MLP_HEAD', seed: 3,
    hyperparameters: { headHidden: [16], epochs: 40, batchSize: 16, learningRate: 1e-2, validationFraction: 0.2, patience: 3 },
    onLog: (m) => logs.push(m),
  });
  expect(result.spec.head).toEqual({ kind: 'regressor', outputDim: 1, hidden: [16] });
  expect(result.labels).toBeNull();
  const ev = result.evaluation!;
  if (ev.task !== 'REGRESSION') throw new Error('expected a regression evaluation');
  expect(Number.isFinite(ev.rmse) && Number.isFinite(ev.mae) && Number.isFinite(ev.r2)).toBe(true);
  expect(ev.testSize).toBe(30);
  expect(result.trainSize).toBe(96); // 120 train rows, 20 % held out for validation
  const values = new Float32Array(4 * 32);
  rows.slice(0, 4).forEach((r, i) => values.set((r as Extract<Row, { modality: 'SEQUENCE' }>).values, i * 32));
  await onnxParity(result.spec, result.weights, 'values', values, [4, 16, 2], 'predictions');
});

test('bad inputs are rejected with how to fix them', async () => {
  const rows = imageRows(24);
  await expect(fineTune({ base: null, rows, task: 'CLASSIFICATION', mode: 'LINEAR_PROBE' })).rejects.toThrow(/needs `spec`/);
  await expect(fineTune({ base: null, spec: imageSpec, rows, task: 'CLASSIFICATION', mode: 'BOGUS' as never })).rejects.toThrow(
    /Unsupported mode: "BOGUS". Should be one of: LINEAR_PROBE, MLP_HEAD, FULL\./,
  );
  await expect(fineTune({ base: null, spec: imageSpec, rows, task: 'CLASSIFICATION', mode: 'FULL', hyperparameters: { batchSize: 0 } })).rejects.toThrow(/batchSize must be an integer/);
  const named = rows.map((r) => ({ ...r, label: `shape-${r.label}` }));
  await expect(fineTune({ base: null, spec: imageSpec, rows: named, task: 'REGRESSION', mode: 'FULL' })).rejects.toThrow(/not 1 number/);
  await expect(fineTune({ base: null, spec: imageSpec, rows: named.map((r) => ({ ...r, label: 'same' })), task: 'CLASSIFICATION', mode: 'FULL' })).rejects.toThrow(/at least 2 classes/);
  const other = assertModelSpec({ ...imageSpec, encoder: { kind: 'mlp', hidden: [8] } });
  const m = buildModel(other, { seed: 1 });
  const w = m.getWeights();
  m.dispose();
  await expect(fineTune({ base: { spec: imageSpec, weights: w }, rows, task: 'CLASSIFICATION', mode: 'FULL' })).rejects.toThrow(/do not fit the encoder spec/);
});
