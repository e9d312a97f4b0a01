import { planBatches } from '../../../src/training/data/batches';
import { PrefetchLoader } from '../../../src/training/data/loader';
import { checkRows, collectRows, fitSequenceNormalization, toExamples } from '../../../src/training/data/rows';
import type { Row } from '../../../src/ingest/types';
import { tinyImages, tinySequences } from './fixtures';

describe('planBatches', () => {
  it('is a pure function of (seed, step): same batches and streams when recomputed', () => {
    const a = planBatches(50, 8, 3);
    const b = planBatches(50, 8, 3);
    expect(a.stepsPerEpoch).toBe(6);
    for (const s of [0, 5, 6, 13, 2]) {
      expect(Array.from(a.indices(s))).toEqual(Array.from(b.indices(s)));
      expect(a.rng(s).next()).toBe(b.rng(s).next());
    }
  });
  it('visits each example at most once per epoch and reshuffles between epochs', () => {
    const p = planBatches(40, 10, 1);
    const epoch0 = [0, 1, 2, 3].flatMap((s) => Array.from(p.indices(s)));
    expect(new Set(epoch0).size).toBe(40);
    expect(Array.from(p.indices(4))).not.toEqual(Array.from(p.indices(0)));
  });
  it('rejects an empty dataset and bad batch sizes, and clamps an oversized batch', () => {
    expect(() => planBatches(0, 8, 1)).toThrow(/training split is empty/);
    expect(() => planBatches(10, 0, 1)).toThrow(/batchSize must be a positive integer/);
    expect(planBatches(5, 8, 1).batchSize).toBe(5);
  });
});

describe('PrefetchLoader', () => {
  it('prepares the next batch before it is asked for, and serves random access too', async () => {
    const made: number[] = [];
    const loader = new PrefetchLoader((s) => { made.push(s); return s * 10; }, 4);
    expect(await loader.get(0)).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(made).toContain(1); // prefetched while the caller worked on batch 0
    expect(await loader.get(1)).toBe(10);
    expect(await loader.get(3)).toBe(30);
    expect(made.filter((s) => s === 1).length).toBe(1);
  });
  it('propagates a failing batch as a rejection', async () => {
    const loader = new PrefetchLoader(() => { throw new Error('bad batch'); }, 2);
    await expect(loader.get(0)).rejects.toThrow('bad batch');
  });
});

describe('rows → examples', () => {
  it('collects async iterables and scales pixels to 0..1', async () => {
    const { rows } = tinyImages(4);
    async function* gen() { yield* rows; }
    const got = await collectRows(gen());
    expect(got.length).toBe(4);
    const ex = toExamples(got, { shape: tinyImages(1).shape });
    expect(ex[0]!.kind).toBe('IMAGE');
    if (ex[0]!.kind === 'IMAGE') expect(Math.max(...ex[0]!.pixels)).toBeLessThanOrEqual(1);
  });
  it('standardizes sequences per feature and pads short rows to the fixed length', () => {
    const { rows, shape } = tinySequences(30);
    const norm = fitSequenceNormalization(rows, 2);
    const ex = toExamples(rows, { shape, normalization: norm });
    let sum = 0, sq = 0, n = 0;
    for (const e of ex) if (e.kind === 'SEQUENCE') for (let t = 0; t < 16; t++) { const v = e.values[t * 2]!; sum += v; sq += v * v; n++; }
    expect(Math.abs(sum / n)).toBeLessThan(1e-5);
    expect(Math.abs(sq / n - 1)).toBeLessThan(1e-4);
    const short: Row = { modality: 'SEQUENCE', index: 0, label: null, split: 'train', values: Float32Array.of(1, 2, 3, 4), length: 2 };
    const [padded] = toExamples([short], { shape: { modality: 'SEQUENCE', length: null, features: 2 }, sequenceLength: 4 });
    expect(padded!.kind === 'SEQUENCE' && Array.from(padded!.values)).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);
  });
  it('reports rows that do not fit the declared shape', () => {
    const { rows } = tinyImages(2);
    expect(() => checkRows(rows, { modality: 'IMAGE', height: 9, width: 8, channels: 1 })).toThrow(/Row 0 has 64 pixel values but the shape 9×8×1 needs 72/);
    expect(() => checkRows(rows, { modality: 'TEXT' })).toThrow(/Row 0 is IMAGE but the dataset shape is TEXT/);
    const seq = tinySequences(1).rows;
    expect(() => checkRows(seq, { modality: 'SEQUENCE', length: 20, features: 2 })).toThrow(/has 16 steps but the shape fixes length 20/);
  });
});
