// What a run carries in `runs.config`: everything the trainer needs, fixed at creation, so a retry or a resume
// trains exactly the same thing. Read back by the trainer API (spec) and the lifecycle (timeout, resources).
import type { FineTuneSettings, PretrainSettings } from '../../contracts/trainer-wire';
import type { Accelerator } from '../../contracts/accelerator';

export type { FineTuneSettings };

export interface RunResources {
  gpus: number;
  cpus: number;
  memoryMb: number;
}

interface RunConfigBase {
  datasetVersionId: string;
  manifestKey: string;
  resources: RunResources;
  timeoutSeconds: number;
  /** What the run trains on; absent on runs created before accelerators existed (CPU). */
  accelerator?: Accelerator;
}

/** A run's accelerator (runs created before it existed are CPU runs). */
export function acceleratorOf(c: { accelerator?: Accelerator } | null | undefined): Accelerator {
  return c?.accelerator === 'GPU' ? 'GPU' : 'CPU';
}

/** PRETRAIN runs (written before FINETUNE existed, so `kind` may be absent). */
export interface PretrainRunConfig extends RunConfigBase {
  kind?: 'PRETRAIN';
  /** Trainer settings without the row shape (the trainer takes it from the manifest). */
  train: PretrainSettings;
  /** A labeled dataset version the trained encoder is evaluated on (when the training rows carry no labels). */
  evaluation?: { datasetVersionId: string; manifestKey: string };
}

export interface FineTuneRunConfig extends RunConfigBase {
  kind: 'FINETUNE';
  /** The version whose encoder weights the run starts from (the new version's parent). */
  baseModelVersionId: string;
  /** The model the new version is registered under. */
  targetModelId: string | null;
  /** …or, when targetModelId is null, the name of a model to create (or reuse) for it. */
  targetModelName: string | null;
  finetune: FineTuneSettings;
  /** Attempts a retryRun grants (FINETUNE runs have no experiment to read it from). */
  maxAttempts: number;
}

export type RunConfig = PretrainRunConfig | FineTuneRunConfig;

export function readRunConfig(json: unknown): RunConfig {
  const c = json as (Partial<Omit<PretrainRunConfig, 'kind'>> & Partial<Omit<FineTuneRunConfig, 'kind'>> & { kind?: string }) | null;
  const incomplete = () => new Error('This run has no trainer configuration (runs.config is incomplete); it cannot be dispatched.');
  if (!c || typeof c !== 'object' || !c.manifestKey || !c.resources || !c.timeoutSeconds) throw incomplete();
  if (c.kind === 'FINETUNE') {
    if (!c.finetune || !c.baseModelVersionId) throw incomplete();
    return c as FineTuneRunConfig;
  }
  if (!c.train) throw incomplete();
  return c as PretrainRunConfig;
}

export function isFineTuneConfig(c: RunConfig): c is FineTuneRunConfig {
  return c.kind === 'FINETUNE';
}
