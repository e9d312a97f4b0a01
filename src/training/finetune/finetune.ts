// Fine-tuning: a pretrained encoder (or a fresh one, for the from-scratch baseline) + a classifier / regressor head,
// trained on (a seeded, stratified subset of) labeled rows. The result is one spec (encoder + head) and one weight
// map under the exporter's names (`encoder/...`, `head/hidden{i}/...`, `head/out/...`), so
// exportOnnx(spec, weights, { includeHead: true }) writes a single graph with `embedding` and `logits` /
// `predictions` outputs.
//
// Modes:
//   LINEAR_PROBE: encoder frozen; a linear head fitted on cached pooled features (full-batch softmax/linear regression).
//   MLP_HEAD:     encoder frozen; a ReLU MLP head trained with AdamW on cached pooled features.
//   FULL:         every weight trained with AdamW; from a pretrained base the head starts from a linear probe
//                 (LP-FT, Kumar et al. 2022: it keeps the first steps from wrecking the pretrained features), and
//                 `encoderLearningRateScale` < 1 trains the encoder at a fraction of the head's rate.
import { tf } from '../engine/tf';
import { type HeadSpec, type ModelSpec, assertModelSpec } from '../../models/spec';
import type { Row } from '../../ingest/types';
import type { PretextModel } from '../encoders/model';
import { buildEncoderModel } from './tokenSequenceModel';
import type { NamedWeights } from '../encoders/params';
import { applyHead } from '../encoders/heads';
import { AdamW } from '../optim/adamw';
import { warmupCosine } from '../optim/schedule';
import { createHash } from 'node:crypto';
import { createRng, restoreRng, type Rng } from '../rng';
import type { Checkpoint, CheckpointStore } from '../trainer/checkpoint';
import { useBackend, type BackendName } from '../trainer/backend';
import { accuracy, argmaxRows, confusionMatrix, macroF1, regressionMetrics } from '../eval/metrics';
import { fitLinear, type LinearFitOptions } from '../eval/logistic';
import { labelIndices, labelSet, numericTargets } from '../eval/evaluate';
import { type InputPipeline, type PreparedInputs, batchInputs, prepareInputs, runModel } from './inputs';
import { perClassSubset, randomSubset, stratifiedSubset } from './subset';
import { augmentedBatch } from './augment';
import { FINETUNE_RECIPE } from '../../models/recipes';
import { resolveHyperparameters, type FineTuneHyperparameters, type Resolved } from './hyperparameters';

export { resolveHyperparameters, type FineTuneHyperparameters } from './hyperparameters';

import { FINETUNE_MODES, FINETUNE_TASKS, type FineTuneMode, type FineTuneTask } from './kinds';

export { FINETUNE_MODES, FINETUNE_TASKS, type FineTuneMode, type FineTuneTask } from './kinds';

export interface FineTuneOptions {
  /** The pretrained encoder; null trains from scratch (then `spec` says which encoder). */
  base: { spec: ModelSpec; weights: NamedWeights } | null;
  /** Encoder spec for `base: null` (ignored otherwise); any head in it is replaced. */
  spec?: ModelSpec;
  /** Labeled rows: the train split trains; the test split (else validation) is the held-out evaluation. */
  rows: readonly Row[];
  task: FineTuneTask;
  mode: FineTuneMode;
  /** Share of the labeled train rows used, stratified by class and seeded (default 1). */
  labelFraction?: number;
  /** Classification: exactly this many labeled rows per class instead of a fraction (same seeded per-class order). */
  labelsPerClass?: number;
  hyperparameters?: FineTuneHyperparameters;
  seed?: number | string;
  /** Preprocessing fixed by pretraining (tokenizer for text, normalization for sequences). */
  pipeline?: InputPipeline;
  /** Class order (default: sorted distinct labels of all rows). */
  labels?: readonly string[];
  backend?: BackendName;
  onLog?(message: string): void;
  /** After every optimizer step of MLP_HEAD / FULL (a job reports progress and heartbeats from here). */
  onStep?(step: number, totalSteps: number, loss: number): void | Promise<void>;
  /**
   * Checkpoints of the MLP_HEAD / FULL loop, as PRETRAIN runs keep them: every `every` steps (0: never) the weights,
   * the optimizer moments and step, and the early-stopping and augmentation state go to `store`; when the store
   * already holds one (a re-dispatched job), the loop resumes from it and ends where an uninterrupted run would.
   */
  checkpoints?: { store: CheckpointStore; every: number; onSave?(step: number, location: string): void | Promise<void> };
}

export type FineTuneEvaluation =
  | { task: 'CLASSIFICATION'; accuracy: number; macroF1: number; confusionMatrix: number[][]; labels: string[]; testSize: number }
  | { task: 'REGRESSION'; rmse: number; mae: number; r2: number; testSize: number };

export interface FineTuneResult {
  /** Encoder + head spec. */
  spec: ModelSpec;
  /** Encoder + head weights, exportOnnx(spec, weights, { includeHead: true }) ready. */
  weights: NamedWeights;
  /** Class names in logit order (null for regression). */
  labels: string[] | null;
  /** Labeled rows trained on (after labelFraction and any validation hold-out). */
  trainSize: number;
  /** Every labeled train row the run drew (labelFraction applied, validation hold-out included): all the labels it used. */
  labeledRows: readonly Row[];
  steps: number;
  seconds: number;
  /** On the held-out split; null when the rows have none. */
  evaluation: FineTuneEvaluation | null;
}

export async function fineTune(opts: FineTuneOptions): Promise<FineTuneResult> {
  const started = performance.now();
  if (!FINETUNE_TASKS.includes(opts.task)) throw new Error(`Unsupported task: "${String(opts.task)}". Should be one of: ${FINETUNE_TASKS.join(', ')}.`);
  if (!FINETUNE_MODES.includes(opts.mode)) throw new Error(`Unsupported mode: "${String(opts.mode)}". Should be one of: ${FINETUNE_MODES.join(', ')}.`);
  const hp = resolveHyperparameters(opts.hyperparameters);
  // The platform recipe's rate for a pretrained encoder depends on what it reads (chosen on validation slices).
  if (opts.hyperparameters?.learningRate === undefined && opts.mode === 'FULL' && opts.base) hp.learningRate = FINETUNE_RECIPE.pretrainedLearningRate[opts.base.spec.input.kind];
  const seed = opts.seed ?? 0;
  const log = opts.onLog ?? (() => {});
  await useBackend(opts.backend);

  const encoderSpec = opts.base?.spec ?? opts.spec;
  if (!encoderSpec) throw new Error('Training from scratch (base: null) needs `spec`, the encoder to train.');
  const classify = opts.task === 'CLASSIFICATION';

  const labeledTrain = opts.rows.filter((r) => r.split === 'train' && r.label !== null);
  if (labeledTrain.length === 0) throw new Error('Fine-tuning needs labeled rows in the train split; none were found.');
  let held = opts.rows.filter((r) => r.split === 'test' && r.label !== null);
  if (held.length === 0) held = opts.rows.filter((r) => r.split === 'validation' && r.label !== null);
  const labels = classify ? (opts.labels ? [...opts.labels] : labelSet(labeledTrain.map((r) => r.label), held.map((r) => r.label))) : null;
  if (labels && labels.length < 2) throw new Error(`Classification needs at least 2 classes; the labeled rows have ${labels.length}.`);

  const pick = classify ? stratifiedSubset : randomSubset;
  if (opts.labelsPerClass !== undefined && !classify) throw new Error('labelsPerClass needs CLASSIFICATION; use labelFraction for regression.');
  const trainLabels = labeledTrain.map((r) => r.label);
  const first = opts.labelsPerClass !== undefined ? perClassSubset(trainLabels, opts.labelsPerClass, seed) : pick(trainLabels, opts.labelFraction ?? 1, seed);
  let subset = Array.from(first, (i) => labeledTrain[i]!);
  const drawn = subset;
  let validation: Row[] = [];
  if (hp.validationFraction > 0) {
    const v = new Set(pick(subset.map((r) => r.label), hp.validationFraction, `${seed}/validation`));
    validation = subset.filter((_, i) => v.has(i));
    subset = subset.filter((_, i) => !v.has(i));
    if (subset.length === 0) throw new Error('validationFraction left no training rows; lower it or use more labels.');
  }

  const hidden = hp.headHidden ?? (opts.mode === 'MLP_HEAD' ? [256] : []);
  if (opts.mode === 'LINEAR_PROBE' && hidden.length) throw new Error('LINEAR_PROBE trains a linear head; drop headHidden or use MLP_HEAD.');
  if (hp.augment && opts.mode !== 'FULL') throw new Error(`augment needs FULL fine-tuning (${opts.mode} fits the head on cached features of the unaugmented rows).`);
  const head: HeadSpec = classify
    ? { kind: 'classifier', numClasses: labels!.length, hidden }
    : { kind: 'regressor', outputDim: hp.outputs, hidden };
  const spec = assertModelSpec({ ...encoderSpec, head });
  const model = buildEncoderModel(spec, { seed });
  try {
    if (opts.base) loadEncoder(model, opts.base.weights);
    const targetsOf = (rows: readonly Row[]): Int32Array | Float32Array =>
      classify ? labelIndices(rows.map((r) => r.label!), labels!) : numericTargets(rows.map((r) => r.label!), hp.outputs);
    const inputs = await prepareInputs(subset, spec.input, opts.pipeline);
    const targets = targetsOf(subset);
    const valInputs = validation.length ? await prepareInputs(validation, spec.input, opts.pipeline) : null;
    const valTargets = validation.length ? targetsOf(validation) : null;
    const score = valInputs ? async () => scoreModel(model, valInputs, valTargets!, classify, hp.outputs) : null;

    const loop: LoopOptions = {
      model, n: inputs.n, hp, seed, score, log, onStep: opts.onStep, checkpoints: opts.checkpoints ?? null, augment: null,
      // Only a pretrained encoder has features worth moving slowly; from scratch every weight gets the full rate.
      encoderRateScale: opts.base ? hp.encoderLearningRateScale : 1,
      fingerprint: fineTuneFingerprint({
        task: opts.task, mode: opts.mode, seed, labelFraction: opts.labelFraction ?? 1, labelsPerClass: opts.labelsPerClass ?? null,
        hp: { ...hp, checkpointEvery: undefined }, labels, trainSize: subset.length, spec,
      }),
    };
    const resumed = opts.mode === 'LINEAR_PROBE' || !opts.checkpoints ? null : await opts.checkpoints.store.latest();
    if (resumed && resumed.fingerprint !== loop.fingerprint) {
      throw new Error('The latest fine-tune checkpoint was written with different settings (task, mode, labels, hyperparameters or base); start a new fine-tune instead.');
    }

    let steps = 0;
    // A resumed loop restores the head (and encoder) from its checkpoint, so the probe initialization is not refitted.
    if (opts.mode === 'LINEAR_PROBE' || (!resumed && opts.mode === 'FULL' && opts.base && hp.probeInit && hidden.length === 0)) {
      await fitProbeHead(model, inputs, targets, classify, classify ? labels!.length : hp.outputs, hp.probe);
    }
    if (opts.mode === 'MLP_HEAD') {
      const pooled = await runModel(model, inputs, 'pooled');
      const headVars = Object.fromEntries(Object.entries(model.trainableVariables()).filter(([n]) => n.startsWith('head/')));
      steps = await trainLoop(loop, headVars, resumed, (idx) => {
        const x = gatherRows(pooled.data, pooled.width, idx);
        const out = applyHead(model.params, head, tf.tensor2d(x, [idx.length, pooled.width]));
        return lossOf(out, gatherTargets(targets, idx, classify ? 1 : hp.outputs), classify, classify ? labels!.length : hp.outputs);
      });
    }
    if (opts.mode === 'FULL') {
      // One stream for the whole run: batches are drawn in a fixed order, so the views are reproducible.
      // Its position is checkpointed (loop.augment), since how many draws a step takes depends on the batch.
      loop.augment = hp.augment ? { rng: createRng(seed, 'finetune-augment') } : null;
      const views = loop.augment;
      steps = await trainLoop(loop, model.trainableVariables(), resumed, (idx, rng) => {
        const out = model.apply(views ? augmentedBatch(inputs, idx, views.rng) : batchInputs(inputs, idx), { training: true, rng });
        return lossOf(out.head!, gatherTargets(targets, idx, classify ? 1 : hp.outputs), classify, classify ? labels!.length : hp.outputs);
      });
    }

    let evaluation: FineTuneEvaluation | null = null;
    if (held.length) {
      const p = await prepareInputs(held, spec.input, opts.pipeline);
      const out = await runModel(model, p, 'head');
      if (classify) {
        const actual = labelIndices(held.map((r) => r.label!), labels!);
        const predicted = argmaxRows(out.data, labels!.length);
        const cm = confusionMatrix(predicted, actual, labels!.length);
        evaluation = { task: 'CLASSIFICATION', accuracy: accuracy(predicted, actual), macroF1: macroF1(cm), confusionMatrix: cm, labels: labels!, testSize: held.length };
      } else {
        evaluation = { task: 'REGRESSION', ...regressionMetrics(out.data, numericTargets(held.map((r) => r.label!), hp.outputs), hp.outputs), testSize: held.length };
      }
    }
    return {
      spec, weights: model.getWeights(), labels, trainSize: subset.length, labeledRows: drawn, steps,
      seconds: (performance.now() - started) / 1000, evaluation,
    };
  } finally {
    model.dispose();
  }
}

/** Loads the base encoder's weights; any head it carried is dropped, and every encoder weight must be present. */
function loadEncoder(model: PretextModel, weights: NamedWeights): void {
  const encoderOnly = Object.fromEntries(Object.entries(weights).filter(([n]) => !n.startsWith('head/')));
  const { missing } = model.setWeights(encoderOnly, { strict: false });
  const missingEncoder = missing.filter((n) => !n.startsWith('head/'));
  if (missingEncoder.length) {
    throw new Error(`The base weights do not fit the encoder spec: missing [${missingEncoder.join(', ')}]. Pass the spec the weights were trained with.`);
  }
}

/** Fits head/out on frozen pooled features and writes it into the model. */
async function fitProbeHead(
  model: PretextModel, inputs: PreparedInputs, targets: Int32Array | Float32Array, classify: boolean, outputs: number, probe: LinearFitOptions,
): Promise<void> {
  const pooled = await runModel(model, inputs, 'pooled');
  const fit = fitLinear(pooled.data, inputs.n, pooled.width, targets, outputs, classify ? 'softmax' : 'mse', probe);
  tf.tidy(() => {
    model.params.get('head/out/kernel').assign(tf.tensor2d(fit.kernel, [fit.dim, fit.outputs]));
    model.params.get('head/out/bias').assign(tf.tensor1d(fit.bias));
  });
}

/** Mean cross-entropy −Σ onehot·log softmax(z) over the batch, or mean squared error ½·Σ(ŷ−y)² per row. */
function lossOf(out: tf.Tensor, targets: Int32Array | Float32Array, classify: boolean, outputs: number): tf.Scalar {
  const n = out.shape[0]!;
  if (classify) {
    const onehot = tf.oneHot(tf.tensor1d(targets as Int32Array, 'int32'), outputs).toFloat();
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(out as tf.Tensor2D)), 1))) as tf.Scalar;
  }
  const y = tf.tensor2d(targets as Float32Array, [n, outputs]);
  return tf.mean(tf.mul(tf.sum(tf.square(tf.sub(out, y)), 1), 0.5)) as tf.Scalar;
}

/** Accuracy (classification) or −RMSE (regression) of the model's head on prepared rows: higher is better. */
async function scoreModel(model: PretextModel, p: PreparedInputs, targets: Int32Array | Float32Array, classify: boolean, outputs: number): Promise<number> {
  const out = await runModel(model, p, 'head');
  if (classify) return accuracy(argmaxRows(out.data, out.width), targets);
  return -regressionMetrics(out.data, targets, outputs).rmse;
}

interface LoopOptions {
  model: PretextModel;
  n: number;
  hp: Resolved;
  seed: number | string;
  score: (() => Promise<number>) | null;
  log: (m: string) => void;
  onStep: FineTuneOptions['onStep'];
  checkpoints: FineTuneOptions['checkpoints'] | null;
  /** FULL with augment: the augmentation stream (replaced by the checkpointed one on resume). */
  augment: { rng: Rng } | null;
  /** Multiplier of the rate for every non-head weight (the encoder); 1 for heads-only loops too. */
  encoderRateScale: number;
  fingerprint: string;
}

/** What must match for a checkpoint to be resumed: everything that shapes the loop, not where it runs. */
function fineTuneFingerprint(settings: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex');
}

/**
 * AdamW with warmup + cosine over min(maxSteps, max(minSteps, epochs·⌈n/B⌉)) steps on seeded shuffles of the
 * subset. With a validation score, evaluates once per epoch, keeps the best weights and stops after `patience`
 * epochs without improvement. Every stream is a function of (seed, epoch or step) except the augmentation one,
 * whose position the checkpoint carries, so a loop resumed from a checkpoint takes the same steps as one that ran
 * through.
 */
async function trainLoop(
  o: LoopOptions,
  variables: Record<string, tf.Variable>,
  resumed: Checkpoint | null,
  loss: (indices: Int32Array, rng: () => number) => tf.Scalar,
): Promise<number> {
  const { model, n, hp, seed, score, log } = o;
  const batch = Math.min(hp.batchSize, n);
  const perEpoch = Math.ceil(n / batch);
  const total = Math.min(hp.maxSteps, Math.max(hp.minSteps, hp.epochs * perEpoch));
  const optimizer = new AdamW({
    learningRate: warmupCosine({ learningRate: hp.learningRate, warmupSteps: Math.min(50, Math.floor(total / 10)), totalSteps: total }),
    weightDecay: hp.weightDecay,
    clipNorm: 1,
    ...(o.encoderRateScale !== 1 ? { rateScale: (name: string) => (name.startsWith('head/') ? 1 : o.encoderRateScale) } : {}),
  });
  const byTfName = new Map(Object.entries(variables).map(([name, v]) => [v.name, name]));
  const varList = Object.values(variables);
  let best = -Infinity;
  let bestWeights: NamedWeights | null = null;
  let sinceBest = 0;
  let step = 0;
  const losses: number[] = [];
  try {
    if (resumed) {
      model.setWeights(resumed.weights, { strict: true });
      optimizer.importState(resumed.optimizer);
      step = resumed.step;
      losses.push(...resumed.losses);
      const state = resumed.fineTune;
      best = state?.bestScore ?? -Infinity;
      bestWeights = state?.bestWeights ?? null;
      sinceBest = state?.sinceBest ?? 0;
      if (o.augment && state?.augmentRng) o.augment.rng = restoreRng(state.augmentRng);
      log(`Resuming fine-tuning from checkpoint step ${step} of ${total}.`);
    }
    const save = async (done: number) => {
      const c = o.checkpoints;
      if (!c) return;
      const location = await c.store.save({
        formatVersion: 1,
        step: done,
        spec: model.spec,
        weights: model.getWeights(),
        heads: {},
        optimizer: optimizer.exportState(),
        rng: { seed, step: done },
        losses: losses.slice(0, done),
        fingerprint: o.fingerprint,
        fineTune: { bestScore: Number.isFinite(best) ? best : null, bestWeights, sinceBest, augmentRng: o.augment?.rng.state() ?? null },
      });
      await c.onSave?.(done, location);
    };
    let order = createRng(seed, 'finetune-order', Math.floor(step / perEpoch)).permutation(n);
    for (; step < total; step++) {
      const epoch = Math.floor(step / perEpoch);
      const within = step % perEpoch;
      if (within === 0 && step > 0) {
        if (score) {
          const s = await score();
          if (s > best) {
            best = s;
            bestWeights = model.getWeights();
            sinceBest = 0;
          } else if (++sinceBest >= hp.patience) {
            log(`Early stop at step ${step} (epoch ${epoch}): no validation gain for ${hp.patience} epochs; best ${best.toFixed(4)}.`);
            break;
          }
        }
        order = createRng(seed, 'finetune-order', epoch).permutation(n);
      }
      const idx = order.subarray(within * batch, Math.min(n, (within + 1) * batch));
      const dropout = createRng(seed, 'finetune-dropout', step);
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => loss(idx, () => dropout.next())), varList);
      const named: Record<string, tf.Tensor> = {};
      for (const [tfName, g] of Object.entries(grads)) named[byTfName.get(tfName) ?? tfName] = g;
      optimizer.applyGradients(variables, named);
      tf.dispose(Object.values(grads));
      const v = (await value.data())[0]!;
      value.dispose();
      if (!Number.isFinite(v)) throw new Error(`Fine-tuning loss became ${v} at step ${step + 1}; lower learningRate (now ${hp.learningRate}).`);
      losses[step] = v;
      await o.onStep?.(step + 1, total, v);
      const done = step + 1;
      if (o.checkpoints && o.checkpoints.every > 0 && done % o.checkpoints.every === 0 && done < total) await save(done);
    }
    if (score) {
      const s = await score();
      if (s < best && bestWeights) model.setWeights(bestWeights);
    }
    return step;
  } finally {
    optimizer.dispose();
  }
}

function gatherRows(data: Float32Array, width: number, idx: ArrayLike<number>): Float32Array {
  const out = new Float32Array(idx.length * width);
  for (let i = 0; i < idx.length; i++) out.set(data.subarray(idx[i]! * width, (idx[i]! + 1) * width), i * width);
  return out;
}

function gatherTargets(targets: Int32Array | Float32Array, idx: ArrayLike<number>, width: number): Int32Array | Float32Array {
  const out = targets instanceof Int32Array ? new Int32Array(idx.length * width) : new Float32Array(idx.length * width);
  for (let i = 0; i < idx.length; i++) out.set(targets.subarray(idx[i]! * width, (idx[i]! + 1) * width), i * width);
  return out;
}
