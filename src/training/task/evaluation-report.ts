// The evaluation report stored with every model version a run registers (ModelVersion.evaluation), computed on the
// dataset's held-out split (test, else validation) whenever that split carries labels:
//   every version:      linear-probe accuracy, cosine kNN accuracy (k = 20), macro-F1 and confusion matrix of the
//                       probe (classification), or RMSE / MAE / R² of a linear regression on the embeddings;
//   fine-tuned versions: additionally the head's own accuracy, macro-F1 and confusion matrix (or RMSE / MAE / R²).
// Probes train on the labeled train rows the run was allowed to use, capped by a seeded sample so a large dataset
// does not turn the report into a second training run.
import type { Row } from '../../ingest/types';
import type { PretextModel } from '../encoders/model';
import { evaluateEncoder, labelSet } from '../eval';
import type { InputPipeline } from '../finetune/inputs';
import { createRng } from '../rng';

export const REPORT_MAX_TRAIN = 10_000;
export const REPORT_MAX_TEST = 5_000;
/** Above this many distinct labels a pretraining dataset's labels are not treated as classes. */
const MAX_CLASSES = 200;

export type ReportTask = 'CLASSIFICATION' | 'REGRESSION';

function sample(rows: readonly Row[], max: number, seed: number | string, purpose: string): Row[] {
  if (rows.length <= max) return [...rows];
  const order = createRng(seed, 'report', purpose).permutation(rows.length);
  return Array.from(order.subarray(0, max), (i) => rows[i]!).sort((a, b) => a.index - b.index);
}

/** Labeled held-out rows: the test split, else the validation split. */
export function heldOut(rows: readonly Row[]): { split: 'test' | 'validation'; rows: Row[] } {
  const test = rows.filter((r) => r.split === 'test' && r.label !== null);
  return test.length ? { split: 'test', rows: test } : { split: 'validation', rows: rows.filter((r) => r.split === 'validation' && r.label !== null) };
}

/** CLASSIFICATION when the labels look like classes, REGRESSION when they are many numbers, else null. */
export function inferTask(labels: readonly string[]): ReportTask | null {
  const distinct = labelSet(labels);
  if (distinct.length >= 2 && distinct.length <= MAX_CLASSES) return 'CLASSIFICATION';
  if (distinct.length > MAX_CLASSES && labels.every((l) => l.trim() !== '' && Number.isFinite(Number(l)))) return 'REGRESSION';
  return null;
}

/**
 * Probe + kNN report of an encoder's embeddings; null (with the reason logged) when the rows hold no labeled
 * train/held-out pair or the model's inputs cannot be built from these rows.
 */
export async function encoderReport(
  model: PretextModel,
  trainRows: readonly Row[],
  allRows: readonly Row[],
  opts: { task?: ReportTask; pipeline?: InputPipeline; labels?: readonly string[]; seed: number | string; log(message: string): void },
): Promise<Record<string, unknown> | null> {
  const train = trainRows.filter((r) => r.label !== null);
  const held = heldOut(allRows);
  if (train.length === 0 || held.rows.length === 0) {
    opts.log('No evaluation report: it needs labeled rows in the train split and in the test (or validation) split.');
    return null;
  }
  const task = opts.task ?? inferTask([...train, ...held.rows].map((r) => r.label!));
  if (!task) {
    opts.log('No evaluation report: the labels are neither classes (2-200 distinct) nor numbers.');
    return null;
  }
  const tr = sample(train, REPORT_MAX_TRAIN, opts.seed, 'train');
  const te = sample(held.rows, REPORT_MAX_TEST, opts.seed, 'test');
  try {
    const report = await evaluateEncoder(model, tr, te, { task, ...(opts.pipeline ? { pipeline: opts.pipeline } : {}), ...(opts.labels ? { labels: opts.labels } : {}) });
    return { task, split: held.split, ...report };
  } catch (err) {
    opts.log(`No evaluation report: ${(err as Error).message}`);
    return null;
  }
}
