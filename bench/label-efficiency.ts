// Label-efficiency benchmark (issue 7): does self-supervised pretraining on all training rows (labels hidden) beat
// training the same encoder from scratch when only a few labels are available?
//   1. pretrain the encoder with the pretext task on every training row, labels removed, within budgetSeconds;
//   2. per label fraction (one seeded, stratified subset shared by every arm), score on the test split:
//      sslProbe    linear probe on the frozen SSL encoder
//      sslFinetune full fine-tune of the SSL encoder (head initialized from the probe)
//      scratch     the same encoder, randomly initialized, fully trained on the same labels
//      raw         logistic regression on raw features (pixels / TF-IDF / flattened standardized sequence)
// Run: npx tsx bench/label-efficiency.ts --data ../shared/datasets/fashion-mnist --modality IMAGE \
//        --fractions 0.01,0.1,1 --budget-seconds 600
// SpamAssassin needs its fixed train/test split written first:
//      npx tsx bench/label-efficiency.ts --write-spam-split ../shared/datasets/spam-assassin.jsonl.gz /tmp/spam
// SEQUENCE on an image folder (IDX) reads each image as 28 time steps × 28 features (row-sequential Fashion-MNIST).
// IMAGE and SEQUENCE encoders end in a dense layer over the flattened output map (TaskOptions.spatialEmbedding), not
// mean pooling, unless --pooled-embedding: SimCLR's crop invariance plus mean pooling left too little shape information
// for a linear probe (measured on a validation slice of train, not on the test split).
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { loadDatasetFromPath } from '../src/ingest/load';
import type { Modality, Row, RowShape, SequenceRow } from '../src/ingest/types';
import type { EncoderKind } from '../src/models/spec';
import type { Pretext } from '../src/training/pretext/types';
import { train, type TrainResult } from '../src/training/trainer';
import { fineTune, stratifiedSubset, type FineTuneHyperparameters } from '../src/training/finetune';
import { accuracy, applyLinear, argmaxRows, fitLinear, labelIndices, labelSet } from '../src/training/eval';
import { createRng } from '../src/training/rng';

export interface LabelEfficiencyOptions {
  /** Folder with a labeled train/test pair (IDX pairs or train.jsonl + test.jsonl, …). */
  data: string;
  modality: Modality;
  /** Default CONTRASTIVE. */
  pretext?: Pretext;
  fractions?: number[];
  /**
   * Seconds of pretraining optimizer steps (sized from a short timing run; one-off setup such as tokenizer training
   * is not counted but shows in pretrain.seconds). The fine-tuning arms are bounded by their step caps. Default 600.
   */
  budgetSeconds?: number;
  seed?: number;
  /** Encoder family (default: cnn for IMAGE, mlp for TEXT, sequence for SEQUENCE) and embedding width (default 128 for
   * IMAGE and SEQUENCE, 64 for TEXT). */
  encoder?: EncoderKind;
  dim?: number;
  /**
   * IMAGE / SEQUENCE: the encoder ends in a dense layer over its flattened output map instead of mean pooling, so the
   * embedding keeps position information (TaskOptions.spatialEmbedding; default true). Every arm uses the same encoder.
   */
  spatialEmbedding?: boolean;
  /** Pretraining batch size (default 256) and peak learning rate (default 2e-3). */
  pretrainBatchSize?: number;
  pretrainLearningRate?: number;
  /** Score on a seeded sample of this many test rows (default: all). */
  testLimit?: number;
  /** Fine-tuning hyperparameters of the FULL arms (sslFinetune / scratch). */
  finetune?: FineTuneHyperparameters;
  /** Peak learning rate of sslFinetune (default 5e-4) and of scratch (default 1e-3). */
  finetuneLearningRate?: number;
  scratchLearningRate?: number;
  /** TEXT: tokens per example and tokenizer vocabulary (defaults 128 and 4000). */
  maxLength?: number;
  vocabSize?: number;
  log?: (message: string) => void;
}

export interface LabelEfficiencyRow {
  fraction: number;
  /** Labeled training rows in this fraction's subset. */
  labels: number;
  sslProbe: number;
  sslFinetune: number;
  scratch: number;
  raw: number;
}

export interface LabelEfficiencyResult {
  modality: Modality;
  pretext: Pretext;
  rows: LabelEfficiencyRow[];
  /** Whole run, wall clock. */
  seconds: number;
  pretrain: { seconds: number; steps: number; batchSize: number; rows: number; initialLoss: number; finalLoss: number };
  encoder: string;
  dim: number;
  spatialEmbedding: boolean;
  trainRows: number;
  testRows: number;
  finetune: FineTuneHyperparameters & { sslLearningRate: number; scratchLearningRate: number };
  backend: string;
}

const DEFAULT_ENCODER: Record<Modality, EncoderKind> = { IMAGE: 'cnn', TEXT: 'mlp', SEQUENCE: 'sequence' };
const DEFAULT_DIM: Record<Modality, number> = { IMAGE: 128, TEXT: 64, SEQUENCE: 128 };

export async function run(opts: LabelEfficiencyOptions): Promise<LabelEfficiencyResult> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const pretext = opts.pretext ?? 'CONTRASTIVE';
  const fractions = opts.fractions ?? [0.01, 0.1, 1];
  const budget = opts.budgetSeconds ?? 600;
  const seed = opts.seed ?? 0;
  const dim = opts.dim ?? DEFAULT_DIM[opts.modality];
  const spatialEmbedding = opts.modality !== 'TEXT' && (opts.spatialEmbedding ?? true);
  const encoder = opts.encoder ?? DEFAULT_ENCODER[opts.modality];
  const batchSize = opts.pretrainBatchSize ?? 256;
  if (!(budget > 0)) throw new Error(`budgetSeconds must be > 0; got ${budget}.`);
  for (const f of fractions) if (!(f > 0 && f <= 1)) throw new Error(`Every fraction must be in (0, 1]; got ${f}.`);

  const { rows: all, shape } = await loadRows(opts.data, opts.modality);
  const trainRows = all.filter((r) => r.split !== 'test');
  let testRows = all.filter((r) => r.split === 'test' && r.label !== null);
  if (testRows.length === 0) throw new Error(`${opts.data} has no labeled test split; the benchmark needs a train/test pair.`);
  if (opts.testLimit && opts.testLimit < testRows.length) {
    const order = createRng(seed, 'bench-test').permutation(testRows.length);
    testRows = Array.from(order.subarray(0, opts.testLimit), (i) => testRows[i]!).sort((a, b) => a.index - b.index);
  }
  // Every train-side row counts as train for the arms (a loader may carve a validation split out of train files).
  const labeledTrain: Row[] = trainRows.filter((r) => r.label !== null).map((r) => ({ ...r, split: 'train' }));
  log(`${trainRows.length} train rows (${labeledTrain.length} labeled), ${testRows.length} test rows.`);

  // 1. Pretraining on every training row, labels hidden. The step count is sized from a short timing run so the
  // cosine schedule ends inside the budget; shouldStop is the safety net.
  const unlabeled: Row[] = trainRows.map((r) => ({ ...r, label: null, split: 'train' }));
  const baseConfig = {
    pretext, modality: opts.modality, shape, encoder, dim, batchSize, learningRate: opts.pretrainLearningRate ?? 2e-3,
    seed, backend: 'wasm' as const, maxLength: opts.maxLength ?? 128, vocabSize: opts.vocabSize ?? 4000, layers: 1,
    task: { spatialEmbedding },
  };
  const preStart = performance.now();
  // The first steps pay one-off kernel compilation and allocation: size the run from the median of the later ones.
  const stepTimes: number[] = [];
  const probe = await train({ ...baseConfig, steps: 6, warmupSteps: 0 }, {
    data: unlabeled,
    callbacks: { onStep: (m) => { stepTimes.push(batchSize / m.samplesPerSecond); } },
  });
  const later = stepTimes.slice(2).sort((a, b) => a - b);
  const perStep = later[Math.floor(later.length / 2)] ?? probe.stepSeconds / probe.stepsThisRun;
  const setupSeconds = (performance.now() - preStart) / 1000 - probe.stepSeconds;
  probe.model.dispose();
  probe.heads.dispose();
  // The budget buys optimizer steps; one-off setup (tokenizer training, decoding examples) is reported, not counted.
  const steps = Math.max(10, Math.floor(budget / perStep));
  log(`Pretraining: ${perStep.toFixed(2)} s/step, setup ${setupSeconds.toFixed(1)} s → ${steps} steps of ${batchSize}.`);
  let deadline = Infinity;
  const ssl: TrainResult = await train({ ...baseConfig, steps }, {
    data: unlabeled,
    callbacks: {
      // Safety net for a machine that got busier than at calibration: stop at 1.2 × budget of stepping.
      shouldStop: () => performance.now() > deadline,
      onStep: (m) => {
        if (m.step === 1) deadline = performance.now() + 1.2 * budget * 1000;
        if (m.step % 50 === 0) log(`  step ${m.step}/${m.totalSteps} loss ${m.loss.toFixed(4)}`);
      },
    },
  });
  const pretrainSeconds = (performance.now() - preStart) / 1000;
  const sslWeights = ssl.model.getWeights();
  const spec = ssl.spec;
  const pipeline = { tokenizer: ssl.tokenizer, normalization: ssl.normalization };
  ssl.model.dispose();
  ssl.heads.dispose();
  log(`Pretrained ${ssl.steps} steps in ${pretrainSeconds.toFixed(0)} s; loss ${ssl.initialLoss.toFixed(3)} → ${ssl.finalLoss.toFixed(3)}.`);

  // 2. The arms. fineTune draws its subset from the train-split labeled rows in this order with this seed, exactly
  // as stratifiedSubset below does for the raw arm.
  const labels = labelSet(labeledTrain.map((r) => r.label), testRows.map((r) => r.label));
  const armRows: Row[] = [...labeledTrain, ...testRows];
  const sslRate = opts.finetuneLearningRate ?? 5e-4;
  const scratchRate = opts.scratchLearningRate ?? 1e-3;
  const ft: FineTuneHyperparameters = { batchSize: 64, epochs: 30, maxSteps: 400, minSteps: 100, ...opts.finetune };
  const raw = rawFeatures(opts.modality, pipeline.normalization, labeledTrain, testRows);
  const yTest = labelIndices(testRows.map((r) => r.label!), labels);
  const out: LabelEfficiencyRow[] = [];
  for (const fraction of fractions) {
    const common = { rows: armRows, task: 'CLASSIFICATION' as const, labelFraction: fraction, seed, pipeline, labels, backend: 'wasm' as const };
    const acc = (r: Awaited<ReturnType<typeof fineTune>>) => (r.evaluation?.task === 'CLASSIFICATION' ? r.evaluation.accuracy : NaN);
    const t0 = performance.now();
    const sslProbe = await fineTune({ ...common, base: { spec, weights: sslWeights }, mode: 'LINEAR_PROBE' });
    const sslFull = await fineTune({ ...common, base: { spec, weights: sslWeights }, mode: 'FULL', hyperparameters: { ...ft, learningRate: sslRate } });
    const scratch = await fineTune({ ...common, base: null, spec, mode: 'FULL', hyperparameters: { ...ft, learningRate: scratchRate } });
    const subset = stratifiedSubset(labeledTrain.map((r) => r.label), fraction, seed);
    if (subset.length !== sslProbe.trainSize) throw new Error('Internal: the raw arm drew a different label subset than fineTune.');
    const rawAcc = raw.score(subset, labelIndices(Array.from(subset, (i) => labeledTrain[i]!.label!), labels), labels.length, yTest);
    const row = { fraction, labels: subset.length, sslProbe: acc(sslProbe), sslFinetune: acc(sslFull), scratch: acc(scratch), raw: rawAcc };
    log(`fraction ${fraction}: ${JSON.stringify(row)} (${((performance.now() - t0) / 1000).toFixed(0)} s; steps ssl ${sslFull.steps}, scratch ${scratch.steps})`);
    out.push(row);
  }
  return {
    modality: opts.modality,
    pretext,
    rows: out,
    seconds: (performance.now() - started) / 1000,
    pretrain: { seconds: pretrainSeconds, steps: ssl.steps, batchSize, rows: unlabeled.length, initialLoss: ssl.initialLoss, finalLoss: ssl.finalLoss },
    encoder,
    dim,
    spatialEmbedding,
    trainRows: labeledTrain.length,
    testRows: testRows.length,
    finetune: { ...ft, sslLearningRate: sslRate, scratchLearningRate: scratchRate },
    backend: ssl.backend,
  };
}

/** Rows of a benchmark folder; SEQUENCE over an IDX image folder reads images row-sequentially (T = H, F = W·C). */
async function loadRows(dir: string, modality: Modality): Promise<{ rows: Row[]; shape: RowShape }> {
  const idx = readdirSync(dir).some((f) => /idx3/.test(f));
  const loaded = await loadDatasetFromPath(dir, { modality: modality === 'SEQUENCE' && idx ? 'IMAGE' : modality });
  const rows: Row[] = [];
  for await (const r of loaded.rows) rows.push(r);
  if (modality === 'SEQUENCE' && idx && loaded.shape.modality === 'IMAGE') {
    const { height: T, width, channels } = loaded.shape;
    const seqRows = rows.map((r): SequenceRow => {
      const px = (r as { pixels: Uint8Array }).pixels;
      return { modality: 'SEQUENCE', index: r.index, label: r.label, split: r.split, length: T, values: Float32Array.from(px, (v) => v / 255) };
    });
    return { rows: seqRows, shape: { modality: 'SEQUENCE', length: T, features: width * channels } };
  }
  if (modality === 'TEXT') {
    // Mails carry base64 blobs and long URLs; the WordPiece trainer's first pass errors on a "word" over 100
    // characters (its draft vocabulary has no [UNK]), so long runs are cut into 50-character words for every arm.
    for (const r of rows) if (r.modality === 'TEXT') r.text = r.text.replace(/\S{50,}/g, (w) => w.match(/.{1,50}/g)!.join(' '));
  }
  return { rows, shape: loaded.shape };
}

interface RawFeatures {
  /** Fits a logistic regression on the train rows at `subset` and returns its test accuracy. */
  score(subset: Int32Array, y: Int32Array, classes: number, yTest: Int32Array): number;
}

/**
 * Raw-feature baseline inputs: pixels / 255, standardized flattened sequences, or TF-IDF (vocabulary and IDF from all
 * train texts, like the unlabeled pretraining; log-scaled term counts, rows L2-normalized).
 */
function rawFeatures(modality: Modality, norm: { mean: number[]; std: number[] } | undefined, trainRows: Row[], testRows: Row[]): RawFeatures {
  let dim: number;
  let featurize: (r: Row) => Float32Array;
  let standardize = true;
  if (modality === 'TEXT') {
    const docs = (rows: Row[]) => rows.map((r) => words(r.modality === 'TEXT' ? r.text : ''));
    const trainDocs = docs(trainRows);
    const df = new Map<string, number>();
    for (const d of trainDocs) for (const w of new Set(d)) df.set(w, (df.get(w) ?? 0) + 1);
    const vocab = [...df.entries()].filter(([, c]) => c >= 2).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5000);
    const index = new Map(vocab.map(([w], i) => [w, i]));
    const idf = vocab.map(([, c]) => Math.log((1 + trainDocs.length) / (1 + c)) + 1);
    dim = vocab.length;
    standardize = false;
    featurize = (r) => {
      const v = new Float32Array(dim);
      for (const w of words(r.modality === 'TEXT' ? r.text : '')) {
        const i = index.get(w);
        if (i !== undefined) v[i]! += 1;
      }
      let s = 0;
      for (let i = 0; i < dim; i++) if (v[i]) { v[i] = (1 + Math.log(v[i]!)) * idf[i]!; s += v[i]! ** 2; }
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let i = 0; i < dim; i++) v[i]! *= inv;
      return v;
    };
  } else if (modality === 'IMAGE') {
    dim = (trainRows[0] as { pixels: Uint8Array }).pixels.length;
    featurize = (r) => Float32Array.from((r as { pixels: Uint8Array }).pixels, (p) => p / 255);
  } else {
    const first = trainRows[0] as SequenceRow;
    const F = first.values.length / first.length;
    dim = first.values.length;
    featurize = (r) => {
      const v = (r as SequenceRow).values;
      const out = new Float32Array(dim);
      for (let i = 0; i < Math.min(dim, v.length); i++) out[i] = norm ? (v[i]! - norm.mean[i % F]!) / norm.std[i % F]! : v[i]!;
      return out;
    };
  }
  const stack = (rows: Row[]) => {
    const x = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => x.set(featurize(r), i * dim));
    return x;
  };
  const xTest = stack(testRows);
  return {
    score(subset, y, classes, yTest) {
      const x = stack(Array.from(subset, (i) => trainRows[i]!));
      const model = fitLinear(x, subset.length, dim, y, classes, 'softmax', { steps: 300, standardize });
      return accuracy(argmaxRows(applyLinear(model, xTest, testRows.length), classes), yTest);
    },
  };
}

function words(text: string): string[] {
  return text.slice(0, 20000).toLowerCase().match(/[a-z0-9$!]{2,30}/g) ?? [];
}

/** SpamAssassin's fixed split (shared README): test when md5(id), read as an integer, mod 5 == 0. */
export async function writeSpamSplit(source: string, outDir: string): Promise<{ train: number; test: number }> {
  mkdirSync(outDir, { recursive: true });
  const train: string[] = [];
  const test: string[] = [];
  const lines = createInterface({ input: createReadStream(source).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const o = JSON.parse(line) as { id: string; text: string; label: string };
    const h = BigInt(`0x${createHash('md5').update(String(o.id)).digest('hex')}`);
    (h % 5n === 0n ? test : train).push(JSON.stringify({ text: o.text, label: o.label }));
  }
  writeFileSync(join(outDir, 'train.jsonl'), `${train.join('\n')}\n`);
  writeFileSync(join(outDir, 'test.jsonl'), `${test.join('\n')}\n`);
  return { train: train.length, test: test.length };
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

if (require.main === module) {
  (async () => {
    const args = process.argv.slice(2);
    const spam = argValue(args, '--write-spam-split');
    if (spam) {
      console.log(JSON.stringify(await writeSpamSplit(spam, args[args.indexOf('--write-spam-split') + 2]!)));
      return;
    }
    const num = (name: string) => (argValue(args, name) === undefined ? undefined : Number(argValue(args, name)));
    const result = await run({
      data: argValue(args, '--data') ?? '../shared/datasets/fashion-mnist',
      modality: (argValue(args, '--modality') ?? 'IMAGE') as Modality,
      pretext: argValue(args, '--pretext') as Pretext | undefined,
      fractions: argValue(args, '--fractions')?.split(',').map(Number),
      budgetSeconds: num('--budget-seconds'),
      seed: num('--seed'),
      encoder: argValue(args, '--encoder') as EncoderKind | undefined,
      dim: num('--dim'),
      spatialEmbedding: args.includes('--pooled-embedding') ? false : undefined,
      // Both FULL arms (sslFinetune and scratch) get the same augmentation, so the comparison stays fair.
      ...(args.includes('--finetune-augment') ? { finetune: { augment: true } } : {}),
      testLimit: num('--test-limit'),
      pretrainBatchSize: num('--batch-size'),
      maxLength: num('--max-length'),
      log: (m) => console.error(`[label-efficiency] ${m}`),
    });
    console.log(JSON.stringify(result, null, 2));
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
