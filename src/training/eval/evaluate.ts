// Evaluation reports on a held-out split. For an encoder: a linear probe and cosine kNN (k = 20) on frozen
// embeddings, bank = train split, queries = test split. For a model with a head, its own predictions.
import type { Row } from '../../ingest/types';
import type { PretextModel } from '../encoders/model';
import { type InputPipeline, prepareInputs, runModel } from '../finetune/inputs';
import { accuracy, argmaxRows, confusionMatrix, macroF1, regressionMetrics, type RegressionMetrics } from './metrics';
import { applyLinear, fitLinear, type LinearFitOptions } from './logistic';
import { knnPredict } from './knn';

export interface ClassificationReport {
  /** Accuracy of a softmax regression fitted on the train embeddings, scored on the test embeddings. */
  linearProbeAccuracy: number;
  /** Cosine kNN accuracy (k neighbours from the train embeddings). */
  knnAccuracy: number;
  k: number;
  /** Macro-F1 and confusion matrix (rows actual, columns predicted, in `labels` order) of the linear probe. */
  macroF1: number;
  confusionMatrix: number[][];
  labels: string[];
  trainSize: number;
  testSize: number;
}

export interface RegressionReport extends RegressionMetrics {
  /** Metrics of a linear regression fitted on the train embeddings, scored on the test embeddings. */
  trainSize: number;
  testSize: number;
}

export interface EmbeddingSet { embeddings: Float32Array; labels: readonly string[] }

export interface EvaluateOptions {
  k?: number;
  probe?: LinearFitOptions;
  /** Label order (default: the sorted distinct labels of both splits). */
  labels?: readonly string[];
}

/** Sorted distinct labels; numeric labels sort numerically so '10' follows '9'. */
export function labelSet(...lists: (readonly (string | null)[])[]): string[] {
  const set = new Set<string>();
  for (const list of lists) for (const l of list) if (l !== null) set.add(l);
  const all = [...set];
  const numeric = all.every((l) => l.trim() !== '' && Number.isFinite(Number(l)));
  return numeric ? all.sort((a, b) => Number(a) - Number(b)) : all.sort();
}

export function labelIndices(labels: readonly string[], order: readonly string[]): Int32Array {
  const index = new Map(order.map((l, i) => [l, i]));
  return Int32Array.from(labels, (l) => {
    const i = index.get(l);
    if (i === undefined) throw new Error(`Unknown label "${l}". Should be one of: ${order.join(', ')}.`);
    return i;
  });
}

export function evaluateEmbeddings(train: EmbeddingSet, test: EmbeddingSet, dim: number, opts: EvaluateOptions = {}): ClassificationReport {
  const labels = opts.labels ? [...opts.labels] : labelSet(train.labels, test.labels);
  if (labels.length < 2) throw new Error(`Classification needs at least 2 classes; the rows have ${labels.length}.`);
  const k = opts.k ?? 20;
  const yTrain = labelIndices(train.labels, labels);
  const yTest = labelIndices(test.labels, labels);
  const nTrain = yTrain.length;
  const nTest = yTest.length;
  const probe = fitLinear(train.embeddings, nTrain, dim, yTrain, labels.length, 'softmax', opts.probe);
  const predicted = argmaxRows(applyLinear(probe, test.embeddings, nTest), labels.length);
  const confusion = confusionMatrix(predicted, yTest, labels.length);
  const knn = knnPredict(train.embeddings, yTrain, test.embeddings, dim, k);
  return {
    linearProbeAccuracy: accuracy(predicted, yTest),
    knnAccuracy: accuracy(knn, yTest),
    k,
    macroF1: macroF1(confusion),
    confusionMatrix: confusion,
    labels,
    trainSize: nTrain,
    testSize: nTest,
  };
}

/** Numeric targets from labels (one value per row; multi-output targets as comma-separated numbers). */
export function numericTargets(labels: readonly string[], outputs = 1): Float32Array {
  const out = new Float32Array(labels.length * outputs);
  labels.forEach((l, i) => {
    const parts = l.split(',').map((s) => Number(s.trim()));
    if (parts.length !== outputs || parts.some((v) => !Number.isFinite(v))) {
      throw new Error(`Label "${l}" of row ${i} is not ${outputs} number(s); regression needs numeric labels.`);
    }
    out.set(parts, i * outputs);
  });
  return out;
}

export function evaluateRegressionEmbeddings(train: EmbeddingSet, test: EmbeddingSet, dim: number, opts: { outputs?: number; probe?: LinearFitOptions } = {}): RegressionReport {
  const outputs = opts.outputs ?? 1;
  const yTrain = numericTargets(train.labels, outputs);
  const yTest = numericTargets(test.labels, outputs);
  const nTrain = train.labels.length;
  const nTest = test.labels.length;
  const model = fitLinear(train.embeddings, nTrain, dim, yTrain, outputs, 'mse', opts.probe);
  return { ...regressionMetrics(applyLinear(model, test.embeddings, nTest), yTest, outputs), trainSize: nTrain, testSize: nTest };
}

export interface EncoderEvaluationOptions extends EvaluateOptions {
  task?: 'CLASSIFICATION' | 'REGRESSION';
  pipeline?: InputPipeline;
}

/**
 * Embeds labeled rows of both splits with `model` (inference mode, served `embedding` output) and evaluates them.
 * Rows without labels are ignored.
 */
export async function evaluateEncoder(
  model: PretextModel, trainRows: readonly Row[], testRows: readonly Row[], opts: EncoderEvaluationOptions = {},
): Promise<ClassificationReport | RegressionReport> {
  const tr = trainRows.filter((r) => r.label !== null);
  const te = testRows.filter((r) => r.label !== null);
  if (tr.length === 0 || te.length === 0) throw new Error(`Evaluation needs labeled rows in both splits; got ${tr.length} train and ${te.length} test.`);
  const embed = async (rows: Row[]) => runModel(model, await prepareInputs(rows, model.spec.input, opts.pipeline), 'embedding');
  const a = await embed(tr);
  const b = await embed(te);
  const train = { embeddings: a.data, labels: tr.map((r) => r.label!) };
  const test = { embeddings: b.data, labels: te.map((r) => r.label!) };
  return opts.task === 'REGRESSION' ? evaluateRegressionEmbeddings(train, test, a.width, { probe: opts.probe }) : evaluateEmbeddings(train, test, a.width, opts);
}
