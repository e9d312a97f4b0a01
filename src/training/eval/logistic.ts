// Linear models on fixed features (frozen embeddings, raw pixels, TF-IDF): the linear probe, the raw-feature
// baseline and the LINEAR_PROBE fine-tune head. Full-batch Adam with hand-written gradients, because tfjs-wasm's
// autodiff computes Xᵀ·G with a transposed matMul that runs ~10× slower than a plain one (docs/environment.md);
// here Xᵀ is materialized once and every step is two plain matMuls.
import { tf } from '../engine/tf';
import type { LinearFitOptions } from '../../contracts/finetune';

export type LinearLoss = 'softmax' | 'mse';

// The options' type lives in the contract layer (the gateway validates fine-tune hyperparameters with it).
export type { LinearFitOptions };

/**
 * A fitted linear map y = x·kernel + bias over RAW features (standardization folded in).
 * kernel [dim, outputs] row-major, bias [outputs].
 */
export interface LinearModel { dim: number; outputs: number; kernel: Float32Array; bias: Float32Array }

/**
 * Fits `softmax` (multinomial logistic regression; targets are class indices, loss = mean cross-entropy) or `mse`
 * (linear regression; targets [n, outputs] row-major, loss = mean ½(ŷ−y)² summed over outputs) on x [n, dim].
 * Features are standardized per column (mean 0, std 1; constant columns keep std 1) so one step size fits all inputs;
 * the result is mapped back to raw features: W_raw[i,:] = W[i,:]/σᵢ, b_raw = b − Σᵢ μᵢ/σᵢ·W[i,:].
 * Gradients: logits Z = XW + b [n,K]; G = (softmax(Z) − onehot(y))/n (softmax) or (Z − Y)/n (mse);
 * ∇W = XᵀG + λW [dim,K]; ∇b = Σ_rows G [K]. Deterministic: W and b start at 0.
 */
export function fitLinear(
  x: Float32Array, n: number, dim: number, targets: Int32Array | Float32Array, outputs: number, loss: LinearLoss,
  opts: LinearFitOptions = {},
): LinearModel {
  const steps = opts.steps ?? 300;
  const lr = opts.learningRate ?? 0.05;
  const l2 = opts.l2 ?? 1e-3;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be an integer ≥ 1; got ${steps}. Try 200–500.`);
  if (!(lr > 0)) throw new Error(`learningRate must be > 0; got ${lr}. Try 0.01–0.1.`);
  if (!(l2 >= 0)) throw new Error(`l2 must be ≥ 0; got ${l2}. Try 1e-4–1e-2.`);
  if (n < 1 || x.length !== n * dim) throw new Error(`Features hold ${x.length} values; expected n·dim = ${n}·${dim}.`);
  if (loss === 'softmax' && (targets.length !== n || outputs < 2)) throw new Error(`softmax needs ${n} class indices and ≥ 2 classes.`);
  if (loss === 'mse' && targets.length !== n * outputs) throw new Error(`mse needs n·outputs = ${n * outputs} targets; got ${targets.length}.`);

  const { mean, std } = opts.standardize === false ? { mean: new Float64Array(dim), std: new Float64Array(dim).fill(1) } : columnStats(x, n, dim);
  const xs = new Float32Array(x.length);
  for (let r = 0; r < n; r++) for (let c = 0; c < dim; c++) xs[r * dim + c] = (x[r * dim + c]! - mean[c]!) / std[c]!;

  const X = tf.tensor2d(xs, [n, dim]);
  const Xt = tf.transpose(X);
  const Y = loss === 'softmax'
    ? tf.tidy(() => tf.oneHot(tf.tensor1d(targets as Int32Array, 'int32'), outputs).toFloat())
    : tf.tensor2d(targets as Float32Array, [n, outputs]);
  let W: tf.Tensor = tf.zeros([dim, outputs]);
  let b: tf.Tensor = tf.zeros([outputs]);
  let mW: tf.Tensor = tf.zeros([dim, outputs]);
  let vW: tf.Tensor = tf.zeros([dim, outputs]);
  let mb: tf.Tensor = tf.zeros([outputs]);
  let vb: tf.Tensor = tf.zeros([outputs]);
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  try {
    for (let t = 1; t <= steps; t++) {
      const next = tf.tidy(() => {
        const z = tf.add(tf.matMul(X, W), b);
        const p = loss === 'softmax' ? tf.softmax(z) : z;
        const g = tf.div(tf.sub(p, Y), n);
        const gW = tf.add(tf.matMul(Xt, g), tf.mul(W, l2));
        const gb = tf.sum(g, 0);
        const adam = (w: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor) => {
          const m2 = tf.add(tf.mul(m, b1), tf.mul(grad, 1 - b1));
          const v2 = tf.add(tf.mul(v, b2), tf.mul(tf.square(grad), 1 - b2));
          const step = tf.div(tf.div(m2, 1 - b1 ** t), tf.add(tf.sqrt(tf.div(v2, 1 - b2 ** t)), eps));
          return [tf.sub(w, tf.mul(step, lr)), m2, v2];
        };
        return [...adam(W, gW, mW, vW), ...adam(b, gb, mb, vb)];
      });
      tf.dispose([W, mW, vW, b, mb, vb]);
      [W, mW, vW, b, mb, vb] = next as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    }
    const w = W.dataSync() as Float32Array;
    const bias = new Float32Array(b.dataSync() as Float32Array);
    const kernel = new Float32Array(dim * outputs);
    for (let i = 0; i < dim; i++) {
      for (let j = 0; j < outputs; j++) {
        const wij = w[i * outputs + j]! / std[i]!;
        kernel[i * outputs + j] = wij;
        bias[j] -= mean[i]! * wij;
      }
    }
    return { dim, outputs, kernel, bias };
  } finally {
    tf.dispose([X, Xt, Y, W, b, mW, vW, mb, vb]);
  }
}

/** x [n, dim] → x·kernel + bias [n, outputs], row-major. */
export function applyLinear(model: LinearModel, x: Float32Array, n: number): Float32Array {
  if (x.length !== n * model.dim) throw new Error(`Features hold ${x.length} values; expected n·dim = ${n}·${model.dim}.`);
  const out = new Float32Array(n * model.outputs);
  const chunk = 4096;
  const K = tf.tensor2d(model.kernel, [model.dim, model.outputs]);
  const B = tf.tensor1d(model.bias);
  try {
    for (let r = 0; r < n; r += chunk) {
      const rows = Math.min(chunk, n - r);
      const y = tf.tidy(() => tf.add(tf.matMul(tf.tensor2d(x.subarray(r * model.dim, (r + rows) * model.dim), [rows, model.dim]), K), B));
      out.set(y.dataSync() as Float32Array, r * model.outputs);
      y.dispose();
    }
  } finally {
    tf.dispose([K, B]);
  }
  return out;
}

/** Per-column mean and standard deviation (population); a near-constant column keeps std 1. */
export function columnStats(x: Float32Array, n: number, dim: number): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < dim; c++) {
      const v = x[r * dim + c]!;
      mean[c] += v;
      sq[c] += v * v;
    }
  }
  const std = new Float64Array(dim);
  for (let c = 0; c < dim; c++) {
    mean[c] /= n;
    const s = Math.sqrt(Math.max(sq[c]! / n - mean[c]! ** 2, 0));
    std[c] = s > 1e-6 ? s : 1;
  }
  return { mean, std };
}
