// Messages between the data-parallel coordinator (the thread that called train()) and its replica worker threads.
// Everything here crosses a structured clone: plain data only.
import type { Row } from '../../ingest/types';
import type { NamedWeights } from '../encoders/params';
import type { Checkpoint } from '../trainer/checkpoint';
import type { TrainConfig } from '../trainer/config';
import type { EvalMetrics, StepMetrics, TrainResult } from '../trainer/train';

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

/**
 * What rank 0 hands back: the plain-data part of its TrainResult, plus the weights (instead of live tfjs objects) and
 * the tokenizer as JSON, enough to rebuild the trained model and heads in the coordinator's engine.
 */
export type ReplicaResult = Omit<TrainResult, 'model' | 'heads' | 'task' | 'tokenizer'> & {
  weights: NamedWeights;
  heads: NamedWeights;
  tokenizer?: string;
  sequenceLength?: number;
};

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
