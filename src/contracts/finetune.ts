// Fine-tuning tasks, modes and hyperparameters: defaults and checks, free of tfjs so that the gateway can validate a
// createFineTune request without loading the training engine (moved here from src/training/finetune/).
import { FINETUNE_RECIPE } from '../models/recipes';

export type FineTuneTask = 'CLASSIFICATION' | 'REGRESSION';
export type FineTuneMode = 'LINEAR_PROBE' | 'MLP_HEAD' | 'FULL';
export const FINETUNE_TASKS: readonly FineTuneTask[] = ['CLASSIFICATION', 'REGRESSION'];
export const FINETUNE_MODES: readonly FineTuneMode[] = ['LINEAR_PROBE', 'MLP_HEAD', 'FULL'];

/** The linear probe's fit (src/training/eval/logistic.ts implements it). */
export interface LinearFitOptions {
  /** Full-batch Adam steps (default 300). */
  steps?: number;
  /** Adam step size on standardized features (default 0.05). */
  learningRate?: number;
  /** L2 penalty λ/2·‖W‖² on the kernel, not the bias (default 1e-3). */
  l2?: number;
  /** Standardize feature columns before fitting (default true); turn off for sparse, already-scaled features (TF-IDF). */
  standardize?: boolean;
}

export interface FineTuneHyperparameters {
  /** Peak AdamW rate for MLP_HEAD and FULL (default 1e-3; FULL from a pretrained text encoder 5e-4, the platform recipe). */
  learningRate?: number;
  /** Default 64 (capped at the number of training rows). */
  batchSize?: number;
  /** Passes over the labeled subset for MLP_HEAD / FULL (default 30, the platform recipe). */
  epochs?: number;
  /** Upper bound on optimizer steps whatever `epochs` says (default 2000): keeps the 100 %-label arm affordable. */
  maxSteps?: number;
  /** Lower bound on optimizer steps, so a tiny subset still gets trained (default 100, the platform recipe). */
  minSteps?: number;
  /** Decoupled AdamW weight decay on kernels (default 1e-4). */
  weightDecay?: number;
  /** Hidden widths of the MLP_HEAD head (default [256]); FULL uses a linear head unless given. */
  headHidden?: number[];
  /** Regressor outputs (default 1); labels hold that many comma-separated numbers. */
  outputs?: number;
  /** LINEAR_PROBE fit (and FULL's head initialization). */
  probe?: LinearFitOptions;
  /** FULL from a pretrained base: start the head from a linear probe (default true). */
  probeInit?: boolean;
  /**
   * FULL from a pretrained base: the encoder's rate as a multiple of `learningRate` (the head's), in (0, 1] (default
   * 1). Below 1 it is LP-FT's second stage: the probe-initialized head adapts at full rate while the encoder moves
   * slowly, so few labels distort the pretrained features less. Ignored from scratch (random features have nothing
   * to preserve). Not the default: on validation slices of Fashion-MNIST every scale below 1 scored lower (README,
   * "LP-FT encoder rate").
   */
  encoderLearningRateScale?: number;
  /** FULL: train on mild label-preserving views of each batch (crops and flips, scaling and jitter, token dropout). Default false. */
  augment?: boolean;
  /** Early stopping: share of the labeled subset held out for validation (default 0 = off). */
  validationFraction?: number;
  /** Early stopping: validations (one per epoch) without improvement before stopping (default 5). */
  patience?: number;
  /** MLP_HEAD / FULL: checkpoint every N steps, so a re-dispatched run resumes there (default 100; 0 = never). */
  checkpointEvery?: number;
  /**
   * FULL CLASSIFICATION: after fine-tuning, label the train rows it had no labels for with its most confident
   * predictions (class-balanced, 10 × the rarest class's labels per class) and fine-tune again from the base on
   * both (src/training/finetune/self-training.ts). Default false.
   */
  selfTraining?: boolean;
}

export interface Resolved {
  learningRate: number; batchSize: number; epochs: number; maxSteps: number; minSteps: number; weightDecay: number;
  headHidden: number[] | undefined; outputs: number; probe: LinearFitOptions; probeInit: boolean;
  encoderLearningRateScale: number;
  validationFraction: number; patience: number; augment: boolean; checkpointEvery: number; selfTraining: boolean;
}

/** Defaults applied and every value checked; throws an Error naming the bad field (the gateway validates with it). */
export function resolveHyperparameters(h: FineTuneHyperparameters = {}): Resolved {
  const r: Resolved = {
    learningRate: h.learningRate ?? FINETUNE_RECIPE.scratchLearningRate,
    batchSize: h.batchSize ?? FINETUNE_RECIPE.batchSize,
    epochs: h.epochs ?? FINETUNE_RECIPE.epochs,
    maxSteps: h.maxSteps ?? 2000,
    minSteps: h.minSteps ?? FINETUNE_RECIPE.minSteps,
    weightDecay: h.weightDecay ?? 1e-4,
    headHidden: h.headHidden,
    outputs: h.outputs ?? 1,
    probe: h.probe ?? {},
    probeInit: h.probeInit ?? true,
    encoderLearningRateScale: h.encoderLearningRateScale ?? 1,
    validationFraction: h.validationFraction ?? 0,
    patience: h.patience ?? 5,
    augment: h.augment ?? false,
    checkpointEvery: h.checkpointEvery ?? 100,
    selfTraining: h.selfTraining ?? false,
  };
  const int = (name: string, v: number, min: number, hint: string) => {
    if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}; got ${v}. ${hint}`);
  };
  if (!(r.learningRate > 0) || !Number.isFinite(r.learningRate)) throw new Error(`learningRate must be a finite number > 0; got ${r.learningRate}. Try 1e-3.`);
  int('batchSize', r.batchSize, 1, 'Try 32–256.');
  int('epochs', r.epochs, 1, 'Try 10–50 for small label sets.');
  int('maxSteps', r.maxSteps, 1, 'Try 500–5000.');
  int('minSteps', r.minSteps, 0, 'Use 0 for no floor.');
  int('outputs', r.outputs, 1, 'One per regression target.');
  int('patience', r.patience, 1, 'Try 3–10.');
  int('checkpointEvery', r.checkpointEvery, 0, 'Use 0 for no checkpoints.');
  if (!(r.encoderLearningRateScale > 0 && r.encoderLearningRateScale <= 1)) {
    throw new Error(`encoderLearningRateScale must be in (0, 1]; got ${r.encoderLearningRateScale}. Try 0.1–0.3, or 1 for one rate everywhere.`);
  }
  if (!(r.weightDecay >= 0)) throw new Error(`weightDecay must be ≥ 0; got ${r.weightDecay}. Try 1e-4.`);
  if (!(r.validationFraction >= 0 && r.validationFraction < 1)) throw new Error(`validationFraction must be in [0, 1); got ${r.validationFraction}. Try 0.1, or 0 to turn early stopping off.`);
  r.headHidden?.forEach((w) => int('headHidden width', w, 1, 'E.g. [256].'));
  return r;
}

