// What a run carries in `runs.config`: everything the trainer needs, fixed at creation, so a retry or a resume
// trains exactly the same thing. Read back by the trainer API (spec) and the lifecycle (timeout, resources).
import type { TrainConfig } from '../../training/trainer/config';

export interface RunResources {
  gpus: number;
  cpus: number;
  memoryMb: number;
}

export interface RunConfig {
  datasetVersionId: string;
  manifestKey: string;
  /** Trainer settings without the row shape (the trainer takes it from the manifest). */
  train: Omit<TrainConfig, 'shape'>;
  resources: RunResources;
  timeoutSeconds: number;
}

export function readRunConfig(json: unknown): RunConfig {
  const c = json as Partial<RunConfig> | null;
  if (!c || typeof c !== 'object' || !c.train || !c.manifestKey || !c.resources || !c.timeoutSeconds) {
    throw new Error('This run has no trainer configuration (runs.config is incomplete); it cannot be dispatched.');
  }
  return c as RunConfig;
}
