import { tf } from '../../../src/training/engine/tf';
import { useBackend } from '../../../src/training/trainer/backend';
import { AdamW, clipByGlobalNorm, warmupCosine } from '../../../src/training/optim';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Plain-array AdamW with global-norm clipping, decay on rank ≥ 2 only (the optimizer's default). */
function referenceRun(
  params: Record<string, { shape: number[]; data: number[] }>, gradsPerStep: Record<string, number[]>[],
  lr: (s: number) => number, o: { b1: number; b2: number; eps: number; wd: number; clip: number },
  rateScale: (name: string) => number = () => 1,
) {
  const w = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, [...v.data]]));
  const m = Object.fromEntries(Object.keys(params).map((k) => [k, params[k]!.data.map(() => 0)]));
  const v = Object.fromEntries(Object.keys(params).map((k) => [k, params[k]!.data.map(() => 0)]));
  gradsPerStep.forEach((grads, s) => {
    let sq = 0;
    for (const g of Object.values(grads)) for (const x of g) sq += x * x;
    const norm = Math.sqrt(sq);
    const scale = norm > o.clip ? o.clip / norm : 1;
    const t = s + 1;
    for (const k of Object.keys(params)) {
      const decay = params[k]!.shape.length >= 2 ? o.wd : 0;
      for (let i = 0; i < w[k]!.length; i++) {
        const g = grads[k]![i]! * scale;
        m[k]![i] = o.b1 * m[k]![i]! + (1 - o.b1) * g;
        v[k]![i] = o.b2 * v[k]![i]! + (1 - o.b2) * g * g;
        const mh = m[k]![i]! / (1 - o.b1 ** t);
        const vh = v[k]![i]! / (1 - o.b2 ** t);
        w[k]![i] = w[k]![i]! - lr(s) * rateScale(k) * (mh / (Math.sqrt(vh) + o.eps) + decay * w[k]![i]!);
      }
    }
  });
  return w;
}

describe('AdamW', () => {
  const params = { kernel: { shape: [2, 3], data: [0.5, -0.2, 0.1, 0.9, -0.7, 0.3] }, bias: { shape: [3], data: [0.1, 0, -0.1] } };
  const grads = Array.from({ length: 6 }, (_, s) => ({
    kernel: params.kernel.data.map((_, i) => Math.sin(s + i) * (s === 2 ? 10 : 1)),
    bias: params.bias.data.map((_, i) => Math.cos(s * 2 + i)),
  }));
  const o = { b1: 0.9, b2: 0.99, eps: 1e-8, wd: 0.05, clip: 1.5 };
  const schedule = warmupCosine({ learningRate: 0.01, warmupSteps: 2, totalSteps: 6, minLearningRate: 0.001 });

  function makeVars() {
    return Object.fromEntries(Object.entries(params).map(([k, p]) => [k, tf.variable(tf.tensor(p.data, p.shape))])) as Record<string, tf.Variable>;
  }
  function step(opt: AdamW, vars: Record<string, tf.Variable>, s: number) {
    const g = Object.fromEntries(Object.entries(grads[s]!).map(([k, d]) => [k, tf.tensor(d, params[k as keyof typeof params].shape)]));
    const info = opt.applyGradients(vars, g);
    tf.dispose(Object.values(g));
    return info;
  }

  it('matches a plain reference (warmup + cosine, clipping, decoupled decay) within 1e-5', () => {
    const vars = makeVars();
    const opt = new AdamW({ learningRate: schedule, beta1: o.b1, beta2: o.b2, epsilon: o.eps, weightDecay: o.wd, clipNorm: o.clip });
    const norms: number[] = [];
    for (let s = 0; s < grads.length; s++) norms.push(step(opt, vars, s).gradNorm);
    const ref = referenceRun(params, grads, schedule, o);
    for (const k of Object.keys(params)) {
      const got = vars[k]!.dataSync();
      ref[k]!.forEach((x, i) => expect(Math.abs(got[i]! - x)).toBeLessThan(1e-5));
    }
    expect(norms[2]).toBeGreaterThan(o.clip); // the step that clipping had to shrink
    opt.dispose();
    tf.dispose(Object.values(vars));
  });

  it('exported state continues exactly like the uninterrupted optimizer', () => {
    const a = makeVars(), b = makeVars();
    const mk = () => new AdamW({ learningRate: schedule, weightDecay: o.wd, clipNorm: o.clip });
    const optA = mk();
    for (let s = 0; s < 6; s++) step(optA, a, s);
    const optB1 = mk();
    for (let s = 0; s < 3; s++) step(optB1, b, s);
    const state = optB1.exportState();
    optB1.dispose();
    const optB2 = mk();
    optB2.importState(state);
    expect(optB2.step).toBe(3);
    for (let s = 3; s < 6; s++) step(optB2, b, s);
    for (const k of Object.keys(params)) expect(Array.from(b[k]!.dataSync())).toEqual(Array.from(a[k]!.dataSync()));
    optA.dispose();
    optB2.dispose();
    tf.dispose([...Object.values(a), ...Object.values(b)]);
  });

  it('rateScale multiplies the rate per parameter, decay included; other parameters are untouched', () => {
    const plain = makeVars(), scaled = makeVars();
    const optPlain = new AdamW({ learningRate: schedule, beta1: o.b1, beta2: o.b2, epsilon: o.eps, weightDecay: o.wd, clipNorm: o.clip });
    const optScaled = new AdamW({
      learningRate: schedule, beta1: o.b1, beta2: o.b2, epsilon: o.eps, weightDecay: o.wd, clipNorm: o.clip,
      rateScale: (n) => (n === 'kernel' ? 0.25 : 1),
    });
    for (let s = 0; s < grads.length; s++) { step(optPlain, plain, s); step(optScaled, scaled, s); }
    expect(Array.from(scaled.bias!.dataSync())).toEqual(Array.from(plain.bias!.dataSync()));
    const ref = referenceRun(params, grads, schedule, o, (k) => (k === 'kernel' ? 0.25 : 1));
    const got = scaled.kernel!.dataSync();
    ref.kernel!.forEach((x, i) => expect(Math.abs(got[i]! - x)).toBeLessThan(1e-5));
    optPlain.dispose();
    optScaled.dispose();
    tf.dispose([...Object.values(plain), ...Object.values(scaled)]);
  });

  it('rejects bad hyperparameters with a hint', () => {
    expect(() => new AdamW({ learningRate: 0 })).toThrow(/learningRate must be a finite number > 0.*Try 1e-3/);
    expect(() => new AdamW({ learningRate: 1e-3, beta1: 1 })).toThrow(/beta1 must be in \[0, 1\)/);
    expect(() => new AdamW({ learningRate: 1e-3, weightDecay: -1 })).toThrow(/weightDecay must be ≥ 0/);
    expect(() => new AdamW({ learningRate: 1e-3, clipNorm: 0 })).toThrow(/clipNorm must be > 0/);
  });
});

describe('warmupCosine', () => {
  it('warms up linearly, peaks, then decays to the floor', () => {
    const lr = warmupCosine({ learningRate: 1, warmupSteps: 4, totalSteps: 14, minLearningRate: 0.1 });
    expect([0, 1, 2, 3].map(lr)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(lr(4)).toBeCloseTo(1, 10);
    expect(lr(9)).toBeCloseTo(0.1 + 0.45 * (1 + Math.cos(Math.PI * 0.5)), 10);
    expect(lr(14)).toBeCloseTo(0.1, 10);
    expect(lr(100)).toBeCloseTo(0.1, 10);
  });
  it('rejects bad settings', () => {
    expect(() => warmupCosine({ learningRate: 1, warmupSteps: -1, totalSteps: 5 })).toThrow(/warmupSteps/);
    expect(() => warmupCosine({ learningRate: 1, warmupSteps: 0, totalSteps: 0 })).toThrow(/totalSteps/);
  });
});

describe('clipByGlobalNorm', () => {
  it('scales every gradient by maxNorm / globalNorm when above the limit', () => {
    const g = { a: tf.tensor([3, 0]), b: tf.tensor([0, 4]) };
    const { grads, norm } = clipByGlobalNorm(g, 1);
    expect(norm).toBeCloseTo(5, 5);
    expect(Array.from(grads.a!.dataSync())).toEqual([expect.closeTo(0.6, 5), 0]);
    expect(Array.from(grads.b!.dataSync())).toEqual([0, expect.closeTo(0.8, 5)]);
    tf.dispose([...Object.values(g), ...Object.values(grads)]);
  });
});
