// Data-parallel training over real worker threads (each its own tfjs-wasm engine), gradients averaged through
// shared memory. Nothing is mocked: the replicas are real threads running the real trainer.
import { train, MemoryCheckpointStore, type TrainConfig } from '../../../src/training/trainer';
import { replicaCount, shardRange } from '../../../src/training/trainer/train';
import { abortReplicas, createControl, createReplicaData, ReplicaAborted, SharedAllReduce } from '../../../src/training/parallel/allreduce';
import { tinyImages, tinySequences } from '../data/fixtures';

const flat = (w: Record<string, { data: Float32Array }>) => Object.keys(w).sort().map((k) => Array.from(w[k]!.data)).flat();

describe('data-parallel training', () => {
  it('two replicas give the same update as one process on the concatenated batch (NEXT_STEP × SEQUENCE, MSE)', async () => {
    // Next-frame MSE is a mean over examples (each shard has the same T×F), so the averaged shard gradients are the
    // full-batch gradient; the encoder has no dropout by default and the task draws no augmentation.
    const { rows, shape } = tinySequences(32);
    const config: TrainConfig = { pretext: 'NEXT_STEP', modality: 'SEQUENCE', shape, batchSize: 16, steps: 3, dim: 16, backend: 'wasm', seed: 3, warmupSteps: 0 };
    const one = await train({ ...config, workers: 1 }, { data: rows });
    const two = await train({ ...config, workers: 2 }, { data: rows });
    try {
      expect(two.steps).toBe(3);
      two.losses.forEach((l, i) => expect(l).toBeCloseTo(one.losses[i]!, 5));
      const a = flat(one.model.getWeights());
      const b = flat(two.model.getWeights());
      expect(b.length).toBe(a.length);
      let maxDiff = 0;
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
      // float32 sums in a different association order; the weights moved by ~lr·3 steps from init.
      expect(maxDiff).toBeLessThan(1e-5);
      const ha = flat(one.heads.exportWeights());
      const hb = flat(two.heads.exportWeights());
      hb.forEach((v, i) => expect(Math.abs(v - ha[i]!)).toBeLessThan(1e-5));
    } finally {
      for (const r of [one, two]) { r.model.dispose(); r.heads.dispose(); }
    }
  });

  it('contrastive images on 2 replicas: reports every step, saves checkpoints through the caller store, stops on request', async () => {
    const { rows, shape } = tinyImages(64);
    const store = new MemoryCheckpointStore();
    const steps: number[] = [];
    const checkpoints: number[] = [];
    const config: TrainConfig = { pretext: 'CONTRASTIVE', modality: 'IMAGE', shape, batchSize: 16, steps: 40, dim: 16, backend: 'wasm', seed: 1, workers: 2, checkpointEvery: 2 };
    const r = await train(config, {
      data: rows,
      store,
      callbacks: { onStep: (m) => { steps.push(m.step); }, onCheckpoint: (c) => { checkpoints.push(c.step); }, shouldStop: () => steps.length >= 4 },
    });
    try {
      expect(r.stopped).toBe(true);
      expect(r.steps).toBeGreaterThanOrEqual(4);
      expect(r.steps).toBeLessThan(40);
      expect(steps).toEqual(Array.from({ length: r.steps }, (_, i) => i + 1));
      expect(checkpoints[0]).toBe(2);
      expect((await store.latest())?.step).toBe(r.steps);
      expect(r.losses.every(Number.isFinite)).toBe(true);
      // The coordinator's rebuilt model embeds like any trained model.
      expect(Object.values(r.model.getWeights()).every((w) => w.data.every(Number.isFinite))).toBe(true);
      // Resume from the last checkpoint on 2 replicas continues where the stopped run left off.
      const resumed = await train(config, { data: rows, store });
      expect(resumed.resumedFrom).toBe(r.steps);
      expect(resumed.steps).toBe(40);
      expect(resumed.losses.slice(0, r.steps)).toEqual(r.losses);
      resumed.model.dispose();
      resumed.heads.dispose();
    } finally {
      r.model.dispose();
      r.heads.dispose();
    }
  });

  it('a replica that fails aborts the run with its reason instead of hanging', async () => {
    const { rows, shape } = tinyImages(64);
    // learningRate is validated lazily per step by the loss check: a NaN-producing rate fails inside the replicas.
    await expect(train({ pretext: 'CONTRASTIVE', modality: 'IMAGE', shape, batchSize: 16, steps: 3, dim: 16, backend: 'wasm', workers: 2, learningRate: 1e30 }, { data: rows }))
      .rejects.toThrow(/Loss became|NaN|Infinity/);
  });

  it('shards, replica counts and the all-reduce arithmetic', () => {
    expect([0, 1, 2].map((r) => shardRange(10, r, 3))).toEqual([{ start: 0, end: 3 }, { start: 3, end: 6 }, { start: 6, end: 10 }]);
    expect(replicaCount(3, 'wasm', 256)).toBe(3);
    expect(replicaCount('auto', 'tensorflow', 256)).toBe(1);
    expect(replicaCount('auto', 'wasm', 40)).toBe(1);
    const one = new SharedAllReduce({ control: createControl(), data: createReplicaData(1, 3), replicas: 1, length: 3 }, 0);
    expect(Array.from(one.reduce(Float32Array.of(1, 2, 4), 0.5))).toEqual([0.5, 1, 2]);
    const control = createControl();
    const two = new SharedAllReduce({ control, data: createReplicaData(2, 1), replicas: 2, length: 1 }, 0);
    abortReplicas(control);
    expect(() => two.reduce(Float32Array.of(1), 0.5)).toThrow(ReplicaAborted);
  });
});
