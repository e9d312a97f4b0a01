/**
 * Seeded parameter initialisers. Every draw comes from one seedrandom stream per model, consumed in
 * parameter-registration order, so the same spec + seed always gives the same weights on any backend.
 */
import seedrandom from 'seedrandom';

export type Rng = () => number;

export function makeRng(seed: number | string): Rng {
  return seedrandom(String(seed));
}

export type InitKind =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number }
  /** U(-l, l), l = sqrt(6 / (fanIn + fanOut)) — linear/tanh/sigmoid layers. */
  | { kind: 'glorotUniform'; fanIn: number; fanOut: number }
  /** N(0, 2 / fanIn), truncated at 2σ — ReLU-family convs and dense layers. */
  | { kind: 'heNormal'; fanIn: number }
  | { kind: 'normal'; std: number };

function standardNormal(rng: Rng): number {
  // Box–Muller; 1 - u keeps log away from 0.
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function truncatedNormal(rng: Rng): number {
  for (;;) {
    const x = standardNormal(rng);
    if (Math.abs(x) <= 2) return x;
  }
}

export function initValues(init: InitKind, size: number, rng: Rng): Float32Array {
  const out = new Float32Array(size);
  switch (init.kind) {
    case 'zeros':
      break;
    case 'ones':
      out.fill(1);
      break;
    case 'constant':
      out.fill(init.value);
      break;
    case 'glorotUniform': {
      const limit = Math.sqrt(6 / (init.fanIn + init.fanOut));
      for (let i = 0; i < size; i++) out[i] = (rng() * 2 - 1) * limit;
      break;
    }
    case 'heNormal': {
      // 0.8796 corrects the variance lost by truncating at 2σ.
      const std = Math.sqrt(2 / init.fanIn) / 0.87962566;
      for (let i = 0; i < size; i++) out[i] = truncatedNormal(rng) * std;
      break;
    }
    case 'normal':
      for (let i = 0; i < size; i++) out[i] = standardNormal(rng) * init.std;
      break;
  }
  return out;
}
