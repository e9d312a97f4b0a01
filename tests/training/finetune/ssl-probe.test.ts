// The small-scale label-efficiency check: on a structured dataset (tinyImages: bars, diagonals and boxes at random
// positions), a linear probe on a SimCLR-pretrained CNN beats the same probe on the randomly initialized CNN.
// Everything is seeded; the margin is taken over three label subsets so one lucky draw cannot decide it.
import { train } from '../../../src/training/trainer';
import { fineTune } from '../../../src/training/finetune';
import { buildModel } from '../../../src/training/encoders';
import type { Row } from '../../../src/ingest/types';
import { tinyImages } from '../data/fixtures';

test('SSL-pretrained encoder: its linear probe beats a random-init encoder probe from few labels', async () => {
  const { rows: images, shape } = tinyImages(600, 3);
  const rows: Row[] = images.map((r, i) => ({ ...r, split: i % 3 === 2 ? 'test' : 'train' }));
  const ssl = await train(
    { pretext: 'CONTRASTIVE', modality: 'IMAGE', shape, encoder: 'cnn', dim: 32, batchSize: 64, steps: 150, learningRate: 3e-3, backend: 'wasm', seed: 5 },
    { data: rows.filter((r) => r.split === 'train').map((r) => ({ ...r, label: null })) },
  );
  const sslWeights = ssl.model.getWeights();
  ssl.model.dispose();
  ssl.heads.dispose();
  expect(ssl.finalLoss).toBeLessThan(ssl.initialLoss);
  const random = buildModel(ssl.spec, { seed: 99 });
  const randomWeights = random.getWeights();
  random.dispose();

  const probe = async (weights: typeof sslWeights, seed: number) => {
    const r = await fineTune({ base: { spec: ssl.spec, weights }, rows, task: 'CLASSIFICATION', mode: 'LINEAR_PROBE', labelFraction: 0.05, seed });
    if (r.evaluation?.task !== 'CLASSIFICATION') throw new Error('expected a classification evaluation');
    expect(r.trainSize).toBe(20); // 5 labels per class
    return r.evaluation.accuracy;
  };
  const seeds = [1, 2, 3];
  const sslAcc: number[] = [];
  const randomAcc: number[] = [];
  for (const s of seeds) {
    sslAcc.push(await probe(sslWeights, s));
    randomAcc.push(await probe(randomWeights, s));
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  // Measured when written: SSL ≈ 0.94–1.0, random ≈ 0.82–0.94 per subset.
  expect(mean(sslAcc)).toBeGreaterThan(mean(randomAcc) + 0.03);
  expect(mean(sslAcc)).toBeGreaterThan(0.85);
}, 120_000);
