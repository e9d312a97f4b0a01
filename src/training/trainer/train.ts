// The trainer: one entry point used by `pretext train --local` and by the container task. It owns the loop (data
// order, prefetching, gradient step, checkpoints, evaluation); what is learned is the pretext task's business.
import { createHash } from 'node:crypto';
import os from 'node:os';
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
import type { SharedAllReduce } from '../parallel/allreduce';

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
  /** Internal: set by the data-parallel coordinator in each worker thread (../parallel). */
  replica?: ReplicaHooks;
}

/**
 * What a data-parallel replica needs from its coordinator. Rank 0 reports (callbacks, checkpoints, evaluation);
 * every rank computes its shard's gradients and averages them through `connect`'s all-reduce.
 */
export interface ReplicaHooks {
  rank: number;
  replicas: number;
  /**
   * Data-dependent setup decided once for all replicas: rank 0 computes it (e.g. trains the tokenizer, whose
   * training is not guaranteed to be deterministic), the others receive rank 0's value.
   */
  agree<T>(compute: () => Promise<T>): Promise<T>;
  /** Called once the model is built: `length` floats are reduced per step; `fingerprint` must match on all ranks. */
  connect(length: number, fingerprint: string): Promise<SharedAllReduce>;
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
const MAX_AUDIO_SECONDS = 30;

export async function train(config: TrainConfig, options: TrainOptions): Promise<TrainResult> {
  const c = resolveConfig(config);
  const cb = options.callbacks ?? {};
  const log = (level: 'info' | 'warn', msg: string) => cb.onLog?.(level, msg);
  const backend = await useBackend(c.backend);
  const replica = options.replica;
  if (!replica) {
    const replicas = replicaCount(c.workers, backend, c.batchSize);
    if (replicas > 1) {
      const { trainDataParallel } = await import('../parallel/coordinator');
      return trainDataParallel(config, options, replicas);
    }
  }
  const lead = !replica || replica.rank === 0;

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
    const fresh = async () => (await TextTokenizer.train(trainRows.map((r) => (r.modality === 'TEXT' ? r.text : '')), { vocabSize: c.vocabSize })).toJSON();
    tokenizer = resumed?.tokenizer
      ? TextTokenizer.fromJSON(resumed.tokenizer)
      : TextTokenizer.fromJSON(replica ? await replica.agree(fresh) : await fresh());
  }
  if (c.shape.modality === 'SEQUENCE') {
    const longest = trainRows.reduce((m, r) => Math.max(m, r.modality === 'SEQUENCE' ? r.length : 0), 0);
    const audio = Boolean(c.shape.sampleRate);
    // Audio clips: up to MAX_AUDIO_SECONDS of samples, and no standardization: the model's log-mel front end reads
    // the raw waveform (its per-clip normalization makes the gain irrelevant), so serving sends the raw recording.
    const cap = audio ? MAX_AUDIO_SECONDS * c.shape.sampleRate! : MAX_SEQUENCE_LENGTH;
    sequenceLength = c.sequenceLength ?? c.shape.length ?? Math.min(cap, longest);
    normalization = audio ? undefined : resumed?.normalization ?? fitSequenceNormalization(trainRows, c.shape.features);
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
    const evaluator = lead ? await makeEvaluator(c, rows, trainRows, examplesOf) : null;
    // Data-parallel: every replica averages [gradients…, non-trainable state (batch-norm statistics)…, loss, stop].
    const state = [...model.params.stateVariables(), ...heads.stateVariables()];
    const reduceLength = [...varList, ...state].reduce((n, v) => n + v.size, 0) + 2;
    const allReduce = replica ? await replica.connect(reduceLength, replicaFingerprint(print, spec, model, heads, tokenizer)) : null;

    const saveCheckpoint = async (step: number) => {
      if (!options.store || !lead) return;
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

    // A replica trains on its contiguous shard of every global batch, with its own augmentation stream (rank 0's is
    // the single-process stream, so one replica reproduces a plain run).
    const shard = replica ? shardRange(plan.batchSize, replica.rank, replica.replicas) : { start: 0, end: plan.batchSize };
    const shardWeight = (shard.end - shard.start) / plan.batchSize;
    const rankRng = (s: number) => (replica && replica.rank > 0 ? createRng(c.seed, 'batch', s, 'rank', replica.rank) : plan.rng(s));
    const loader = new PrefetchLoader((step) => {
      const s = c.overfitOneBatch ? 0 : step;
      const idx = plan.indices(s).subarray(shard.start, shard.end);
      return task.prepare(Array.from(idx, (i) => examples[i]!), rankRng(s), setup);
    }, totalSteps);
    let stopAgreed = false;

    let stopped = false;
    let stepTime = 0;
    let dataWait = 0;
    let samples = 0;
    let step = startStep;
    for (; step < totalSteps; step++) {
      if (allReduce ? stopAgreed : await cb.shouldStop?.()) {
        stopped = true;
        log('info', `Stop requested at step ${step}.`);
        break;
      }
      const started = performance.now();
      const batch = await loader.get(step);
      dataWait += (performance.now() - started) / 1000;
      const dropout = replica && replica.rank > 0 ? createRng(c.seed, 'dropout', step, 'rank', replica.rank) : createRng(c.seed, 'dropout', step);
      const { value, grads } = tf.variableGrads(() => task.loss(model, heads, batch, { training: true, rng: () => dropout.next() }), varList);
      let loss: number;
      let info: { learningRate: number; gradNorm: number };
      if (allReduce) {
        // Rank 0 decides whether to stop after this step (the coordinator's request), for every replica at once.
        const wantStop = allReduce.rank === 0 && (allReduce.stopRequested() || Boolean(await cb.shouldStop?.()));
        const reduced = averageAcrossReplicas(allReduce, varList, byTfName, grads, state, (await value.data())[0]!, wantStop, shardWeight);
        tf.dispose(Object.values(grads));
        info = optimizer.applyGradients(variables, reduced.grads);
        tf.dispose(Object.values(reduced.grads));
        loss = reduced.loss;
        stopAgreed = reduced.stop;
      } else {
        const named: Record<string, tf.Tensor> = {};
        for (const [tfName, g] of Object.entries(grads)) named[byTfName.get(tfName) ?? tfName] = g;
        info = optimizer.applyGradients(variables, named);
        tf.dispose(Object.values(grads));
        loss = (await value.data())[0]!;
      }
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
    if (lead) await evaluate(step);
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

/** How many data-parallel replicas to run: 'auto' uses every core on the CPU engines (a native/GPU engine already
 * parallelizes inside its kernels), but never shards a batch below 32 examples. */
export function replicaCount(workers: number | 'auto', backend: string, batchSize: number): number {
  if (workers !== 'auto') return workers;
  if (backend !== 'wasm' && backend !== 'cpu') return 1;
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cores, Math.floor(batchSize / 32)));
}

/** Replica `rank`'s contiguous share of a batch of `size` (sizes differ by at most one). */
export function shardRange(size: number, rank: number, replicas: number): { start: number; end: number } {
  return { start: Math.floor((rank * size) / replicas), end: Math.floor(((rank + 1) * size) / replicas) };
}

/**
 * One all-reduce per step. Packs this replica's gradients (in `varList` order), its non-trainable state and its
 * loss, each scaled by its batch share, sums every replica's slot in rank order (identical on all ranks), writes
 * the averaged state back and returns the averaged gradients and loss. Losses that are means over examples make the
 * averaged gradient the gradient of the whole batch; InfoNCE's negatives and masked losses' per-token means stay
 * per shard (as in multi-GPU SimCLR without a cross-replica gather).
 */
function averageAcrossReplicas(
  allReduce: SharedAllReduce, varList: tf.Variable[], names: Map<string, string>, grads: tf.NamedTensorMap, state: tf.Variable[],
  loss: number, wantStop: boolean, weight: number,
): { grads: Record<string, tf.Tensor>; loss: number; stop: boolean } {
  const local = new Float32Array(allReduce.length);
  let o = 0;
  for (const v of varList) {
    const g = grads[v.name];
    if (g) local.set(g.dataSync() as Float32Array, o);
    o += v.size;
  }
  for (const v of state) { local.set(v.dataSync() as Float32Array, o); o += v.size; }
  local[o] = loss;
  // Only rank 0 votes; dividing by its weight makes its vote count 1 after the weighted sum.
  local[o + 1] = wantStop ? 1 / weight : 0;
  const sum = allReduce.reduce(local, weight);
  const out: Record<string, tf.Tensor> = {};
  o = 0;
  for (const v of varList) {
    out[names.get(v.name) ?? v.name] = tf.tensor(sum.slice(o, o + v.size), v.shape, 'float32');
    o += v.size;
  }
  for (const v of state) {
    tf.tidy(() => v.assign(tf.tensor(sum.slice(o, o + v.size), v.shape, 'float32')));
    o += v.size;
  }
  return { grads: out, loss: sum[o]!, stop: sum[o + 1]! > 0.5 };
}

/** What must be equal on every replica before the first step: config, spec, initial weights and tokenizer. */
function replicaFingerprint(print: string, spec: ModelSpec, model: PretextModel, heads: ParamStore, tokenizer?: TextTokenizer): string {
  const h = createHash('sha256').update(print).update(JSON.stringify(spec)).update(tokenizer?.toJSON() ?? '');
  for (const w of [model.getWeights(), heads.exportWeights()]) {
    for (const name of Object.keys(w).sort()) h.update(name).update(new Uint8Array(w[name]!.data.buffer, w[name]!.data.byteOffset, w[name]!.data.byteLength));
  }
  return h.digest('hex');
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
