import { tf } from '../../../src/training/engine/tf';
import { useBackend } from '../../../src/training/trainer/backend';
import { maskedSoftmaxCrossEntropy, IGNORE_INDEX } from '../../../src/training/losses/maskedCrossEntropy';
import { maskedMse } from '../../../src/training/losses/maskedMse';
import { NTXentLoss } from '../../../src/training/losses/ntXent';
import { VICRegLoss } from '../../../src/training/losses/vicreg';
import { CpcInfoNceLoss } from '../../../src/training/losses/cpcInfoNce';
import { createRng } from '../../../src/training/rng';

// Independent references: nested loops over plain arrays, in float64.
const rng = createRng(3, 'losses');
const rand = (n: number) => Array.from({ length: n }, () => rng.normal());

function scalar(t: tf.Scalar): number {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('maskedSoftmaxCrossEntropy', () => {
  it('matches a loop reference, skipping ignored positions', () => {
    const B = 3, T = 4, V = 5;
    const logits = rand(B * T * V);
    const labels = [1, IGNORE_INDEX, 4, 0, IGNORE_INDEX, IGNORE_INDEX, 2, 3, 0, 1, IGNORE_INDEX, 4];
    let sum = 0, count = 0;
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
      const y = labels[b * T + t]!;
      if (y === IGNORE_INDEX) continue;
      const row = logits.slice((b * T + t) * V, (b * T + t + 1) * V);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, z) => s + Math.exp(z - max), 0));
      sum += lse - row[y]!;
      count++;
    }
    const lt = tf.tensor3d(logits, [B, T, V]);
    const yt = tf.tensor2d(labels, [B, T], 'int32');
    expect(scalar(maskedSoftmaxCrossEntropy(lt, yt))).toBeCloseTo(sum / count, 5);
    tf.dispose([lt, yt]);
  });

  it('is 0 (not NaN) when every position is ignored', () => {
    const lt = tf.zeros([1, 2, 3]);
    const yt = tf.tensor2d([[IGNORE_INDEX, IGNORE_INDEX]], [1, 2], 'int32');
    const v = scalar(maskedSoftmaxCrossEntropy(lt, yt));
    expect(Number.isNaN(v)).toBe(false);
    expect(Math.abs(v)).toBe(0);
    tf.dispose([lt, yt]);
  });

  it('rejects mismatched shapes', () => {
    const lt = tf.zeros([2, 3, 4]);
    const yt = tf.zeros([2, 4], 'int32');
    expect(() => maskedSoftmaxCrossEntropy(lt, yt)).toThrow(/disagree on \[B, T\]/);
    tf.dispose([lt, yt]);
  });
});

describe('maskedMse', () => {
  it('matches a loop reference over masked positions only', () => {
    const B = 2, T = 5, D = 3;
    const p = rand(B * T * D), x = rand(B * T * D);
    const m = [1, 0, 1, 1, 0, 0, 0, 1, 0, 1];
    let sum = 0, count = 0;
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
      if (!m[b * T + t]) continue;
      let se = 0;
      for (let d = 0; d < D; d++) se += (p[(b * T + t) * D + d]! - x[(b * T + t) * D + d]!) ** 2;
      sum += se / D;
      count++;
    }
    const [pt, xt, mt] = [tf.tensor3d(p, [B, T, D]), tf.tensor3d(x, [B, T, D]), tf.tensor2d(m, [B, T])];
    expect(scalar(maskedMse(pt, xt, mt))).toBeCloseTo(sum / count, 5);
    let all = 0;
    for (let i = 0; i < p.length; i++) all += (p[i]! - x[i]!) ** 2;
    expect(scalar(maskedMse(pt, xt, null))).toBeCloseTo(all / p.length, 5);
    tf.dispose([pt, xt, mt]);
  });
});

describe('NTXentLoss', () => {
  function reference(z1: number[], z2: number[], n: number, d: number, tau: number): number {
    const h: number[][] = [];
    for (let i = 0; i < 2 * n; i++) {
      const src = i < n ? z1 : z2;
      const v = src.slice((i % n) * d, (i % n + 1) * d);
      const norm = Math.sqrt(v.reduce((s, a) => s + a * a, 0));
      h.push(v.map((a) => a / norm));
    }
    const sim = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * b[k]!, 0);
    let total = 0;
    for (let i = 0; i < 2 * n; i++) {
      const pos = (i + n) % (2 * n);
      let denom = 0;
      for (let j = 0; j < 2 * n; j++) if (j !== i) denom += Math.exp(sim(h[i]!, h[j]!) / tau);
      total += -Math.log(Math.exp(sim(h[i]!, h[pos]!) / tau) / denom);
    }
    return total / (2 * n);
  }

  it.each([0.1, 0.5, 1])('matches the SimCLR formula at τ = %p', (tau) => {
    const n = 4, d = 6;
    const z1 = rand(n * d), z2 = rand(n * d);
    const [a, b] = [tf.tensor2d(z1, [n, d]), tf.tensor2d(z2, [n, d])];
    expect(scalar(new NTXentLoss({ temperature: tau }).call(a, b))).toBeCloseTo(reference(z1, z2, n, d, tau), 4);
    tf.dispose([a, b]);
  });

  it('matches the reference within 1e-5 at τ = 0.5', () => {
    const n = 3, d = 4;
    const z1 = rand(n * d), z2 = rand(n * d);
    const [a, b] = [tf.tensor2d(z1, [n, d]), tf.tensor2d(z2, [n, d])];
    expect(Math.abs(scalar(new NTXentLoss({ temperature: 0.5 }).call(a, b)) - reference(z1, z2, n, d, 0.5))).toBeLessThan(1e-5);
    tf.dispose([a, b]);
  });

  it.each([0, -0.1, Number.NaN])('rejects temperature %p with a fix-it message', (tau) => {
    expect(() => new NTXentLoss({ temperature: tau })).toThrow(/temperature must be a finite number > 0.*Use a value such as/);
  });

  it('rejects a batch of one example', () => {
    const a = tf.zeros([1, 3]);
    expect(() => new NTXentLoss().call(a, a)).toThrow(/at least 2 examples/);
    a.dispose();
  });
});

describe('VICRegLoss', () => {
  // Plain loops over the paper's definitions (unbiased variance, off-diagonal covariance over D).
  function reference(z1: number[], z2: number[], n: number, d: number, lambda = 25, mu = 25, nu = 1, gamma = 1, eps = 1e-4): number {
    let inv = 0;
    for (let i = 0; i < n * d; i++) inv += (z1[i]! - z2[i]!) ** 2;
    inv /= n * d;
    const vc = (z: number[]) => {
      const mean = Array.from({ length: d }, (_, j) => Array.from({ length: n }, (_, i) => z[i * d + j]!).reduce((a, b) => a + b, 0) / n);
      let v = 0;
      let c = 0;
      for (let j = 0; j < d; j++) {
        for (let k = 0; k < d; k++) {
          let cov = 0;
          for (let i = 0; i < n; i++) cov += (z[i * d + j]! - mean[j]!) * (z[i * d + k]! - mean[k]!);
          cov /= n - 1;
          if (j === k) v += Math.max(0, gamma - Math.sqrt(cov + eps));
          else c += cov * cov;
        }
      }
      return { v: v / d, c: c / d };
    };
    const a = vc(z1);
    const b = vc(z2);
    return lambda * inv + mu * (a.v + b.v) + nu * (a.c + b.c);
  }

  it('matches the paper formula computed with loops', () => {
    const n = 5, d = 4;
    const z1 = rand(n * d), z2 = rand(n * d);
    const [a, b] = [tf.tensor2d(z1, [n, d]), tf.tensor2d(z2, [n, d])];
    expect(scalar(new VICRegLoss().call(a, b))).toBeCloseTo(reference(z1, z2, n, d), 4);
    tf.dispose([a, b]);
  });

  it('rejects bad weights and a batch of one example', () => {
    expect(() => new VICRegLoss({ variance: -1 })).toThrow(/variance weight must be a finite number ≥ 0.*Paper defaults/);
    const a = tf.zeros([1, 3]);
    expect(() => new VICRegLoss().call(a, a)).toThrow(/at least 2 examples/);
    a.dispose();
  });
});

describe('CpcInfoNceLoss', () => {
  it('matches a loop reference', () => {
    const m = 5, d = 3, tau = 0.7;
    const p = rand(m * d), f = rand(m * d);
    let total = 0;
    for (let i = 0; i < m; i++) {
      const s: number[] = [];
      for (let j = 0; j < m; j++) {
        let dot = 0;
        for (let k = 0; k < d; k++) dot += p[i * d + k]! * f[j * d + k]!;
        s.push(dot / tau);
      }
      const lse = Math.log(s.reduce((acc, v) => acc + Math.exp(v), 0));
      total += lse - s[i]!;
    }
    const [pt, ft] = [tf.tensor2d(p, [m, d]), tf.tensor2d(f, [m, d])];
    expect(Math.abs(scalar(new CpcInfoNceLoss({ temperature: tau }).call(pt, ft)) - total / m)).toBeLessThan(1e-5);
    tf.dispose([pt, ft]);
  });

  it('rejects temperature ≤ 0', () => {
    expect(() => new CpcInfoNceLoss({ temperature: 0 })).toThrow(/temperature must be a finite number > 0/);
  });
});
