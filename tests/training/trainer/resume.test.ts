import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  train, trainLocal, DirectoryCheckpointStore, MemoryCheckpointStore, readModelArtifacts,
  type StepMetrics, type TrainConfig,
} from '../../../src/training/trainer';
import { buildModel } from '../../../src/training/encoders';
import { tf } from '../../../src/training/engine/tf';
import { TextTokenizer } from '../../../src/training/tokenizer';
import { tinyImages, tinySequences, tinyTexts } from '../data/fixtures';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-test-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(config: TrainConfig, rows: Parameters<typeof train>[1]['data'], store?: DirectoryCheckpointStore | MemoryCheckpointStore, stopAfter?: number) {
  let steps = 0;
  const r = await train(config, { data: rows, store, callbacks: { onStep: () => { steps++; }, shouldStop: () => stopAfter !== undefined && steps >= stopAfter } });
  r.model.dispose();
  r.heads.dispose();
  return r;
}

describe('resume', () => {
  it.each([
    ['CONTRASTIVE × IMAGE (augmentation randomness, shuffled epochs)', { pretext: 'CONTRASTIVE', modality: 'IMAGE', shape: tinyImages(1).shape } as const, tinyImages(40).rows],
    ['MASKED × TEXT (tokenizer restored from the checkpoint)', { pretext: 'MASKED', modality: 'TEXT', shape: tinyTexts(1).shape } as const, tinyTexts(40).rows],
  ])('%s: a run stopped at step 5 and resumed reproduces the uninterrupted losses exactly', async (_name, base, rows) => {
    const config: TrainConfig = { ...base, batchSize: 8, epochs: 3, dim: 16, layers: 1, maxLength: 16, vocabSize: 100, backend: 'wasm', seed: 5 };
    const full = await run(config, rows);
    // A finished run leaves no tensors behind once its model and heads are disposed.
    const before = tf.memory().numTensors;
    await run(config, rows);
    expect(tf.memory().numTensors).toBe(before);
    expect(full.steps).toBe(15);
    const store = new DirectoryCheckpointStore(path.join(dir, `${base.pretext}-${base.modality}`));
    const first = await run(config, rows, store, 5);
    expect(first.stopped).toBe(true);
    expect(first.steps).toBe(5);
    const second = await run(config, rows, store);
    expect(second.resumedFrom).toBe(5);
    expect(second.stepsThisRun).toBe(10);
    expect(second.losses).toEqual(full.losses);
  });

  it('resumes after a crash from the last periodic checkpoint', async () => {
    const { rows, shape } = tinySequences(32);
    const config: TrainConfig = { pretext: 'NEXT_STEP', modality: 'SEQUENCE', shape, batchSize: 8, steps: 10, dim: 16, checkpointEvery: 4, backend: 'wasm', task: { variant: 'cpc' } };
    const full = await run(config, rows);
    const store = new MemoryCheckpointStore();
    const saved: number[] = [];
    await expect(train(config, {
      data: rows, store,
      callbacks: {
        onCheckpoint: ({ step }) => { saved.push(step); },
        onStep: ({ step }) => { if (step === 6) throw new Error('simulated crash'); },
      },
    })).rejects.toThrow('simulated crash');
    expect(saved).toEqual([4]);
    const resumed = await run(config, rows, store);
    expect(resumed.resumedFrom).toBe(4);
    expect(resumed.losses).toEqual(full.losses);
  });

  it('refuses to resume under different settings', async () => {
    const { rows, shape } = tinySequences(16);
    const store = new MemoryCheckpointStore();
    const config: TrainConfig = { pretext: 'MASKED', modality: 'SEQUENCE', shape, batchSize: 8, steps: 2, dim: 16, backend: 'wasm' };
    await run(config, rows, store);
    await expect(train({ ...config, learningRate: 0.1 }, { data: rows, store })).rejects.toThrow(/different training settings.*resume: false/);
    const fresh = await run({ ...config, learningRate: 0.1, resume: false }, rows, store);
    expect(fresh.resumedFrom).toBeNull();
  });
});

describe('trainLocal', () => {
  it('writes spec, weights, tokenizer and preprocess; reports metrics; evaluates kNN on labeled validation rows', async () => {
    const { rows, shape } = tinyTexts(60, 2, 4);
    const out = path.join(dir, 'local-text');
    const steps: StepMetrics[] = [];
    const result = await trainLocal({
      data: rows, shape, modality: 'TEXT', pretext: 'CONTRASTIVE', encoder: 'mlp', epochs: 2, batchSize: 8, outDir: out,
      dim: 16, maxLength: 16, vocabSize: 100, backend: 'wasm', callbacks: { onStep: (m) => { steps.push(m); } },
    });
    expect(result.backend).toBe('wasm');
    expect(result.steps).toBe(2 * Math.floor(45 / 8));
    expect(steps.length).toBe(result.steps);
    for (const m of steps) {
      expect(Number.isFinite(m.loss)).toBe(true);
      expect(m.learningRate).toBeGreaterThan(0);
      expect(m.samplesPerSecond).toBeGreaterThan(0);
    }
    expect(result.samplesPerSecond).toBeGreaterThan(0);
    expect(result.initialLoss).toBe(steps[0]!.loss);
    expect(result.finalLoss).toBe(steps[steps.length - 1]!.loss);
    expect(result.knnAccuracy).not.toBeNull();
    expect(result.knnAccuracy!).toBeGreaterThanOrEqual(0);
    expect(result.knnAccuracy!).toBeLessThanOrEqual(1);
    for (const f of ['spec.json', 'weights.json', 'weights.bin', 'tokenizer.json', 'preprocess.json']) expect(fs.existsSync(path.join(result.outputDir, f))).toBe(true);
    const art = await readModelArtifacts(result.outputDir);
    // The written weights load into a model built from the written spec (what export / inference do).
    const model = buildModel(art.spec, { seed: 0 });
    expect(model.setWeights(art.weights)).toEqual({ missing: [], unexpected: [] });
    model.dispose();
    const tok = TextTokenizer.fromJSON(art.tokenizerJson!);
    expect(art.spec.input.kind === 'tokens' && art.spec.input.vocabSize).toBe(tok.vocabSize);
    expect(art.preprocess).toMatchObject({ modality: 'TEXT', pretext: 'CONTRASTIVE', maxLength: 16 });
  });
});

describe('trainLocal artifacts per modality', () => {
  it('NEXT_STEP × TEXT keeps its token embedding with the heads; SEQUENCE records its standardization', async () => {
    const text = tinyTexts(16);
    const t = await trainLocal({
      data: text.rows, shape: text.shape, modality: 'TEXT', pretext: 'NEXT_STEP', epochs: 1, batchSize: 8,
      outDir: path.join(dir, 'local-next-text'), dim: 16, maxLength: 16, vocabSize: 80, backend: 'wasm',
    });
    const ta = await readModelArtifacts(t.outputDir);
    expect(ta.preprocess.tokenEmbedding).toBe('task/embed');
    const table = ta.heads?.['task/embed'];
    expect(table?.shape).toEqual([TextTokenizer.fromJSON(ta.tokenizerJson!).vocabSize, ta.spec.input.kind === 'sequence' ? ta.spec.input.features : -1]);
    const seq = tinySequences(16);
    const s = await trainLocal({
      data: seq.rows, shape: seq.shape, modality: 'SEQUENCE', pretext: 'MASKED', epochs: 1, batchSize: 8,
      outDir: path.join(dir, 'local-seq'), dim: 16, backend: 'wasm',
    });
    const sa = await readModelArtifacts(s.outputDir);
    expect(sa.preprocess.sequenceLength).toBe(16);
    expect(sa.preprocess.normalization?.mean).toHaveLength(2);
    expect(sa.preprocess.normalization?.std.every((v) => v > 0)).toBe(true);
    expect(sa.tokenizerJson).toBeUndefined();
  });
});

describe('invalid input gets a clear error', () => {
  const { rows, shape } = tinyImages(16);
  const ok: TrainConfig = { pretext: 'MASKED', modality: 'IMAGE', shape, batchSize: 8, steps: 1, dim: 16, backend: 'wasm' };
  it.each([
    ['temperature ≤ 0', { pretext: 'CONTRASTIVE', task: { temperature: 0 } }, /temperature must be a finite number > 0; got 0/],
    ['mask ratio outside (0, 1)', { task: { maskRatio: 1.2 } }, /maskRatio must be in \(0, 1\); got 1.2/],
    ['shape mismatch between data and spec', { shape: { modality: 'IMAGE', height: 28, width: 28, channels: 1 } }, /Row 0 has 64 pixel values but the shape 28×28×1 needs 784/],
    ['modality mismatch', { modality: 'TEXT' }, /config.shape.modality \(IMAGE\) must equal config.modality \(TEXT\)/],
    ['unsupported encoder', { encoder: 'transformer' }, /Unsupported encoder: "transformer" for MASKED × IMAGE. Should be one of: cnn, mlp./],
    ['bad batch size', { batchSize: 0 }, /batchSize must be an integer ≥ 1; got 0/],
    ['bad learning rate', { learningRate: -1 }, /learningRate must be a finite number > 0/],
  ] as Array<[string, Partial<TrainConfig>, RegExp]>)('%s', async (_name, patch, message) => {
    await expect(train({ ...ok, ...patch } as TrainConfig, { data: rows })).rejects.toThrow(message);
  });
  it('an empty dataset', async () => {
    await expect(train(ok, { data: [] })).rejects.toThrow(/no rows in the train split .* empty dataset/);
    await expect(train(ok, { data: rows.map((r) => ({ ...r, split: 'validation' as const })) })).rejects.toThrow(/no rows in the train split/);
  });
});
