// Pretraining settings (a run's `train` config): defaults and checks, free of tfjs so that the gateway validates a
// createExperiment with the same code the trainer resolves its settings with (moved from src/training/trainer/).
import type { EncoderKind } from '../models/spec';
import type { Modality, RowShape } from '../ingest/types';
import { PRETEXTS, type Pretext, type TaskOptions } from './pretext';

export type BackendName = 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['wasm', 'cpu'];

export interface TrainConfig {
  modality: Modality;
  pretext: Pretext;
  /** Declared row shape (the dataset manifest's `shape`). */
  shape: RowShape;
  /** Encoder family; default: the task's first choice (see PretextTask.encoderKinds). */
  encoder?: EncoderKind;
  /** Embedding width (default 64) and transformer depth (default 2). */
  dim?: number;
  layers?: number;
  /** Task hyperparameters: maskRatio, temperature, variant ('mse' | 'cpc'), projectionDim, patchSize. */
  task?: TaskOptions;
  batchSize: number;
  /** Passes over the train split; ignored when `steps` is set. Default 1. */
  epochs?: number;
  /** Total optimizer steps (overrides epochs). */
  steps?: number;
  learningRate?: number;
  minLearningRate?: number;
  /** Default: 10 % of the steps, at most 100. */
  warmupSteps?: number;
  weightDecay?: number;
  /** Global gradient-norm clip (default 1). */
  clipNorm?: number;
  seed?: number | string;
  /** Save a checkpoint every N steps (and always at the end); 0 = only at the end. */
  checkpointEvery?: number;
  /** kNN evaluation every N steps (and at the end) when labeled validation rows exist; 0 = only at the end. */
  evalEvery?: number;
  knnK?: number;
  /** Labeled train rows embedded as the kNN bank (a fixed, seeded sample), and validation rows scored. */
  knnBankSize?: number;
  knnQuerySize?: number;
  /** TEXT: tokens per example including [CLS] (default 64), and tokenizer vocabulary (default 2000). */
  maxLength?: number;
  vocabSize?: number;
  /** SEQUENCE with variable length: steps every example is cut or padded to (default: the longest row, ≤ 512). */
  sequenceLength?: number;
  /** Backend for this run; default: the engine's choice (wasm until the engine says otherwise). */
  backend?: BackendName;
  /** Debugging / tests: train on one fixed batch (same examples, same augmentation) to check the loss can fall. */
  overfitOneBatch?: boolean;
  /** Continue from the store's latest checkpoint when there is one (default true). */
  resume?: boolean;
  /**
   * Data-parallel replicas (worker threads, one tfjs engine each, gradients averaged every step): a number, or
   * 'auto' = every core on the CPU engines (wasm / cpu). Default 1 (in-process).
   */
  workers?: number | 'auto';
}

export interface ResolvedConfig extends Required<Omit<TrainConfig, 'encoder' | 'steps' | 'warmupSteps' | 'backend' | 'sequenceLength' | 'task'>> {
  encoder?: EncoderKind;
  steps?: number;
  warmupSteps?: number;
  backend?: BackendName;
  sequenceLength?: number;
  task: TaskOptions;
}

/** Fills defaults and rejects bad values, each with how to fix it. */
export function resolveConfig(config: TrainConfig): ResolvedConfig {
  if (!PRETEXTS.includes(config.pretext)) throw new Error(`Unsupported pretext: "${String(config.pretext)}". Should be one of: ${PRETEXTS.join(', ')}.`);
  if (!config.shape || config.shape.modality !== config.modality) {
    throw new Error(`config.shape.modality (${config.shape?.modality}) must equal config.modality (${config.modality}); pass the dataset manifest's shape.`);
  }
  const c: ResolvedConfig = {
    ...config,
    dim: config.dim ?? 64,
    layers: config.layers ?? 2,
    task: config.task ?? {},
    epochs: config.epochs ?? 1,
    learningRate: config.learningRate ?? 1e-3,
    minLearningRate: config.minLearningRate ?? 0,
    weightDecay: config.weightDecay ?? 0.01,
    clipNorm: config.clipNorm ?? 1,
    seed: config.seed ?? 0,
    checkpointEvery: config.checkpointEvery ?? 0,
    evalEvery: config.evalEvery ?? 0,
    knnK: config.knnK ?? 5,
    knnBankSize: config.knnBankSize ?? 1000,
    knnQuerySize: config.knnQuerySize ?? 500,
    maxLength: config.maxLength ?? 64,
    vocabSize: config.vocabSize ?? 2000,
    overfitOneBatch: config.overfitOneBatch ?? false,
    resume: config.resume ?? true,
    workers: config.workers ?? 1,
  };
  if (c.workers !== 'auto' && (!Number.isInteger(c.workers) || c.workers < 1 || c.workers > 64)) {
    throw new Error(`workers must be 'auto' or an integer in 1..64; got ${String(c.workers)}. Use 'auto' for every core.`);
  }
  const posInt = (name: string, v: number | undefined, hint: string, min = 1) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new Error(`${name} must be an integer ≥ ${min}; got ${v}. ${hint}`);
  };
  posInt('batchSize', c.batchSize, 'Try 32–256.');
  if (c.batchSize === undefined) throw new Error('batchSize is required. Try 32–256.');
  posInt('epochs', c.epochs, 'Use at least 1 pass.');
  posInt('steps', c.steps, 'Use at least 1 step, or leave it out to train for `epochs`.');
  posInt('dim', c.dim, 'Try 64–256.', 2);
  posInt('layers', c.layers, 'Try 2–4.');
  posInt('warmupSteps', c.warmupSteps, 'Use 0 for no warmup.', 0);
  posInt('checkpointEvery', c.checkpointEvery, 'Use 0 to checkpoint only at the end.', 0);
  posInt('evalEvery', c.evalEvery, 'Use 0 to evaluate only at the end.', 0);
  posInt('knnK', c.knnK, 'Try 5–20.');
  posInt('maxLength', c.maxLength, 'Try 64–256.', 4);
  posInt('vocabSize', c.vocabSize, 'Try 2000–30000.', 64);
  posInt('sequenceLength', c.sequenceLength, 'Use the typical number of time steps.', 2);
  if (!(c.learningRate > 0) || !Number.isFinite(c.learningRate)) throw new Error(`learningRate must be a finite number > 0; got ${c.learningRate}. Try 1e-3.`);
  if (!(c.weightDecay >= 0)) throw new Error(`weightDecay must be ≥ 0; got ${c.weightDecay}. Try 0.01.`);
  if (!(c.clipNorm > 0)) throw new Error(`clipNorm must be > 0; got ${c.clipNorm}. Use Infinity to disable clipping.`);
  return c;
}

/** The settings a checkpoint must share with the run that resumes it. */
export function fingerprint(c: ResolvedConfig): string {
  const { resume: _r, backend: _b, workers: _w, evalEvery: _e, checkpointEvery: _c, knnK: _k, knnBankSize: _kb, knnQuerySize: _kq, ...rest } = c;
  return stableJson(rest);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
