// Messages between the data-parallel coordinator (the thread that called train()) and its replica worker threads.
// Everything here crosses a structured clone: plain data only.
import type { Row } from '../../ingest/types';
import type { ModelSpec } from '../../models/spec';
import type { NamedWeights } from '../encoders/params';
import type { SequenceNormalization } from '../data/rows';
import type { Checkpoint } from '../trainer/checkpoint';
import type { TrainConfig } from '../trainer/config';
import type { EvalMetrics, StepMetrics } from '../trainer/train';

export interface ReplicaWorkerData {
  rank: number;
  replicas: number;
  config: TrainConfig;
  rows: Row[];
  /** The checkpoint to resume from (read once by the coordinator), or null. */
  resumed: Checkpoint | null;
  /** Whether the caller gave a checkpoint store (rank 0 then sends checkpoints to the coordinator to save). */
  hasStore: boolean;
  control: SharedArrayBuffer;
}

/** What rank 0 hands back: enough to rebuild the trained model and heads in the coordinator's engine. */
export interface ReplicaResult {
  backend: string;
  steps: number;
  totalSteps: number;
  stepsThisRun: number;
  resumedFrom: number | null;
  stopped: boolean;
  initialLoss: number;
  finalLoss: number;
  losses: number[];
  samplesPerSecond: number;
  dataWaitSeconds: number;
  stepSeconds: number;
  evaluation: EvalMetrics | null;
  spec: ModelSpec;
  weights: NamedWeights;
  heads: NamedWeights;
  tokenizer?: string;
  normalization?: SequenceNormalization;
  sequenceLength?: number;
}

export type FromReplica =
  | { type: 'agree'; id: number; value: unknown }
  | { type: 'connect'; length: number; fingerprint: string }
  | { type: 'step'; metrics: StepMetrics }
  | { type: 'eval'; metrics: EvalMetrics }
  | { type: 'log'; level: 'info' | 'warn'; message: string }
  | { type: 'checkpoint'; id: number; checkpoint: Checkpoint }
  | { type: 'done'; result: ReplicaResult | null }
  | { type: 'error'; message: string; stack?: string };

export type ToReplica =
  | { type: 'agreed'; id: number; value: unknown }
  | { type: 'buffers'; data: SharedArrayBuffer; length: number }
  | { type: 'checkpointed'; id: number; location?: string; error?: string };
