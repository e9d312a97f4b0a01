// One fine-tuning arm runner of the label-efficiency benchmark: a worker thread with its own tfjs engine that holds
// the labeled rows once and runs fineTune jobs (probe, SSL fine-tune, scratch) on request, so the arms of one
// benchmark use every core. Only job parameters and results cross the thread boundary per job.
import { parentPort, workerData } from 'node:worker_threads';
import type { Row } from '../../src/ingest/types';
import type { ModelSpec } from '../../src/models/spec';
import type { NamedWeights } from '../../src/training/encoders/params';
import type { SequenceNormalization } from '../../src/training/data/rows';
import { fineTune, type FineTuneHyperparameters } from '../../src/training/finetune';
import { fineTuneWithSelfTraining, type SelfTrainingOptions } from '../../src/training/finetune/self-training';
import { TextTokenizer } from '../../src/training/tokenizer';

export interface ArmWorkerData {
  rows: Row[];
  labels: string[];
  spec: ModelSpec;
  sslWeights: NamedWeights;
  tokenizer?: string;
  normalization?: SequenceNormalization;
}

export interface ArmJob {
  id: number;
  arm: 'sslProbe' | 'sslFinetune' | 'scratch' | 'sslSelfTrain' | 'scratchSelfTrain';
  labelFraction?: number;
  labelsPerClass?: number;
  seed: number;
  hyperparameters?: FineTuneHyperparameters;
  /** Self-training arms: rounds and pseudo-labels per class (defaults of fineTuneWithSelfTraining when unset). */
  selfTraining?: SelfTrainingOptions;
}

export interface ArmOutcome {
  id: number;
  accuracy?: number;
  trainSize?: number;
  steps?: number;
  seconds?: number;
  /** [step, training loss] every few steps (FULL arms). */
  curve?: Array<[number, number]>;
  error?: string;
}

const data = workerData as ArmWorkerData;
const pipeline = { tokenizer: data.tokenizer ? TextTokenizer.fromJSON(data.tokenizer) : undefined, normalization: data.normalization };

parentPort!.on('message', (job: ArmJob) => {
  void (async (): Promise<ArmOutcome> => {
    const curve: Array<[number, number]> = [];
    const selfTrain = job.arm === 'sslSelfTrain' || job.arm === 'scratchSelfTrain';
    const fromScratch = job.arm === 'scratch' || job.arm === 'scratchSelfTrain';
    const run = selfTrain ? (o: Parameters<typeof fineTune>[0]) => fineTuneWithSelfTraining(o, job.selfTraining) : fineTune;
    const r = await run({
      rows: data.rows,
      labels: data.labels,
      pipeline,
      task: 'CLASSIFICATION',
      backend: 'wasm',
      seed: job.seed,
      ...(job.labelsPerClass !== undefined ? { labelsPerClass: job.labelsPerClass } : { labelFraction: job.labelFraction ?? 1 }),
      ...(fromScratch ? { base: null, spec: data.spec } : { base: { spec: data.spec, weights: data.sslWeights } }),
      mode: job.arm === 'sslProbe' ? 'LINEAR_PROBE' : 'FULL',
      hyperparameters: job.arm === 'sslProbe' ? undefined : job.hyperparameters,
      onStep: (step, total, loss) => { if (step % 10 === 0 || step === total) curve.push([step, Number(loss.toFixed(5))]); },
    });
    const accuracy = r.evaluation?.task === 'CLASSIFICATION' ? r.evaluation.accuracy : NaN;
    return { id: job.id, accuracy, trainSize: r.trainSize, steps: r.steps, seconds: r.seconds, curve };
  })()
    .catch((e: unknown): ArmOutcome => ({ id: job.id, error: e instanceof Error ? e.message : String(e) }))
    .then((out) => parentPort!.postMessage(out));
});
