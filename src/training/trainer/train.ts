// The trainer: one entry point used by `pretext train --local` and by the container task. It owns the loop (data
// order, prefetching, gradient step, checkpoints, evaluation); what is learned is the pretext task's business.
import { tf } from '../engine/tf';
import type { ModelSpec } from '../../models/spec';
import type { Row } from '../../ingest/types';
import { buildModel, type PretextModel } from '../encoders/model';
import type { ParamStore } from '../encoders/params';
import { getPretextTask } from '../pretext/registry';
import { createHeadStore } from '../pretext/heads';
import type { Example, PretextTask, TaskSetup } from '../pretext/types';
import { TextTokenizer } from '../tokenizer/textTokenizer';
import { AdamW } from '../optim/adamw';
import { warmupCosine } from '../optim/schedule';
import { checkRows, collectRows, fitSequenceNormalization, rowsOfSplit, toExamples, type SequenceNormalization } from '../data/rows';
import { planBatches } from '../data/batches';
import { PrefetchLoader } from '../data/loader';
import { createRng } from '../rng';
import { useBackend } from './backend';
import { fingerprint, resolveConfig, type ResolvedConfig, type TrainConfig } from './config';
import type { Checkpoint, CheckpointStore } from './checkpoint';
import { knnAccuracy } from './knn';

export interface StepMetrics {
  /** Steps completed, counting this one. */
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  learningRate: number;
  gradNorm: number;
  samplesPerSecond: number;
}

export interface EvalMetrics { step: number; knnAccuracy: number; k: number; bankSize: number; querySize: number }

/** How the trainer reports; the jobs engineer wires these to the gateway. Every hook may be async. */
export interface TrainerCallbacks {
  onStep?(metrics: StepMetrics): void | Promise<void>;
  onCheckpoint?(info: { step: number; location: string }): void | Promise<void>;
  onEval?(metrics: EvalMetrics): void | Promise<void>;
  onLog?(level: 'info' | 'warn', message: string): void;
  /** Polled before every step; true stops the run after writing a checkpoint. */
  shouldStop?(): boolean | Promise<boolean>;
}

export interface TrainOptions {
  data: readonly Row[] | AsyncIterable<Row>;
  callbacks?: TrainerCallbacks;
  store?: CheckpointStore;
}

export interface TrainResult {
  backend: string;
  /** Steps completed in total (including steps before a resume). */
  steps: number;
  totalSteps: number;
  stepsThisRun: number;
  resumedFrom: number | null;
  stopped: boolean;
  /** Loss of the first and last step ever taken in this run's history. */
  initialLoss: number;
  finalLoss: number;
  losses: number[];
  /** Training throughput of this call (examples per second of step time, prefetch included). */
  samplesPerSecond: number;
  /**
   * Seconds of `stepSeconds` spent waiting for the next batch. The prefetch overlaps batch assembly with backend
   * work only where the backend really waits (native / GPU bindings, the tokenizer's thread pool); wasm and cpu
   * compute synchronously on the one JS thread, so there the assembly time shows up here.
   */
  dataWaitSeconds: number;
  stepSeconds: number;
  evaluation: EvalMetrics | null;
  spec: ModelSpec;
  /** The trained model and task heads: the caller owns them and must dispose() them. */
  model: PretextModel;
  heads: ParamStore;
  task: PretextTask;
  tokenizer?: TextTokenizer;
  normalization?: SequenceNormalization;
}

const MAX_SEQUENCE_LENGTH = 512;

export async function train(config: TrainConfig, options: TrainOptions): Promise<TrainResult> {
  const c = resolveConfig(config);
  const cb = options.callbacks ?? {};
  const log = (level: 'info' | 'warn', msg: string) => cb.onLog?.(level, msg);
  const backend = await useBackend(c.backend);

  const rows = await collectRows(options.data);
  checkRows(rows, c.shape);
  const trainRows = rowsOfSplit(rows, 'train');
  if (trainRows.length === 0) {
    throw new Error(`The dataset has no rows in the train split (${rows.length} rows in all); cannot train on an empty dataset.`);
  }
  const task = getPretextTask(c.pretext, c.modality, c.task);
  const encoderKind = c.encoder ?? task.encoderKinds[0]!;

  const resumed = c.resume && options.store ? await options.store.latest() : null;
  const print = fingerprint(c);
  if (resumed && resumed.fingerprint !== print) {
    throw new Error('The latest checkpoint was written with different training settings; resume with the same config, or pass resume: false to start over.');
  }

  // Data-dependent preprocessing, restored from the checkpoint so a resumed run sees identical inputs.
  let tokenizer: TextTokenizer | undefined;
  let normalization: SequenceNormalization | undefined;
  let sequenceLength: number | undefined;
  if (c.modality === 'TEXT') {
    tokenizer = resumed?.tokenizer
      ? TextTokenizer.fromJSON(resumed.tokenizer)
      : await TextTokenizer.train(trainRows.map((r) => (r.modality === 'TEXT' ? r.text : '')), { vocabSize: c.vocabSize });
  }
  if (c.shape.modality === 'SEQUENCE') {
    const longest = trainRows.reduce((m, r) => Math.max(m, r.modality === 'SEQUENCE' ? r.length : 0), 0);
    sequenceLength = c.sequenceLength ?? c.shape.length ?? Math.min(MAX_SEQUENCE_LENGTH, longest);
    normalization = resumed?.normalization ?? fitSequenceNormalization(trainRows, c.shape.features);
  }
  const base: Omit<TaskSetup, 'spec'> = { shape: c.shape, tokenizer, maxLength: c.maxLength, sequenceLength };
  const spec = task.modelSpec(encoderKind, base, { dim: c.dim, layers: c.layers });
  const setup: TaskSetup = { ...base, spec };
  const examplesOf = async (subset: readonly Row[]): Promise<Example[]> => {
    const tokens = tokenizer ? await tokenizeRows(tokenizer, subset, 4 * c.maxLength) : undefined;
    return toExamples(subset, { shape: c.shape, sequenceLength, normalization, tokens });
  };
  const examples = await examplesOf(trainRows);

  const plan = planBatches(examples.length, c.batchSize, c.seed);
  if (plan.batchSize < c.batchSize) log('warn', `batchSize ${c.batchSize} exceeds the ${examples.length} training rows; using ${plan.batchSize}.`);
  const totalSteps = c.steps ?? c.epochs * plan.stepsPerEpoch;
  const warmupSteps = c.warmupSteps ?? Math.min(100, Math.floor(totalSteps / 10));
  const optimizer = new AdamW({
    learningRate: warmupCosine({ learningRate: c.learningRate, warmupSteps, totalSteps, minLearningRate: c.minLearningRate }),
    weightDecay: c.weightDecay,
    clipNorm: c.clipNorm,
  });

  const model = buildModel(spec, { seed: c.seed });
  const heads = createHeadStore(c.seed);
  try {
    task.addHeads(heads, setup);
    let startStep = 0;
    const losses: number[] = [];
    if (resumed) {
      model.setWeights(resumed.weights);
      heads.importWeights(resumed.heads);
      optimizer.importState(resumed.optimizer);
      startStep = resumed.step;
      losses.push(...resumed.losses);
      log('info', `Resuming from step ${startStep} of ${totalSteps}.`);
    }

    const variables: Record<string, tf.Variable> = { ...model.trainableVariables(), ...heads.trainableVariables() };
    const byTfName = new Map(Object.entries(variables).map(([name, v]) => [v.name, name]));
    const varList = Object.values(variables);
    const evaluator = await makeEvaluator(c, rows, trainRows, examplesOf);

    const saveCheckpoint = async (step: number) => {
      if (!options.store) return;
      const ckpt: Checkpoint = {
        formatVersion: 1,
        step,
        spec,
        weights: model.getWeights(),
        heads: heads.exportWeights(),
        optimizer: optimizer.exportState(),
        rng: { seed: c.seed, step },
        losses: losses.slice(0, step),
        tokenizer: tokenizer?.toJSON(),
        normalization,
        fingerprint: print,
      };
      const location = await options.store.save(ckpt);
      await cb.onCheckpoint?.({ step, location });
    };
    let evaluation: EvalMetrics | null = null;
    const evaluate = async (step: number) => {
      if (!evaluator) return;
      evaluation = { step, ...(await evaluator(task, model, heads, setup)) };
      await cb.onEval?.(evaluation);
    };

    const loader = new PrefetchLoader((step) => {
      const s = c.overfitOneBatch ? 0 : step;
      const idx = plan.indices(s);
      return task.prepare(Array.from(idx, (i) => examples[i]!), plan.rng(s), setup);
    }, totalSteps);

    let stopped = false;
    let stepTime = 0;
    let dataWait = 0;
    let samples = 0;
    let step = startStep;
    for (; step < totalSteps; step++) {
      if (await cb.shouldStop?.()) {
        stopped = true;
        log('info', `Stop requested at step ${step}.`);
        break;
      }
      const started = performance.now();
      const batch = await loader.get(step);
      dataWait += (performance.now() - started) / 1000;
      const dropout = createRng(c.seed, 'dropout', step);
      const { value, grads } = tf.variableGrads(() => task.loss(model, heads, batch, { training: true, rng: () => dropout.next() }), varList);
      const named: Record<string, tf.Tensor> = {};
      for (const [tfName, g] of Object.entries(grads)) named[byTfName.get(tfName) ?? tfName] = g;
      const info = optimizer.applyGradients(variables, named);
      tf.dispose(Object.values(grads));
      const loss = (await value.data())[0]!;
      value.dispose();
      if (!Number.isFinite(loss)) {
        throw new Error(`Loss became ${loss} at step ${step + 1}; lower learningRate (now ${c.learningRate}) or clipNorm.`);
      }
      const elapsed = (performance.now() - started) / 1000;
      stepTime += elapsed;
      samples += plan.batchSize;
      losses[step] = loss;
      await cb.onStep?.({
        step: step + 1,
        totalSteps,
        epoch: Math.floor(step / plan.stepsPerEpoch),
        loss,
        learningRate: info.learningRate,
        gradNorm: info.gradNorm,
        samplesPerSecond: plan.batchSize / Math.max(elapsed, 1e-9),
      });
      const done = step + 1;
      if (c.checkpointEvery > 0 && done % c.checkpointEvery === 0 && done < totalSteps) await saveCheckpoint(done);
      if (c.evalEvery > 0 && done % c.evalEvery === 0 && done < totalSteps) await evaluate(done);
    }
    if (step > startStep || stopped || !resumed) await saveCheckpoint(step);
    await evaluate(step);
    if (losses.length === 0) throw new Error('No training step ran (0 steps); raise epochs or steps.');
    return {
      backend,
      steps: step,
      totalSteps,
      stepsThisRun: step - startStep,
      resumedFrom: resumed ? resumed.step : null,
      stopped,
      initialLoss: losses[0]!,
      finalLoss: losses[losses.length - 1]!,
      losses,
      samplesPerSecond: stepTime > 0 ? samples / stepTime : 0,
      dataWaitSeconds: dataWait,
      stepSeconds: stepTime,
      evaluation,
      spec,
      model,
      heads,
      task,
      tokenizer,
      normalization,
    };
  } catch (e) {
    model.dispose();
    heads.dispose();
    throw e;
  } finally {
    optimizer.dispose();
  }
}

async function tokenizeRows(tokenizer: TextTokenizer, rows: readonly Row[], cap: number): Promise<Int32Array[]> {
  const texts = rows.map((r) => (r.modality === 'TEXT' ? r.text : ''));
  const out: Int32Array[] = [];
  // Chunks keep the native tokenizer's peak memory bounded on large uploads.
  for (let i = 0; i < texts.length; i += 1024) {
    for (const ids of await tokenizer.tokenize(texts.slice(i, i + 1024))) out.push(ids.length > cap ? ids.slice(0, cap) : ids);
  }
  return out;
}

type Evaluator = (task: PretextTask, model: PretextModel, heads: ParamStore, setup: TaskSetup) => Promise<Omit<EvalMetrics, 'step'>>;

/** kNN on embeddings when both splits carry labels; null otherwise. The bank and queries are fixed, seeded samples. */
async function makeEvaluator(
  c: ResolvedConfig, rows: readonly Row[], trainRows: readonly Row[], examplesOf: (rows: readonly Row[]) => Promise<Example[]>,
): Promise<Evaluator | null> {
  const sample = (subset: Row[], n: number, purpose: string) => {
    const order = createRng(c.seed, 'knn', purpose).permutation(subset.length);
    return Array.from(order.subarray(0, Math.min(n, subset.length)), (i) => subset[i]!);
  };
  const bankRows = sample(trainRows.filter((r) => r.label !== null), c.knnBankSize, 'bank');
  const queryRows = sample(rowsOfSplit(rows, 'validation').filter((r) => r.label !== null), c.knnQuerySize, 'query');
  if (bankRows.length === 0 || queryRows.length === 0) return null;
  const bank = await examplesOf(bankRows);
  const queries = await examplesOf(queryRows);
  const embedAll = async (task: PretextTask, model: PretextModel, heads: ParamStore, setup: TaskSetup, ex: Example[]) => {
    const parts: Float32Array[] = [];
    let dim = 0;
    for (let i = 0; i < ex.length; i += 128) {
      const emb = task.embed(model, heads, task.embedInputs(ex.slice(i, i + 128), setup));
      dim = emb.shape[1];
      parts.push((await emb.data()) as Float32Array);
      emb.dispose();
    }
    const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { all.set(p, o); o += p.length; }
    return { all, dim };
  };
  return async (task, model, heads, setup) => {
    const b = await embedAll(task, model, heads, setup, bank);
    const q = await embedAll(task, model, heads, setup, queries);
    const acc = knnAccuracy(b.all, bankRows.map((r) => r.label!), q.all, queryRows.map((r) => r.label!), b.dim, c.knnK);
    return { knnAccuracy: acc, k: c.knnK, bankSize: bankRows.length, querySize: queryRows.length };
  };
}
