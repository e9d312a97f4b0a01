// Self-training on top of a FULL classification fine-tune: the fine-tuned model labels the train rows it was not
// given labels for (the unlabeled pool: rows without a label, and labeled rows outside the drawn subset, whose
// labels it never reads), keeps its most confident predictions per class, and a second fine-tune — from the same
// base, not from the first model — trains on the real labels plus those pseudo-labels.
//
//   round:   p_i = softmax(f(x_i)) for x_i in the pool (at most poolLimit rows, a seeded sample)
//            keep, per class c, the K rows with ŷ_i = c of highest p_i[c] (p_i[c] ≥ minConfidence),
//            K = perClassMultiplier × (real labels of the rarest class in the subset)
//   retrain: fineTune(base, subset ∪ pseudo) with the same hyperparameters (more rows → more steps, same caps)
//
// Class-balanced selection keeps an early bias toward easy classes from growing; the retrain from the base keeps the
// first model's mistakes from being reinforced by training on its own outputs. Only real labels count as "labels
// used" (labeledRows).
import { tf } from '../engine/tf';
import type { Row } from '../../ingest/types';
import { createRng } from '../rng';
import { buildEncoderModel } from './tokenSequenceModel';
import { fineTune, type FineTuneOptions, type FineTuneResult } from './finetune';
import { prepareInputs, runModel } from './inputs';

export interface SelfTrainingOptions {
  /** Pseudo-labelling rounds (each one retrains from the base). Default 1. */
  rounds?: number;
  /** Pseudo-labels per class, as a multiple of the rarest class's real labels. Default 10. */
  perClassMultiplier?: number;
  /** Predictions below this probability are never kept. Default 0 (the class-balanced top-K alone decides). */
  minConfidence?: number;
  /** Rows of the pool scored per round (a seeded sample; scoring is a forward pass each). Default 20 000. */
  poolLimit?: number;
}

export interface SelfTrainingReport {
  rounds: Array<{ pool: number; pseudoLabels: number; meanConfidence: number; accuracyBefore: number | null }>;
}

export async function fineTuneWithSelfTraining(
  opts: FineTuneOptions,
  st: SelfTrainingOptions = {},
): Promise<FineTuneResult & { selfTraining: SelfTrainingReport }> {
  if (opts.task !== 'CLASSIFICATION' || opts.mode !== 'FULL') throw new Error('Self-training needs a FULL CLASSIFICATION fine-tune.');
  const rounds = st.rounds ?? 1;
  const multiplier = st.perClassMultiplier ?? 10;
  const minConfidence = st.minConfidence ?? 0;
  const poolLimit = st.poolLimit ?? 20_000;
  const seed = opts.seed ?? 0;
  const report: SelfTrainingReport = { rounds: [] };

  let result = await fineTune(opts);
  const subset = result.labeledRows;
  const drawn = new Set(subset);
  const held = opts.rows.filter((r) => r.split !== 'train');
  let pool = opts.rows.filter((r) => r.split === 'train' && !drawn.has(r));
  if (pool.length > poolLimit) {
    const order = createRng(seed, 'self-training-pool').permutation(pool.length);
    pool = Array.from(order.subarray(0, poolLimit), (i) => pool[i]!);
  }
  const labels = result.labels!;
  const perClass = new Map<string, number>();
  for (const r of subset) perClass.set(r.label!, (perClass.get(r.label!) ?? 0) + 1);
  const k = multiplier * Math.min(...labels.map((l) => perClass.get(l) ?? 0).filter((n) => n > 0));

  for (let round = 0; round < rounds && pool.length > 0; round++) {
    const probs = await predictProbabilities(result, pool, opts);
    const C = labels.length;
    const byClass: Array<Array<{ i: number; p: number }>> = Array.from({ length: C }, () => []);
    for (let i = 0; i < pool.length; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (probs[i * C + c]! > probs[i * C + best]!) best = c;
      const p = probs[i * C + best]!;
      if (p >= minConfidence) byClass[best]!.push({ i, p });
    }
    const pseudo: Row[] = [];
    let confidence = 0;
    for (let c = 0; c < C; c++) {
      const top = byClass[c]!.sort((a, b) => b.p - a.p || a.i - b.i).slice(0, k);
      for (const { i, p } of top) {
        pseudo.push({ ...pool[i]!, label: labels[c]! } as Row);
        confidence += p;
      }
    }
    report.rounds.push({
      pool: pool.length, pseudoLabels: pseudo.length, meanConfidence: pseudo.length ? confidence / pseudo.length : 0,
      accuracyBefore: result.evaluation?.task === 'CLASSIFICATION' ? result.evaluation.accuracy : null,
    });
    opts.onLog?.(`Self-training round ${round + 1}: ${pseudo.length} pseudo-labels (≤ ${k} per class) from a pool of ${pool.length}.`);
    const next = await fineTune({
      ...opts,
      rows: [...subset, ...pseudo, ...held],
      labels,
      labelFraction: 1,
      labelsPerClass: undefined,
      // The retrain's checkpoints would not match the first loop's settings; a resumed self-training run restarts.
      checkpoints: undefined,
    });
    result = { ...next, labeledRows: subset };
  }
  return { ...result, selfTraining: report };
}

/** Softmax over the fine-tuned head's logits for `rows`, [rows × classes] row-major. */
async function predictProbabilities(r: FineTuneResult, rows: readonly Row[], opts: FineTuneOptions): Promise<Float32Array> {
  const model = buildEncoderModel(r.spec, { seed: opts.seed ?? 0 });
  try {
    model.setWeights(r.weights, { strict: true });
    const p = await prepareInputs(rows, r.spec.input, opts.pipeline);
    const out = await runModel(model, p, 'head');
    return tf.tidy(() => tf.softmax(tf.tensor2d(out.data, [rows.length, out.width])).dataSync() as Float32Array);
  } finally {
    model.dispose();
  }
}
