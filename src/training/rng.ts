// Seeded randomness for everything the trainer decides (data order, augmentations, masking, init). One stream per
// purpose, derived from the run seed by name, so adding a random choice in one place never shifts another's stream,
// and every stream's state can be saved in a checkpoint and restored exactly.
import seedrandom from 'seedrandom';

export type RngState = seedrandom.State.Alea;

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Fisher–Yates shuffle of 0..n-1. */
  permutation(n: number): Int32Array;
  state(): RngState;
}

class AleaRng implements Rng {
  private readonly prng: seedrandom.StatefulPRNG<RngState>;

  constructor(seed: string, state?: RngState) {
    this.prng = state ? seedrandom.alea('', { state }) : seedrandom.alea(seed, { state: true });
  }

  next(): number { return this.prng(); }
  int(n: number): number { return Math.floor(this.prng() * n); }
  uniform(lo: number, hi: number): number { return lo + (hi - lo) * this.prng(); }

  normal(): number {
    // 1 - u keeps the log argument in (0, 1].
    const u = 1 - this.prng();
    const v = this.prng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!; p[i] = p[j]!; p[j] = t;
    }
    return p;
  }

  state(): RngState { return this.prng.state(); }
}

/** A stream for `purpose` under the run `seed` (e.g. createRng(7, 'augment', step)). */
export function createRng(seed: number | string, ...purpose: Array<string | number>): Rng {
  return new AleaRng([String(seed), ...purpose.map(String)].join('/'));
}

/** Continues a stream from a state saved with `rng.state()`. */
export function restoreRng(state: RngState): Rng {
  return new AleaRng('', state);
}
