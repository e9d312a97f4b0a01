// Plain-array evaluation metrics for classification and regression. Labels are class indices 0..K-1 (callers map
// label strings to indices with a fixed, sorted label list so confusion matrices compare across models).

/** Share of positions where `predicted[i] === actual[i]`. */
export function accuracy(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  checkSameLength(predicted, actual);
  let hit = 0;
  for (let i = 0; i < actual.length; i++) if (predicted[i] === actual[i]) hit++;
  return hit / actual.length;
}

/** K×K counts, rows = actual class, columns = predicted class. */
export function confusionMatrix(predicted: ArrayLike<number>, actual: ArrayLike<number>, numClasses: number): number[][] {
  checkSameLength(predicted, actual);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const p = predicted[i]!;
    if (!(a >= 0 && a < numClasses) || !(p >= 0 && p < numClasses)) {
      throw new Error(`Class index out of range at ${i}: actual ${a}, predicted ${p}; both must be in 0..${numClasses - 1}.`);
    }
    m[a]![p]!++;
  }
  return m;
}

/**
 * Macro-F1: the unweighted mean over classes of F1_c = 2·TP_c / (2·TP_c + FP_c + FN_c). A class that never occurs
 * and is never predicted has no defined F1 and is left out of the mean (the usual convention for label subsets).
 */
export function macroF1(confusion: readonly (readonly number[])[]): number {
  const k = confusion.length;
  let sum = 0;
  let counted = 0;
  for (let c = 0; c < k; c++) {
    const tp = confusion[c]![c]!;
    let fn = 0;
    let fp = 0;
    for (let j = 0; j < k; j++) {
      if (j === c) continue;
      fn += confusion[c]![j]!;
      fp += confusion[j]![c]!;
    }
    const denom = 2 * tp + fp + fn;
    if (denom === 0) continue;
    sum += (2 * tp) / denom;
    counted++;
  }
  return counted ? sum / counted : 0;
}

export interface RegressionMetrics { rmse: number; mae: number; r2: number }

/**
 * Over all values (multi-output regression flattens [N, R] row-major): RMSE = √(mean (ŷ−y)²), MAE = mean |ŷ−y|,
 * R² = 1 − Σ(ŷ−y)² / Σ(y−ȳ)² (ȳ per output column when `outputs` > 1). For a constant target (Σ(y−ȳ)² = 0) R² is
 * undefined; we report 1 when the predictions are exact and 0 otherwise, so the value is never NaN.
 */
export function regressionMetrics(predicted: ArrayLike<number>, actual: ArrayLike<number>, outputs = 1): RegressionMetrics {
  checkSameLength(predicted, actual);
  const n = actual.length;
  if (n % outputs !== 0) throw new Error(`${n} values is not a multiple of ${outputs} outputs.`);
  const rows = n / outputs;
  const mean = new Float64Array(outputs);
  for (let i = 0; i < n; i++) mean[i % outputs] += actual[i]! / rows;
  let se = 0;
  let ae = 0;
  let tot = 0;
  for (let i = 0; i < n; i++) {
    const d = predicted[i]! - actual[i]!;
    se += d * d;
    ae += Math.abs(d);
    tot += (actual[i]! - mean[i % outputs]!) ** 2;
  }
  const r2 = tot > 0 ? 1 - se / tot : se === 0 ? 1 : 0;
  return { rmse: Math.sqrt(se / n), mae: ae / n, r2 };
}

/** Index of the largest value in each row of a row-major [N, K] matrix. */
export function argmaxRows(values: ArrayLike<number>, k: number): Int32Array {
  const n = values.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (values[i * k + j]! > values[i * k + best]!) best = j;
    out[i] = best;
  }
  return out;
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`Predictions (${a.length}) and targets (${b.length}) differ in length.`);
  if (b.length === 0) throw new Error('Metrics need at least one example.');
}
