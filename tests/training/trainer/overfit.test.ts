// "Done when": every supported task × modality trains and its loss falls on a fixed-batch overfit check
// (final < 0.9 × initial), on tiny self-built data and on slices of the real datasets.
import { train, type TrainConfig } from '../../../src/training/trainer';
import type { Row, RowShape } from '../../../src/ingest/types';
import type { Pretext } from '../../../src/training/pretext';
import { demandSharedData } from '../../helpers/shared-datasets';
import {
  fashionImages, fashionSequences, hasFashion, hasSpam, spamTexts, tinyImages, tinySequences, tinyTexts,
} from '../data/fixtures';

type Case = [string, Pretext, TrainConfig['modality'], Partial<TrainConfig>];
const CASES: Case[] = [
  ['MASKED × TEXT (transformer)', 'MASKED', 'TEXT', {}],
  ['MASKED × IMAGE (cnn)', 'MASKED', 'IMAGE', {}],
  ['MASKED × SEQUENCE (conv)', 'MASKED', 'SEQUENCE', {}],
  ['CONTRASTIVE × TEXT (transformer)', 'CONTRASTIVE', 'TEXT', {}],
  ['CONTRASTIVE × IMAGE (cnn)', 'CONTRASTIVE', 'IMAGE', {}],
  ['CONTRASTIVE × SEQUENCE (conv)', 'CONTRASTIVE', 'SEQUENCE', {}],
  ['NEXT_STEP × TEXT (causal conv+GRU)', 'NEXT_STEP', 'TEXT', {}],
  ['NEXT_STEP × IMAGE (rows, conv+GRU)', 'NEXT_STEP', 'IMAGE', {}],
  ['NEXT_STEP × SEQUENCE (mse)', 'NEXT_STEP', 'SEQUENCE', {}],
  ['NEXT_STEP × SEQUENCE (cpc)', 'NEXT_STEP', 'SEQUENCE', { task: { variant: 'cpc' } }],
  ['CONTRASTIVE × IMAGE (mlp)', 'CONTRASTIVE', 'IMAGE', { encoder: 'mlp' }],
];

async function overfit(pretext: Pretext, modality: TrainConfig['modality'], shape: RowShape, rows: Row[], extra: Partial<TrainConfig>) {
  const result = await train(
    {
      pretext, modality, shape, batchSize: 16, steps: 30, dim: 32, layers: 1, learningRate: 3e-3, warmupSteps: 0,
      maxLength: 32, vocabSize: 400, overfitOneBatch: true, backend: 'wasm', seed: 11, ...extra,
    },
    { data: rows },
  );
  try {
    expect(result.steps).toBe(30);
    expect(result.losses.every(Number.isFinite)).toBe(true);
    expect(result.finalLoss).toBeLessThan(0.9 * result.initialLoss);
  } finally {
    result.model.dispose();
    result.heads.dispose();
  }
}

function tinyData(modality: TrainConfig['modality']) {
  return modality === 'TEXT' ? tinyTexts(48) : modality === 'IMAGE' ? tinyImages(48) : tinySequences(48);
}

describe('fixed-batch overfit on tiny self-built data', () => {
  it.each(CASES)('%s', async (_name, pretext, modality, extra) => {
    const { rows, shape } = tinyData(modality);
    await overfit(pretext, modality, shape, rows, extra);
  });
});

const realAvailable = demandSharedData('fashion-mnist and spam-assassin.jsonl.gz (overfit on real slices)', hasFashion && hasSpam);

describe('fixed-batch overfit on real data slices (Fashion-MNIST, row-sequential Fashion-MNIST, SpamAssassin)', () => {
  const real = (modality: TrainConfig['modality']) =>
    modality === 'TEXT' ? spamTexts(48, 0, 400) : modality === 'IMAGE' ? fashionImages(48) : fashionSequences(48);
  (realAvailable ? it.each(CASES.slice(0, 10)) : it.skip.each(CASES.slice(0, 10)))('%s', async (_name, pretext, modality, extra) => {
    const { rows, shape } = real(modality);
    await overfit(pretext, modality, shape, rows, extra);
  });
});
