// Label-efficiency benchmark (issues 7 and 11): does self-supervised pretraining on all training rows (labels hidden)
// beat training the same encoder from scratch when only a few labels are available?
//   1. pretrain the platform recipe for the modality (src/models/recipes.ts: what createExperiment trains when only
//      the data and the pretext are named) on every training row, labels removed, on every core (data-parallel);
//   2. per label budget (a fraction and/or N labels per class) and per seed (one seeded, stratified subset shared by
//      every arm of that seed), score on the test split — or, with --validation, on a held-out slice of train:
//      sslProbe    linear probe on the frozen SSL encoder
//      sslFinetune full fine-tune of the SSL encoder (head initialized from the probe)
//      scratch     the same encoder, randomly initialized, fully trained on the same labels with the same budget
//      raw         logistic regression on raw features (pixels / TF-IDF / flattened standardized sequence)
//    The fine-tuning arms run in a pool of worker threads, one per core.
// Run: npx tsx bench/label-efficiency.ts --data ../shared/datasets/fashion-mnist --modality IMAGE \
//        --labels-per-class 10 --fractions 0.01 --seeds 3
// SpamAssassin needs its fixed train/test split written first:
//      npx tsx bench/label-efficiency.ts --write-spam-split ../shared/datasets/spam-assassin.jsonl.gz /tmp/spam
// SEQUENCE on an image folder (IDX) reads each image as 28 time steps × 28 features (row-sequential Fashion-MNIST).
// SEQUENCE on a folder of train.tar + test.tar of <label>/<file>.wav is audio: labels from the folder names, each clip
// cut / zero-padded to --clip-seconds (default 1) at the recordings' sample rate; the model gets the log-mel front end
// and the raw arm is logistic regression on the same log-mel features (flattened `raw`, mean+std pooled `rawPooled`):
//      scripts/make-spoken-digits.sh /tmp/spoken-digits
//      npx tsx bench/label-efficiency.ts --data /tmp/spoken-digits --modality SEQUENCE --labels-per-class 5,20 --seeds 2
// Recipes are chosen with --validation (the test split is then never read).
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { loadDatasetFromPath } from '../src/ingest/load';
import type { Modality, Row, RowShape, SequenceRow } from '../src/ingest/types';
import { sequenceFeatureShape, type EncoderKind, type SequenceInputSpec } from '../src/models/spec';
import { fitClip } from '../src/ingest/readers/wav-clip';
import { tf } from '../src/training/engine/tf';
import { logmel } from '../src/training/encoders/layers/logmel';
import type { Pretext } from '../src/training/pretext/types';
import { train, type TrainResult } from '../src/training/trainer';
import { replicaCount } from '../src/training/trainer/train';
import { perClassSubset, stratifiedSubset, type FineTuneHyperparameters } from '../src/training/finetune';
import type { SelfTrainingOptions } from '../src/training/finetune/self-training';
import { accuracy, applyLinear, argmaxRows, fitLinear, labelIndices, labelSet } from '../src/training/eval';
import { createRng } from '../src/training/rng';
import { defaultRecipe, FINETUNE_RECIPE } from '../src/models/recipes';
import { ArmPool } from './lib/arm-pool';
import type { ArmJob } from './lib/arm-worker';

export interface LabelEfficiencyOptions {
  /** Folder with a labeled train/test pair (IDX pairs or train.jsonl + test.jsonl, …). */
  data: string;
  modality: Modality;
  /** Default CONTRASTIVE. */
  pretext?: Pretext;
  /** Label budgets: fractions of the labeled train rows and/or exact counts per class; one `rows` entry each. */
  fractions?: number[];
  labelsPerClass?: number[];
  /** Arm seeds (label subset, head/encoder init, batch order): 0..seeds−1. Default 3. Pretraining runs once (seed 0). */
  seeds?: number;
  /**
   * Score on a seeded held-out slice of the TRAIN split (1/6 of it, at most 10 000 rows) instead of the test split,
   * for choosing recipes; the test split is then never read.
   */
  validation?: boolean;
  /**
   * Pretraining optimizer steps; default: the platform recipe's (what a createExperiment run with default settings
   * trains). Or `budgetSeconds`: as many steps as fit in that many seconds (sized from a short timing run; one-off
   * setup such as tokenizer training is not counted but shows in pretrain.seconds).
   */
  budgetSeconds?: number;
  steps?: number;
  /** Encoder family, embedding width and other recipe fields (default: the platform recipe, src/models/recipes.ts). */
  encoder?: EncoderKind;
  dim?: number;
  /** IMAGE / SEQUENCE: false ends the encoder in mean pooling instead of a dense layer over its output map. */
  spatialEmbedding?: boolean;
  pretrainBatchSize?: number;
  pretrainLearningRate?: number;
  temperature?: number;
  objective?: 'infonce' | 'vicreg';
  projectionDim?: number;
  /** NEXT_STEP × SEQUENCE: 'mse' (next frame) or 'cpc' (InfoNCE over future time steps). */
  variant?: 'mse' | 'cpc';
  /** Score on a seeded sample of this many held-out rows (default: all). */
  testLimit?: number;
  /** Fine-tuning hyperparameters of the FULL arms (sslFinetune / scratch); the defaults are FINETUNE_RECIPE. */
  finetune?: FineTuneHyperparameters;
  finetuneLearningRate?: number;
  scratchLearningRate?: number;
  /** TEXT: tokens per example and tokenizer vocabulary. */
  maxLength?: number;
  vocabSize?: number;
  /** Pretraining replicas (default 'auto': every core) and fine-tuning arm threads (default: every core). */
  workers?: number | 'auto';
  armThreads?: number;
  /**
   * Adds two arms: sslSelfTrain (the sslFinetune arm, then one round of class-balanced pseudo-labels on the unlabeled
   * train rows and a retrain from the SSL base; src/training/finetune/self-training.ts) and scratchSelfTrain (the
   * same from scratch), so what pretraining adds on top of self-training is measured too.
   */
  selfTraining?: boolean;
  /** Self-training arms' rounds and pseudo-labels per class (multiple of the rarest class's labels). */
  selfTrainingOptions?: SelfTrainingOptions;
  /**
   * Extra SSL fine-tune arms side by side with sslFinetune (same pretraining, seeds, subsets and step budget): each
   * overrides the FULL fine-tune's encoderLearningRateScale and, optionally, the head's rate (LP-FT's second stage,
   * src/training/finetune/finetune.ts); `probeInit: false` drops its first stage (the head starts at random).
   * Reported per budget under `variants` by name (`elr<scale>[@<rate>][/noprobe]`).
   */
  sslVariants?: Array<{ encoderLearningRateScale: number; learningRate?: number; probeInit?: boolean }>;
  /** Audio folders (tars of WAVs): clip length in seconds every recording is cut / zero-padded to. Default 1. */
  clipSeconds?: number;
  log?: (message: string) => void;
}

type ArmName = 'sslProbe' | 'sslFinetune' | 'scratch' | 'raw';
const ARMS: readonly ArmName[] = ['sslProbe', 'sslFinetune', 'scratch', 'raw'];

export interface LabelEfficiencyRow {
  /** Set for a fraction budget … */
  fraction?: number;
  /** … or for a per-class budget. */
  labelsPerClass?: number;
  /** Labeled training rows in this budget's subset (mean over seeds; equal for every arm of a seed). */
  labels: number;
  /** Held-out accuracy, mean over seeds, per arm; `<arm>Std` the sample standard deviation, `perSeed` the values. */
  sslProbe: number;
  sslFinetune: number;
  scratch: number;
  raw: number;
  /** Audio only: logistic regression on the per-band mean and std of the log-mel frames (time pooled). */
  rawPooled?: number;
  rawPooledStd?: number;
  sslProbeStd: number;
  sslFinetuneStd: number;
  scratchStd: number;
  rawStd: number;
  /** max(sslProbe, sslFinetune) − scratch, in accuracy points (×100). */
  sslMinusScratchPoints: number;
  /** With selfTraining: those arms' means and stds, and sslSelfTrain − scratch in points. */
  sslSelfTrain?: number;
  scratchSelfTrain?: number;
  sslSelfTrainStd?: number;
  scratchSelfTrainStd?: number;
  sslSelfTrainMinusScratchPoints?: number;
  perSeed: Record<ArmName, number[]> & { sslSelfTrain?: number[]; scratchSelfTrain?: number[] };
  /** With sslVariants: each variant's mean, std, per-seed values, and mean − scratch in points. */
  variants?: Record<string, { mean: number; std: number; perSeed: number[]; minusScratchPoints: number }>;
}

export interface LabelEfficiencyResult {
  modality: Modality;
  pretext: Pretext;
  /** 'test' (the dataset's test split) or 'validation' (a held-out slice of train; test untouched). */
  scoredOn: 'test' | 'validation';
  rows: LabelEfficiencyRow[];
  seeds: number[];
  /** Whole run, wall clock. */
  seconds: number;
  pretrain: {
    seconds: number; steps: number; batchSize: number; rows: number; initialLoss: number; finalLoss: number; replicas: number;
    samplesPerSecond: number; learningRate: number; recipe: Record<string, unknown>;
  };
  encoder: string;
  dim: number;
  spatialEmbedding: boolean;
  trainRows: number;
  testRows: number;
  finetune: FineTuneHyperparameters & {
    sslLearningRate: number; scratchLearningRate: number;
    /** With sslVariants: each extra arm's name and the hyperparameters it ran with. */
    sslVariants?: Array<{ name: string; hyperparameters: FineTuneHyperparameters }>;
  };
  backend: string;
  /**
   * Learning curves: the pretraining loss ([step, loss] every 10 steps) and, per budget and arm, the FULL arms'
   * training loss of seed 0 ([step, loss] every 10 steps).
   */
  curves: { pretrain: Array<[number, number]>; arms: Record<string, Array<[number, number]>> };
}

export async function run(opts: LabelEfficiencyOptions): Promise<LabelEfficiencyResult> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const pretext = opts.pretext ?? 'CONTRASTIVE';
  const labelsPerClass = opts.labelsPerClass ?? [];
  const fractions = opts.fractions ?? (labelsPerClass.length ? [] : [0.01, 0.1]);
  const seeds = Array.from({ length: opts.seeds ?? 3 }, (_, i) => i);
  const budget = opts.budgetSeconds ?? Infinity;
  if (!(budget > 0)) throw new Error(`budgetSeconds must be > 0; got ${budget}.`);
  if (opts.budgetSeconds !== undefined && opts.steps !== undefined) throw new Error('Give steps or budgetSeconds, not both.');
  for (const f of fractions) if (!(f > 0 && f <= 1)) throw new Error(`Every fraction must be in (0, 1]; got ${f}.`);
  for (const n of labelsPerClass) if (!(Number.isInteger(n) && n >= 1)) throw new Error(`Every labels-per-class count must be a positive integer; got ${n}.`);
  if (seeds.length < 1) throw new Error('seeds must be ≥ 1.');

  const { rows: all, shape } = await loadRows(opts.data, opts.modality, opts.clipSeconds ?? 1);
  // Audio clips get their own recipe (the platform's choice for a dataset whose shape has a sampleRate).
  const recipe = defaultRecipe(opts.modality, pretext, { audio: Boolean('sampleRate' in shape && shape.sampleRate) });
  const dim = opts.dim ?? recipe.dim;
  const spatialEmbedding = opts.modality !== 'TEXT' && (opts.spatialEmbedding ?? recipe.task.spatialEmbedding ?? false);
  const encoder = opts.encoder ?? recipe.encoder;
  const batchSize = opts.pretrainBatchSize ?? recipe.batchSize;
  const learningRate = opts.pretrainLearningRate ?? recipe.learningRate;
  const { trainRows, heldRows } = splitRows(all, Boolean(opts.validation), opts.testLimit);
  // Every train-side row counts as train for the arms (a loader may carve a validation split out of train files).
  const labeledTrain: Row[] = trainRows.filter((r) => r.label !== null).map((r) => ({ ...r, split: 'train' }));
  // fineTune scores on rows marked 'test': the held-out rows are relabelled so, whatever split they came from.
  const testRows: Row[] = heldRows.map((r) => ({ ...r, split: 'test' }));
  log(`${trainRows.length} train rows (${labeledTrain.length} labeled), ${testRows.length} ${opts.validation ? 'validation (held out of train)' : 'test'} rows.`);

  // 1. Pretraining on every training row, labels hidden. The step count is sized from a short timing run so the
  // cosine schedule ends inside the budget; shouldStop is the safety net.
  const unlabeled: Row[] = trainRows.map((r) => ({ ...r, label: null, split: 'train' }));
  const baseConfig = {
    pretext, modality: opts.modality, shape, encoder, dim, batchSize, learningRate,
    seed: 0, backend: 'wasm' as const, workers: opts.workers ?? recipe.workers,
    maxLength: opts.maxLength ?? recipe.maxLength ?? 128, vocabSize: opts.vocabSize ?? recipe.vocabSize ?? 4000, layers: recipe.layers ?? 1,
    task: {
      ...recipe.task, spatialEmbedding,
      ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
      ...(opts.objective !== undefined ? { objective: opts.objective } : {}),
      ...(opts.projectionDim !== undefined ? { projectionDim: opts.projectionDim } : {}),
      ...(opts.variant !== undefined ? { variant: opts.variant } : {}),
    },
  };
  const preStart = performance.now();
  let steps = opts.steps ?? (opts.budgetSeconds === undefined ? recipe.steps : undefined);
  let setupSeconds = 0;
  if (steps === undefined) {
    // The first steps pay one-off kernel compilation and allocation: size the run from the median of the later ones.
    const stepTimes: number[] = [];
    const probe = await train({ ...baseConfig, steps: 8, warmupSteps: 0 }, {
      data: unlabeled,
      callbacks: { onStep: (m) => { stepTimes.push(batchSize / m.samplesPerSecond); } },
    });
    const later = stepTimes.slice(3).sort((a, b) => a - b);
    const perStep = later[Math.floor(later.length / 2)] ?? probe.stepSeconds / probe.stepsThisRun;
    setupSeconds = (performance.now() - preStart) / 1000 - probe.stepSeconds;
    probe.model.dispose();
    probe.heads.dispose();
    steps = Math.max(10, Math.floor(budget / perStep));
    log(`Pretraining: ${perStep.toFixed(2)} s/step, setup ${setupSeconds.toFixed(1)} s → ${steps} steps of ${batchSize}.`);
  }
  let deadline = Infinity;
  const pretrainCurve: Array<[number, number]> = [];
  const mainStart = performance.now();
  const ssl: TrainResult = await train({ ...baseConfig, steps }, {
    data: unlabeled,
    callbacks: {
      // Safety net for a machine that got busier than at calibration: stop at 1.25 × budget of stepping.
      shouldStop: () => opts.budgetSeconds !== undefined && performance.now() > deadline,
      onStep: (m) => {
        if (m.step === 1) deadline = performance.now() + 1.25 * budget * 1000;
        if (m.step % 10 === 0 || m.step === m.totalSteps) pretrainCurve.push([m.step, Number(m.loss.toFixed(5))]);
        if (m.step % 50 === 0) log(`  step ${m.step}/${m.totalSteps} loss ${m.loss.toFixed(4)}`);
      },
    },
  });
  const pretrainSeconds = (performance.now() - preStart) / 1000;
  const sslWeights = ssl.model.getWeights();
  const spec = ssl.spec;
  const replicas = replicaCount(baseConfig.workers, ssl.backend, batchSize);
  ssl.model.dispose();
  ssl.heads.dispose();
  log(`Pretrained ${ssl.steps} steps in ${((performance.now() - mainStart) / 1000).toFixed(0)} s on ${replicas} replica(s); loss ${ssl.initialLoss.toFixed(3)} → ${ssl.finalLoss.toFixed(3)}.`);

  // 2. The arms, on every core: fineTune draws each subset from the train-split labeled rows in this order with the
  // job's seed, exactly as the raw arm's subset below.
  const labels = labelSet(labeledTrain.map((r) => r.label), testRows.map((r) => r.label));
  const sslRate = opts.finetuneLearningRate ?? FINETUNE_RECIPE.pretrainedLearningRate[spec.input.kind];
  const scratchRate = opts.scratchLearningRate ?? FINETUNE_RECIPE.scratchLearningRate;
  const ft: FineTuneHyperparameters = {
    batchSize: FINETUNE_RECIPE.batchSize, epochs: FINETUNE_RECIPE.epochs, maxSteps: FINETUNE_RECIPE.maxSteps, minSteps: FINETUNE_RECIPE.minSteps, ...opts.finetune,
  };
  const audio = spec.input.kind === 'sequence' && spec.input.frontEnd ? spec.input : null;
  const raw = audio ? logmelFeatures(audio, labeledTrain, testRows, 'flat') : rawFeatures(opts.modality, ssl.normalization, labeledTrain, testRows);
  const rawPooled = audio ? logmelFeatures(audio, labeledTrain, testRows, 'pooled') : null;
  const yTest = labelIndices(testRows.map((r) => r.label!), labels);
  const variants = (opts.sslVariants ?? []).map((v) => ({
    name: `elr${v.encoderLearningRateScale}${v.learningRate !== undefined ? `@${v.learningRate}` : ''}${v.probeInit === false ? '/noprobe' : ''}`,
    hyperparameters: {
      ...ft, learningRate: v.learningRate ?? sslRate, encoderLearningRateScale: v.encoderLearningRateScale,
      ...(v.probeInit === false ? { probeInit: false } : {}),
    },
  }));
  const pool = new ArmPool({
    rows: [...labeledTrain, ...testRows], labels, spec, sslWeights, tokenizer: ssl.tokenizer?.toJSON(), normalization: ssl.normalization,
  }, opts.armThreads);
  const budgets: Array<{ fraction?: number; labelsPerClass?: number }> = [
    ...labelsPerClass.map((n) => ({ labelsPerClass: n })), ...fractions.map((f) => ({ fraction: f })),
  ];
  const armCurves: Record<string, Array<[number, number]>> = {};
  let nextId = 0;
  const out: LabelEfficiencyRow[] = [];
  try {
    const pending = budgets.map(async (b) => {
      const key = b.labelsPerClass !== undefined ? `${b.labelsPerClass}/class` : `${b.fraction}`;
      const subsetOf = (seed: number) => (b.labelsPerClass !== undefined
        ? perClassSubset(labeledTrain.map((r) => r.label), b.labelsPerClass, seed)
        : stratifiedSubset(labeledTrain.map((r) => r.label), b.fraction!, seed));
      const perSeed = await Promise.all(seeds.map(async (seed) => {
        const job = (arm: ArmJob['arm']) => pool.run({
          id: nextId++, arm, seed,
          ...(b.labelsPerClass !== undefined ? { labelsPerClass: b.labelsPerClass } : { labelFraction: b.fraction }),
          ...(arm === 'sslProbe' ? {} : { hyperparameters: { ...ft, learningRate: arm.startsWith('scratch') ? scratchRate : sslRate } }),
          ...(arm.endsWith('SelfTrain') && opts.selfTrainingOptions ? { selfTraining: opts.selfTrainingOptions } : {}),
        });
        const variantRuns = Promise.all(variants.map((v) => pool.run({
          id: nextId++, arm: 'sslFinetune', seed, hyperparameters: v.hyperparameters,
          ...(b.labelsPerClass !== undefined ? { labelsPerClass: b.labelsPerClass } : { labelFraction: b.fraction }),
        })));
        const [probe, full, scratch, sslSelf, scratchSelf] = await Promise.all([
          job('sslProbe'), job('sslFinetune'), job('scratch'),
          ...(opts.selfTraining ? [job('sslSelfTrain'), job('scratchSelfTrain')] : []),
        ]);
        const variantOut = await variantRuns;
        const subset = subsetOf(seed);
        if (subset.length !== probe.trainSize) throw new Error('Internal: the raw arm drew a different label subset than fineTune.');
        const ySub = labelIndices(Array.from(subset, (i) => labeledTrain[i]!.label!), labels);
        const rawAcc = raw.score(subset, ySub, labels.length, yTest);
        const pooledAcc = rawPooled ? rawPooled.score(subset, ySub, labels.length, yTest) : NaN;
        if (seed === 0) {
          armCurves[`${key}/sslFinetune`] = full!.curve ?? [];
          armCurves[`${key}/scratch`] = full === scratch ? [] : scratch!.curve ?? [];
        }
        if (seed === 0) variants.forEach((v, i) => { armCurves[`${key}/${v.name}`] = variantOut[i]!.curve ?? []; });
        const variantLog = variants.map((v, i) => ` ${v.name} ${fmt(variantOut[i]!.accuracy!)}`).join('');
        const self = sslSelf && scratchSelf ? ` selfTrain ssl ${fmt(sslSelf.accuracy!)} scratch ${fmt(scratchSelf.accuracy!)}` : '';
        log(`budget ${key} seed ${seed}: probe ${fmt(probe!.accuracy!)} finetune ${fmt(full!.accuracy!)} (${full!.steps} steps) scratch ${fmt(scratch!.accuracy!)} (${scratch!.steps} steps) raw ${fmt(rawAcc)}${rawPooled ? ` rawPooled ${fmt(pooledAcc)}` : ''}${self}${variantLog}; ${subset.length} labels`);
        return {
          labels: subset.length, sslProbe: probe!.accuracy!, sslFinetune: full!.accuracy!, scratch: scratch!.accuracy!, raw: rawAcc, rawPooled: pooledAcc,
          ...(sslSelf && scratchSelf ? { sslSelfTrain: sslSelf.accuracy!, scratchSelfTrain: scratchSelf.accuracy! } : {}),
          variants: variantOut.map((r) => r.accuracy!),
        };
      }));
      const perArm = Object.fromEntries(ARMS.map((a) => [a, perSeed.map((p) => p[a])])) as Record<ArmName, number[]>;
      const m = (a: ArmName) => mean(perArm[a]);
      const row: LabelEfficiencyRow = {
        ...b,
        labels: mean(perSeed.map((p) => p.labels)),
        sslProbe: m('sslProbe'), sslFinetune: m('sslFinetune'), scratch: m('scratch'), raw: m('raw'),
        sslProbeStd: std(perArm.sslProbe), sslFinetuneStd: std(perArm.sslFinetune), scratchStd: std(perArm.scratch), rawStd: std(perArm.raw),
        ...(rawPooled ? { rawPooled: mean(perSeed.map((p) => p.rawPooled)), rawPooledStd: std(perSeed.map((p) => p.rawPooled)) } : {}),
        sslMinusScratchPoints: Number((100 * (Math.max(m('sslProbe'), m('sslFinetune')) - m('scratch'))).toFixed(2)),
        perSeed: perArm,
      };
      if (opts.selfTraining) {
        const ssl = perSeed.map((p) => p.sslSelfTrain!);
        const scr = perSeed.map((p) => p.scratchSelfTrain!);
        Object.assign(row, {
          sslSelfTrain: mean(ssl), scratchSelfTrain: mean(scr), sslSelfTrainStd: std(ssl), scratchSelfTrainStd: std(scr),
          sslSelfTrainMinusScratchPoints: Number((100 * (mean(ssl) - m('scratch'))).toFixed(2)),
        });
        Object.assign(row.perSeed, { sslSelfTrain: ssl, scratchSelfTrain: scr });
      }
      if (variants.length) {
        row.variants = Object.fromEntries(variants.map((v, i) => {
          const xs = perSeed.map((p) => p.variants[i]!);
          return [v.name, { mean: mean(xs), std: std(xs), perSeed: xs, minusScratchPoints: Number((100 * (mean(xs) - m('scratch'))).toFixed(2)) }];
        }));
      }
      return row;
    });
    out.push(...(await Promise.all(pending)));
  } finally {
    await pool.close();
  }
  return {
    modality: opts.modality,
    pretext,
    scoredOn: opts.validation ? 'validation' : 'test',
    rows: out,
    seeds,
    seconds: (performance.now() - started) / 1000,
    pretrain: {
      seconds: pretrainSeconds, steps: ssl.steps, batchSize, rows: unlabeled.length, initialLoss: ssl.initialLoss, finalLoss: ssl.finalLoss,
      replicas, samplesPerSecond: ssl.samplesPerSecond, learningRate, recipe: { ...baseConfig, shape: undefined },
    },
    encoder,
    dim,
    spatialEmbedding,
    trainRows: labeledTrain.length,
    testRows: testRows.length,
    finetune: { ...ft, sslLearningRate: sslRate, scratchLearningRate: scratchRate, ...(variants.length ? { sslVariants: variants } : {}) },
    backend: ssl.backend,
    curves: { pretrain: pretrainCurve, arms: armCurves },
  };
}

const fmt = (x: number) => (100 * x).toFixed(1);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function std(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/**
 * Train and held-out rows. With `validation`, a seeded 1/6 of the train split (at most 10 000 rows) is held out and
 * the test split is dropped unread; otherwise the held-out rows are the labeled test split.
 */
function splitRows(all: Row[], validation: boolean, limit?: number): { trainRows: Row[]; heldRows: Row[] } {
  const train = all.filter((r) => r.split !== 'test');
  let held: Row[];
  let trainRows = train;
  if (validation) {
    const order = createRng(0, 'bench-validation').permutation(train.length);
    const n = Math.min(10_000, Math.floor(train.length / 6));
    const heldIdx = new Set(Array.from(order.subarray(0, n)));
    held = train.filter((r, i) => heldIdx.has(i) && r.label !== null);
    trainRows = train.filter((_, i) => !heldIdx.has(i));
  } else {
    held = all.filter((r) => r.split === 'test' && r.label !== null);
  }
  if (held.length === 0) throw new Error('The data has no labeled held-out rows; the benchmark needs a labeled train/test pair.');
  if (limit && limit < held.length) {
    const order = createRng(0, 'bench-test').permutation(held.length);
    held = Array.from(order.subarray(0, limit), (i) => held[i]!).sort((a, b) => a.index - b.index);
  }
  return { trainRows, heldRows: held };
}

/**
 * Rows of a benchmark folder; SEQUENCE over an IDX image folder reads images row-sequentially (T = H, F = W·C), over
 * archives (train.tar / test.tar of <label>/<file>.wav) as audio clips of `clipSeconds` at the files' sample rate.
 */
async function loadRows(dir: string, modality: Modality, clipSeconds: number): Promise<{ rows: Row[]; shape: RowShape }> {
  const idx = readdirSync(dir).some((f) => /idx3/.test(f));
  const archives = modality === 'SEQUENCE' && readdirSync(dir).some((f) => /\.(tar|tar\.gz|tgz|zip)$/i.test(f));
  const loaded = await loadDatasetFromPath(dir, {
    modality: modality === 'SEQUENCE' && idx ? 'IMAGE' : modality,
    // Audio: variable length while reading (the rate is known only from the first file), then one clip length.
    ...(archives ? { sequence: { length: null, features: 1, sampleRate: 0 } } : {}),
  });
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
  if (archives && loaded.shape.modality === 'SEQUENCE' && loaded.shape.sampleRate) {
    if (!(clipSeconds > 0)) throw new Error(`clipSeconds must be > 0; got ${clipSeconds}.`);
    const length = Math.round(clipSeconds * loaded.shape.sampleRate);
    const clips = rows.map((r): Row => (r.modality === 'SEQUENCE' ? { ...r, values: fitClip(r.values, length), length } : r));
    return { rows: clips, shape: { ...loaded.shape, length } };
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

/**
 * Audio baseline inputs: the model's own log-mel front end (same settings, computed with the tfjs layer) on each
 * clip, flattened [T'·nMels] or pooled over time to the per-band mean and std [2·nMels]; standardized per column.
 */
function logmelFeatures(input: SequenceInputSpec, trainRows: Row[], testRows: Row[], mode: 'flat' | 'pooled'): RawFeatures {
  const { length: T, features: M } = sequenceFeatureShape(input);
  const dim = mode === 'flat' ? T * M : 2 * M;
  const cache = new Map<Row, Float32Array>();
  const featurizeAll = (rows: Row[]) => {
    const todo = rows.filter((r) => !cache.has(r));
    for (let i = 0; i < todo.length; i += 64) {
      const part = todo.slice(i, i + 64);
      const x = new Float32Array(part.length * input.length);
      part.forEach((r, j) => x.set(fitClip((r as SequenceRow).values, input.length), j * input.length));
      const mel = tf.tidy(() => logmel(tf.tensor3d(x, [part.length, input.length, 1]), input).dataSync() as Float32Array);
      part.forEach((r, j) => {
        const f = mel.subarray(j * T * M, (j + 1) * T * M);
        if (mode === 'flat') { cache.set(r, f.slice()); return; }
        const v = new Float32Array(dim);
        for (let m = 0; m < M; m++) {
          let s = 0, s2 = 0;
          for (let t = 0; t < T; t++) { const e = f[t * M + m]!; s += e; s2 += e * e; }
          v[m] = s / T;
          v[M + m] = Math.sqrt(Math.max(s2 / T - (s / T) ** 2, 0));
        }
        cache.set(r, v);
      });
    }
  };
  const stack = (rows: Row[]) => {
    featurizeAll(rows);
    const x = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => x.set(cache.get(r)!, i * dim));
    return x;
  };
  const xTest = stack(testRows);
  return {
    score(subset, y, classes, yTest) {
      const x = stack(Array.from(subset, (i) => trainRows[i]!));
      const model = fitLinear(x, subset.length, dim, y, classes, 'softmax', { steps: 300, standardize: true });
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
      labelsPerClass: argValue(args, '--labels-per-class')?.split(',').map(Number),
      seeds: num('--seeds'),
      validation: args.includes('--validation'),
      budgetSeconds: num('--budget-seconds'),
      steps: num('--steps'),
      temperature: num('--temperature'),
      objective: argValue(args, '--objective') as 'infonce' | 'vicreg' | undefined,
      projectionDim: num('--projection-dim'),
      variant: argValue(args, '--variant') as 'mse' | 'cpc' | undefined,
      pretrainLearningRate: num('--learning-rate'),
      finetuneLearningRate: num('--finetune-learning-rate'),
      scratchLearningRate: num('--scratch-learning-rate'),
      encoder: argValue(args, '--encoder') as EncoderKind | undefined,
      dim: num('--dim'),
      spatialEmbedding: args.includes('--pooled-embedding') ? false : undefined,
      // Both FULL arms (sslFinetune and scratch) get the same augmentation, so the comparison stays fair.
      ...(args.includes('--finetune-augment') ? { finetune: { augment: true } } : {}),
      testLimit: num('--test-limit'),
      selfTraining: args.includes('--self-training'),
      selfTrainingOptions: num('--self-training-rounds') !== undefined || num('--self-training-multiplier') !== undefined
        ? { rounds: num('--self-training-rounds'), perClassMultiplier: num('--self-training-multiplier') }
        : undefined,
      // --ssl-variants 0.3,0.1,0.3@1e-3,1/noprobe: encoder rate scale [@ head rate] [/noprobe: no linear-probe
      // head] per extra sslFinetune arm.
      sslVariants: argValue(args, '--ssl-variants')?.split(',').map((v) => {
        const [spec, flag] = v.split('/');
        const [scale, rate] = spec!.split('@');
        if (flag !== undefined && flag !== 'noprobe') throw new Error(`--ssl-variants: unknown flag "/${flag}" in "${v}"; the only one is /noprobe.`);
        return { encoderLearningRateScale: Number(scale), ...(rate !== undefined ? { learningRate: Number(rate) } : {}), ...(flag ? { probeInit: false } : {}) };
      }),
      clipSeconds: num('--clip-seconds'),
      pretrainBatchSize: num('--batch-size'),
      maxLength: num('--max-length'),
      workers: argValue(args, '--workers') === undefined ? undefined : argValue(args, '--workers') === 'auto' ? 'auto' : Number(argValue(args, '--workers')),
      log: (m) => console.error(`[label-efficiency] ${m}`),
    });
    console.log(JSON.stringify(result, null, 2));
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
