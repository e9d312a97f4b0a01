// The trainer wire format: what a trainer task reads from the gateway's job-scoped trainer API (its spec) and what it
// reports back when it finishes (its completion report). Both sides import this file and nothing of each other:
// the trainer container (src/training/main.ts, task/) never loads the control plane, and the gateway's trainer
// service (src/modules/runs/trainer.ts) never loads TensorFlow.js.
import type { Accelerator } from './accelerator';
import type { FineTuneHyperparameters, FineTuneMode, FineTuneTask } from './finetune';
import type { TrainConfig } from './train-config';

/** JSON as the wire carries it (and as Prisma's Json columns accept it). */
export type JsonValue = string | number | boolean | JsonObject | JsonArray;
export type JsonObject = { [key: string]: JsonValue | null | undefined };
export type JsonArray = ReadonlyArray<JsonValue | null>;

/** A PRETRAIN run's trainer settings: TrainConfig without the row shape (the trainer takes it from the manifest). */
export type PretrainSettings = Omit<TrainConfig, 'shape'>;

/** What a FINETUNE run trains: a head (and, in FULL mode, the encoder) on a labeled dataset version. */
export interface FineTuneSettings {
  task: FineTuneTask;
  mode: FineTuneMode;
  labelFraction: number;
  hyperparameters: FineTuneHyperparameters;
  seed: number;
  backend?: 'wasm' | 'cpu';
}

/** A FINETUNE run's settings plus where its base version's artifacts are (presigned GETs). */
export interface FineTuneSpec extends FineTuneSettings {
  base: {
    modelVersionId: string;
    /** The base version's stored inputSpec: { spec, preprocess }. */
    inputSpec: unknown;
    weightsUrl: string;
    tokenizerUrl: string | null;
  };
}

export interface TrainerSpec {
  runId: string;
  attempt: number;
  heartbeatSeconds: number;
  kind: 'PRETRAIN' | 'FINETUNE';
  /** The engine class the run must train on: GPU runs fail when the trainer has no GPU engine (no fallback). */
  accelerator: Accelerator;
  /** PRETRAIN: the trainer settings. */
  train?: PretrainSettings;
  /** FINETUNE: what to fine-tune and how. */
  finetune?: FineTuneSpec;
  /** The dataset version the run trains on. */
  datasetVersionId: string;
  manifest: { key: string; url: string };
  shards: Array<{ key: string; url: string }>;
  /** PRETRAIN with a labeled evaluation version: its manifest and shards, for the evaluation report. */
  evaluationSet?: { datasetVersionId: string; manifest: { key: string; url: string }; shards: Array<{ key: string; url: string }> };
  /** The last checkpoint (resume from it), or null. */
  checkpoint: { step: number; prefix: string; jsonUrl: string; tensorsUrl: string } | null;
  outputPrefix: string;
}

/** The head a FINETUNE run trained, as ModelVersion.head stores it (predict reads labels from here). */
export interface HeadReport {
  task: 'CLASSIFICATION' | 'REGRESSION';
  /** CLASSIFICATION: class names in logit order. */
  labels?: string[];
  /** REGRESSION: values per prediction. */
  outputs?: number;
  mode?: string;
  labelFraction?: number;
  trainSize?: number;
}

export interface CompletionReport {
  onnxKey: string;
  tokenizerKey?: string | null;
  /** The trained weights (src/models/weights-file.ts), so that the version can be fine-tuned later. */
  weightsKey?: string | null;
  /** FINETUNE runs: the head they trained. */
  head?: HeadReport | null;
  inputSpec: JsonValue;
  embeddingDim: number;
  evaluation?: JsonValue | null;
}
