// Reference training steps in plain tfjs ops: the architectures the engine is measured and checked on (MLP;
// CNN; CNN with batch norm, average pooling, a depthwise conv and a residual add; pre-LN Transformer encoder;
// temporal conv1d + GRU). Weights and data come from a seeded generator as plain arrays, so the same step can
// be built on two backends and compared value by value. bench/train.ts times them; the engine tests compare
// their gradients on wasm against cpu.
import { tf } from './tf';

export const REFERENCE_ARCHS = ['mlp', 'cnn', 'cnn-bn-residual', 'transformer', 'conv1d-gru'] as const;
export type ReferenceArch = (typeof REFERENCE_ARCHS)[number];

export interface ReferenceDims {
  batch: number;
  /** mlp: layer widths, input first. */
  widths: number[];
  /** Image side (cnn*) and class count (cnn*, mlp ignores: its last width is the class count). */
  image: number;
  classes: number;
  /** cnn*: channels of the two conv blocks. */
  channels: [number, number];
  /** cnn: width of the hidden dense layer. */
  hidden: number;
  /** transformer */
  vocab: number;
  seq: number;
  dModel: number;
  heads: number;
  ffn: number;
  layers: number;
  /** conv1d-gru: features per time step, conv channels, GRU units. */
  features: number;
  convChannels: number;
  units: number;
}

/** The benchmark sizes of issue 4. */
export const BENCH_DIMS: Record<'mlp' | 'cnn' | 'transformer', Partial<ReferenceDims>> = {
  mlp: { batch: 256, widths: [784, 512, 256, 128] },
  cnn: { batch: 256, image: 28, classes: 10, channels: [32, 64], hidden: 128 },
  transformer: { batch: 64, vocab: 1000, seq: 64, dModel: 128, heads: 4, ffn: 512, layers: 4 },
};

const DEFAULT_DIMS: ReferenceDims = {
  batch: 8, widths: [20, 16, 12, 10], image: 8, classes: 5, channels: [4, 6], hidden: 12,
  vocab: 30, seq: 6, dModel: 8, heads: 2, ffn: 16, layers: 2, features: 3, convChannels: 5, units: 6,
};

export interface ReferenceStep {
  arch: ReferenceArch;
  dims: ReferenceDims;
  variables: tf.Variable[];
  /** The scalar training loss of the fixed batch (call inside a gradient scope or tidy). */
  loss(): tf.Scalar;
  /** One training step: forward, loss, backward, optimizer update. Returns the loss (one dataSync). */
  step(optimizer: tf.Optimizer): number;
  dispose(): void;
}

/** Builds the arch on the active backend; the same seed gives the same weights and batch on every backend. */
export function buildReferenceStep(arch: ReferenceArch, dims: Partial<ReferenceDims> = {}, seed = 1): ReferenceStep {
  if (!(REFERENCE_ARCHS as readonly string[]).includes(arch)) {
    throw new Error(`Unsupported arch: "${String(arch)}". Should be one of: ${REFERENCE_ARCHS.join(', ')}.`);
  }
  const d: ReferenceDims = { ...DEFAULT_DIMS, ...dims };
  const rng = mulberry32(seed);
  const held: tf.Tensor[] = [];
  const variables: tf.Variable[] = [];
  const param = (shape: number[], fanIn: number, fanOut: number): tf.Variable => {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const values = uniform(rng, size(shape), limit);
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32')));
    variables.push(v);
    return v;
  };
  const constant = (shape: number[], value: number): tf.Variable => {
    const v = tf.tidy(() => tf.variable(tf.fill(shape, value)));
    variables.push(v);
    return v;
  };
  const keep = <T extends tf.Tensor>(t: T): T => {
    held.push(t);
    return t;
  };
  const labels = (count: number, classes: number): tf.Tensor2D => {
    const ids = Int32Array.from({ length: count }, () => Math.floor(rng() * classes));
    return keep(tf.tidy(() => tf.oneHot(tf.tensor1d(ids, 'int32'), classes).toFloat() as tf.Tensor2D));
  };

  let loss: () => tf.Scalar;
  switch (arch) {
    case 'mlp': {
      const w = d.widths;
      const x = keep(tf.tensor2d(uniform(rng, d.batch * w[0]!, 1), [d.batch, w[0]!]));
      const y = labels(d.batch, w[w.length - 1]!);
      const layers = w.slice(1).map((out, i) => ({ W: param([w[i]!, out], w[i]!, out), b: constant([out], 0) }));
      loss = () => {
        let h: tf.Tensor2D = x;
        layers.forEach(({ W, b }, i) => {
          const last = i === layers.length - 1;
          h = tf.fused.matMul({ a: h, b: W as tf.Tensor2D, bias: b, activation: last ? 'linear' : 'relu' }) as tf.Tensor2D;
        });
        return tf.losses.softmaxCrossEntropy(y, h) as tf.Scalar;
      };
      break;
    }
    case 'cnn': {
      const [c1, c2] = d.channels;
      const s = d.image;
      const x = keep(tf.tensor4d(uniform(rng, d.batch * s * s, 1), [d.batch, s, s, 1]));
      const y = labels(d.batch, d.classes);
      const k1 = param([3, 3, 1, c1], 9, 9 * c1);
      const b1 = constant([c1], 0);
      const k2 = param([3, 3, c1, c2], 9 * c1, 9 * c2);
      const b2 = constant([c2], 0);
      const flat = Math.floor(s / 4) * Math.floor(s / 4) * c2;
      const w3 = param([flat, d.hidden], flat, d.hidden);
      const b3 = constant([d.hidden], 0);
      const w4 = param([d.hidden, d.classes], d.hidden, d.classes);
      const b4 = constant([d.classes], 0);
      loss = () => {
        let h: tf.Tensor4D = tf.fused.conv2d({ x, filter: k1 as tf.Tensor4D, strides: 1, pad: 'same', bias: b1, activation: 'relu' });
        h = tf.maxPool(h, 2, 2, 'valid');
        h = tf.fused.conv2d({ x: h, filter: k2 as tf.Tensor4D, strides: 1, pad: 'same', bias: b2, activation: 'relu' });
        h = tf.maxPool(h, 2, 2, 'valid');
        const f = tf.reshape(h, [d.batch, flat]) as tf.Tensor2D;
        const z = tf.fused.matMul({ a: f, b: w3 as tf.Tensor2D, bias: b3, activation: 'relu' });
        const logits = tf.fused.matMul({ a: z, b: w4 as tf.Tensor2D, bias: b4 });
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      };
      break;
    }
    case 'cnn-bn-residual': {
      const [c1, c2] = d.channels;
      const s = d.image;
      const x = keep(tf.tensor4d(uniform(rng, d.batch * s * s * 3, 1), [d.batch, s, s, 3]));
      const y = labels(d.batch, d.classes);
      const k1 = param([3, 3, 3, c1], 27, 9 * c1);
      const g1 = constant([c1], 1);
      const be1 = constant([c1], 0);
      const k2 = param([3, 3, c1, c1], 9 * c1, 9 * c1);
      const g2 = constant([c1], 1);
      const be2 = constant([c1], 0);
      const dw = param([3, 3, c1, 2], 9, 18);
      const k3 = param([3, 3, 2 * c1, c2], 18 * c1, 9 * c2);
      const k4 = param([c2, d.classes], c2, d.classes);
      const batchNorm = (h: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Tensor4D => {
        const { mean, variance } = tf.moments(h, [0, 1, 2]);
        return tf.batchNorm(h, mean, variance, beta, gamma, 1e-3) as tf.Tensor4D;
      };
      loss = () => {
        const a = tf.relu(batchNorm(tf.conv2d(x, k1 as tf.Tensor4D, 1, 'same'), g1 as tf.Tensor1D, be1 as tf.Tensor1D));
        const r = batchNorm(tf.conv2d(a, k2 as tf.Tensor4D, 1, 'same'), g2 as tf.Tensor1D, be2 as tf.Tensor1D);
        let h = tf.relu(tf.add(a, r)) as tf.Tensor4D;
        h = tf.avgPool(h, 2, 2, 'same') as tf.Tensor4D;
        h = tf.depthwiseConv2d(h, dw as tf.Tensor4D, 2, 'same');
        h = tf.relu(tf.conv2d(h, k3 as tf.Tensor4D, 2, 'same'));
        h = tf.maxPool(h, 2, 1, 'same');
        const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
        return tf.losses.softmaxCrossEntropy(y, tf.matMul(pooled, k4 as tf.Tensor2D)) as tf.Scalar;
      };
      break;
    }
    case 'transformer': {
      const { batch: b, seq: s, dModel: dm, heads: nh, ffn, vocab: v } = d;
      if (dm % nh !== 0) throw new Error(`dModel (${dm}) must be divisible by heads (${nh}).`);
      const dk = dm / nh;
      const tokens = keep(tf.tensor2d(Int32Array.from({ length: b * s }, () => Math.floor(rng() * v)), [b, s], 'int32'));
      const y = labels(b * s, v);
      const emb = param([v, dm], v, dm);
      const pos = param([s, dm], s, dm);
      const lnParams = () => ({ g: constant([dm], 1), b: constant([dm], 0) });
      const dense = (i: number, o: number) => ({ W: param([i, o], i, o), b: constant([o], 0) });
      const blocks = Array.from({ length: d.layers }, () => ({
        ln1: lnParams(), q: dense(dm, dm), k: dense(dm, dm), v: dense(dm, dm), o: dense(dm, dm),
        ln2: lnParams(), f1: dense(dm, ffn), f2: dense(ffn, dm),
      }));
      const lnOut = lnParams();
      const head = dense(dm, v);
      const layerNorm = (h: tf.Tensor2D, p: { g: tf.Variable; b: tf.Variable }): tf.Tensor2D => {
        const { mean, variance } = tf.moments(h, -1, true);
        return tf.add(tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, 1e-5))), p.g), p.b);
      };
      const linear = (h: tf.Tensor2D, p: { W: tf.Variable; b: tf.Variable }, activation: 'linear' | 'relu' = 'linear') =>
        tf.fused.matMul({ a: h, b: p.W as tf.Tensor2D, bias: p.b, activation }) as tf.Tensor2D;
      const splitHeads = (h: tf.Tensor2D) => tf.transpose(tf.reshape(h, [b, s, nh, dk]), [0, 2, 1, 3]);
      loss = () => {
        let h = tf.reshape(tf.add(tf.gather(emb, tokens), pos), [b * s, dm]) as tf.Tensor2D;
        for (const blk of blocks) {
          const n1 = layerNorm(h, blk.ln1);
          const q = splitHeads(linear(n1, blk.q));
          const k = splitHeads(linear(n1, blk.k));
          const val = splitHeads(linear(n1, blk.v));
          const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dk));
          const ctx = tf.matMul(tf.softmax(scores), val);
          const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [b * s, dm]) as tf.Tensor2D;
          h = tf.add(h, linear(merged, blk.o));
          const n2 = layerNorm(h, blk.ln2);
          h = tf.add(h, linear(gelu(linear(n2, blk.f1)), blk.f2));
        }
        const logits = linear(layerNorm(h, lnOut), head);
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      };
      break;
    }
    case 'conv1d-gru': {
      const { batch: b, seq: t, features: f, convChannels: c, units: u } = d;
      const x = keep(tf.tensor3d(uniform(rng, b * t * f, 1), [b, t, f]));
      const y = labels(b, d.classes);
      const kc = param([3, f, c], 3 * f, 3 * c);
      const bc = constant([c], 0);
      const wx = param([c, 3 * u], c, 3 * u);
      const wh = param([u, 3 * u], u, 3 * u);
      const bg = constant([3 * u], 0);
      const wo = param([u, d.classes], u, d.classes);
      loss = () => {
        const conv = tf.relu(tf.add(tf.conv1d(x, kc as tf.Tensor3D, 1, 'same'), bc));
        // Input projections for all steps at once; the recurrence only multiplies the hidden state.
        const xp = tf.reshape(tf.add(tf.matMul(tf.reshape(conv, [b * t, c]), wx), bg), [b, t, 3 * u]);
        const steps = tf.unstack(xp, 1);
        let h = tf.zeros([b, u]) as tf.Tensor2D;
        for (const xt of steps) {
          const hp = tf.matMul(h, wh);
          const [xz, xr, xn] = tf.split(xt, 3, 1);
          const [hz, hr, hn] = tf.split(hp, 3, 1);
          const z = tf.sigmoid(tf.add(xz!, hz!));
          const r = tf.sigmoid(tf.add(xr!, hr!));
          const n = tf.tanh(tf.add(xn!, tf.mul(r, hn!)));
          h = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h));
        }
        return tf.losses.softmaxCrossEntropy(y, tf.matMul(h, wo)) as tf.Scalar;
      };
      break;
    }
  }
  return {
    arch,
    dims: d,
    variables,
    loss,
    step(optimizer) {
      const cost = optimizer.minimize(loss, true, variables)!;
      const value = cost.dataSync()[0]!;
      cost.dispose();
      return value;
    },
    dispose() {
      tf.dispose(held);
      tf.dispose(variables);
    },
  };
}

/** GELU, tanh form (as PyTorch's approximate='tanh'): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function gelu<T extends tf.Tensor>(x: T): T {
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1)) as T;
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function uniform(rng: () => number, n: number, limit: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng() * 2 - 1) * limit;
  return out;
}

// Small, fast, seedable PRNG; the values only need to be identical across backends, not cryptographic.
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
