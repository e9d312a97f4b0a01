// FINETUNE checkpoints and resume, in one process with real tfjs steps and real checkpoint files: a FULL fine-tune
// (augmented views, early-stopping validation) is crashed after a checkpoint, then run again on the same store; it
// resumes at the checkpoint's step and ends with the weights and evaluation of a run that was never interrupted.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fineTune, type FineTuneOptions } from '../../../src/training/finetune';
import { buildModel } from '../../../src/training/encoders';
import { DirectoryCheckpointStore } from '../../../src/training/trainer/checkpoint';
import { defaultSpec } from '../../../src/models/spec';
import { tinySequences } from '../data/fixtures';

jest.setTimeout(60_000);

const CRASH = new Error('simulated crash of the trainer');

describe('fine-tune checkpoints', () => {
  let dir: string;
  let options: FineTuneOptions;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-ckpt-'));
    const { rows } = tinySequences(60, 4);
    const split = rows.map((r, i) => ({ ...r, split: i % 5 === 4 ? ('test' as const) : ('train' as const) }));
    const spec = defaultSpec('sequence', 'sequence', { length: 16, features: 2, dim: 8 });
    const base = buildModel(spec, { seed: 9 });
    const weights = base.getWeights();
    base.dispose();
    options = {
      base: { spec, weights },
      rows: split,
      task: 'CLASSIFICATION',
      mode: 'FULL',
      // 48 train rows − 25 % validation = 36 → 5 steps an epoch, 4 epochs = 20 steps; validation at every epoch.
      hyperparameters: { epochs: 4, minSteps: 0, maxSteps: 100, batchSize: 8, learningRate: 0.01, augment: true, validationFraction: 0.25, patience: 10 },
      seed: 3,
      backend: 'wasm',
    };
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a run crashed after a checkpoint resumes there and ends as the uninterrupted run did', async () => {
    const straight = await fineTune(options);
    expect(straight.steps).toBe(20);

    const store = new DirectoryCheckpointStore(path.join(dir, 'run'));
    const saved: number[] = [];
    const checkpoints = { store, every: 3, onSave: (step: number) => void saved.push(step) };
    await expect(
      fineTune({ ...options, checkpoints, onStep: (step) => { if (step === 11) throw CRASH; } }),
    ).rejects.toBe(CRASH);
    expect(saved).toEqual([3, 6, 9]);
    const latest = await store.latest();
    expect(latest).toMatchObject({ step: 9, heads: {} });
    expect(latest!.optimizer.step).toBe(9);
    expect(latest!.fineTune?.augmentRng).not.toBeNull();
    expect(latest!.fineTune?.bestWeights).not.toBeNull(); // validated after epoch 1 (step 5)

    const logs: string[] = [];
    const stepsSeen: number[] = [];
    const resumed = await fineTune({ ...options, checkpoints, onLog: (m) => logs.push(m), onStep: (step) => void stepsSeen.push(step) });
    expect(logs.some((m) => /Resuming fine-tuning from checkpoint step 9 of 20/.test(m))).toBe(true);
    expect(stepsSeen[0]).toBe(10);
    expect(resumed.steps).toBe(straight.steps);
    expect(saved).toEqual([3, 6, 9, 12, 15, 18]);

    let worst = 0;
    for (const [name, w] of Object.entries(straight.weights)) {
      const other = resumed.weights[name]!;
      expect(other.shape).toEqual(w.shape);
      for (let i = 0; i < w.data.length; i++) worst = Math.max(worst, Math.abs(w.data[i]! - other.data[i]!));
    }
    console.log(`fine-tune resumed at step 9 of 20: max |weight diff| vs uninterrupted ${worst.toExponential(2)} over ${Object.keys(straight.weights).length} tensors`);
    expect(worst).toBeLessThan(1e-6);
    expect(resumed.evaluation).toEqual(straight.evaluation);
  });

  test('a checkpoint written under other settings is refused, not silently mixed in', async () => {
    const store = new DirectoryCheckpointStore(path.join(dir, 'other'));
    await expect(fineTune({ ...options, checkpoints: { store, every: 4 }, onStep: (s) => { if (s === 5) throw CRASH; } })).rejects.toBe(CRASH);
    await expect(
      fineTune({ ...options, hyperparameters: { ...options.hyperparameters, learningRate: 0.02 }, checkpoints: { store, every: 4 } }),
    ).rejects.toThrow(/written with different settings/);
  });
});
