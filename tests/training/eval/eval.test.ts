// Evaluation metrics, kNN and linear probes against hand-computed cases.
import {
  accuracy, applyLinear, argmaxRows, confusionMatrix, evaluateEmbeddings, evaluateRegressionEmbeddings, fitLinear, knnPredict,
  labelSet, macroF1, regressionMetrics,
} from '../../../src/training/eval';
import { useBackend } from '../../../src/training/trainer/backend';
import { createRng } from '../../../src/training/rng';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('classification metrics', () => {
  const predicted = [0, 1, 1, 2, 2, 2];
  const actual = [0, 1, 2, 2, 2, 0];

  test('accuracy and confusion matrix (rows actual, columns predicted)', () => {
    expect(accuracy(predicted, actual)).toBeCloseTo(4 / 6, 12);
    expect(confusionMatrix(predicted, actual, 3)).toEqual([
      [1, 0, 1],
      [0, 1, 0],
      [0, 1, 2],
    ]);
  });

  test('macro-F1 averages per-class 2TP/(2TP+FP+FN)', () => {
    // class 0: TP 1, FP 0, FN 1 → 2/3; class 1: TP 1, FP 1, FN 0 → 2/3; class 2: TP 2, FP 1, FN 1 → 4/6.
    expect(macroF1(confusionMatrix(predicted, actual, 3))).toBeCloseTo(2 / 3, 12);
    // Uneven classes: class 0 TP 3 FN 1 → 6/7; class 1 TP 0 FP 1 FN 0 → 0; class 2 absent everywhere → left out.
    const cm = confusionMatrix([0, 0, 0, 1], [0, 0, 0, 0], 3);
    expect(macroF1(cm)).toBeCloseTo((6 / 7 + 0) / 2, 12);
  });

  test('bad inputs say what is wrong', () => {
    expect(() => accuracy([0], [0, 1])).toThrow(/differ in length/);
    expect(() => confusionMatrix([3], [0], 3)).toThrow(/out of range/);
  });

  test('argmaxRows and labelSet', () => {
    expect(Array.from(argmaxRows([0.1, 0.7, 0.2, 5, -1, 4], 3))).toEqual([1, 0]);
    expect(labelSet(['9', '10', '2', null])).toEqual(['2', '9', '10']);
    expect(labelSet(['spam', 'ham'])).toEqual(['ham', 'spam']);
  });
});

test('regression metrics: RMSE, MAE, R²', () => {
  // errors 0, 0, −2; ȳ = 8/3; Σ(y−ȳ)² = 78/9.
  const m = regressionMetrics([1, 2, 3], [1, 2, 5]);
  expect(m.rmse).toBeCloseTo(Math.sqrt(4 / 3), 10);
  expect(m.mae).toBeCloseTo(2 / 3, 10);
  expect(m.r2).toBeCloseTo(1 - 4 / (78 / 9), 10);
  expect(regressionMetrics([3, 3], [3, 3]).r2).toBe(1);
});

describe('cosine kNN', () => {
  const bank = new Float32Array([1, 0, 9, 1, 0, 1, 0.1, 0.9, -1, 0]);
  const labels = [0, 0, 1, 1, 2];

  test('majority of the k most cosine-similar bank rows (magnitude ignored)', () => {
    // [1, .05]: nearest [1,0], [9,1] (class 0), then [.1,.9] (class 1) → 0. [.05, 1]: [0,1], [.1,.9], [9,1] → 1.
    // [−3, .2]: [−1,0] (class 2, cos .998), [0,1] (cos .07), [.1,.9] (cos −.04): two votes for class 1 → 1.
    const pred = knnPredict(bank, labels, new Float32Array([1, 0.05, 0.05, 1, -3, 0.2]), 2, 3);
    expect(Array.from(pred)).toEqual([0, 1, 1]);
    // k = 1 for the last query: its nearest is [-1, 0] → class 2.
    expect(Array.from(knnPredict(bank, labels, new Float32Array([-3, 0.2]), 2, 1))).toEqual([2]);
  });

  test('a tie goes to the class of the nearest neighbour', () => {
    const b = new Float32Array([1, 0, 0, 1]);
    expect(Array.from(knnPredict(b, [0, 1], new Float32Array([1, 0.9, 0.9, 1]), 2, 2))).toEqual([0, 1]);
  });
});

describe('linear models', () => {
  test('softmax regression separates well-separated clusters', () => {
    const rng = createRng(3, 'clusters');
    const centers = [[4, 0], [0, 4], [-4, -4]];
    const n = 90;
    const x = new Float32Array(n * 2);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 3;
      x[2 * i] = centers[i % 3]![0]! + rng.normal();
      x[2 * i + 1] = centers[i % 3]![1]! + rng.normal();
    }
    const model = fitLinear(x, n, 2, y, 3, 'softmax', { steps: 300 });
    expect(accuracy(argmaxRows(applyLinear(model, x, n), 3), y)).toBe(1);
  });

  test('least squares recovers y = 2·x0 − 3·x1 + 1 in raw feature units', () => {
    const rng = createRng(4, 'lsq');
    const n = 200;
    const x = new Float32Array(n * 2);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x[2 * i] = 10 + 5 * rng.normal(); // far from standardized, to check the un-standardizing fold
      x[2 * i + 1] = rng.normal();
      y[i] = 2 * x[2 * i]! - 3 * x[2 * i + 1]! + 1;
    }
    const model = fitLinear(x, n, 2, y, 1, 'mse', { steps: 1500, learningRate: 0.05, l2: 0 });
    expect(model.kernel[0]).toBeCloseTo(2, 2);
    expect(model.kernel[1]).toBeCloseTo(-3, 2);
    expect(model.bias[0]).toBeCloseTo(1, 1);
  });

  test('rejects bad hyperparameters with a hint', () => {
    expect(() => fitLinear(new Float32Array(4), 2, 2, new Int32Array([0, 1]), 2, 'softmax', { steps: 0 })).toThrow(/steps must be an integer ≥ 1/);
    expect(() => fitLinear(new Float32Array(3), 2, 2, new Int32Array([0, 1]), 2, 'softmax')).toThrow(/expected n·dim/);
  });
});

describe('evaluation reports', () => {
  const rng = createRng(5, 'report');
  const make = (n: number) => {
    const labels: string[] = [];
    const emb = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) {
      const c = i % 2;
      labels.push(c ? 'spam' : 'ham');
      emb[4 * i + c] = 3 + 0.3 * rng.normal();
      for (let d = 0; d < 4; d++) emb[4 * i + d] += 0.3 * rng.normal();
    }
    return { embeddings: emb, labels };
  };

  test('classification: probe, kNN (k = 20), macro-F1 and confusion over the sorted labels', () => {
    const report = evaluateEmbeddings(make(60), make(20), 4);
    expect(report.labels).toEqual(['ham', 'spam']);
    expect(report.k).toBe(20);
    expect(report.linearProbeAccuracy).toBe(1);
    expect(report.knnAccuracy).toBe(1);
    expect(report.macroF1).toBe(1);
    expect(report.confusionMatrix).toEqual([[10, 0], [0, 10]]);
    expect([report.trainSize, report.testSize]).toEqual([60, 20]);
  });

  test('regression: a linear target is fitted almost exactly', () => {
    const emb = (n: number) => Float32Array.from({ length: n * 2 }, () => rng.normal());
    const a = emb(80);
    const b = emb(20);
    const lab = (e: Float32Array) => Array.from({ length: e.length / 2 }, (_, i) => String(e[2 * i]! - 2 * e[2 * i + 1]!));
    const report = evaluateRegressionEmbeddings({ embeddings: a, labels: lab(a) }, { embeddings: b, labels: lab(b) }, 2, { probe: { steps: 800, l2: 0 } });
    expect(report.rmse).toBeLessThan(0.05);
    expect(report.r2).toBeGreaterThan(0.999);
  });
});
