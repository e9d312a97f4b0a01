import { tf } from '../engine/tf';
import { clipByGlobalNorm } from './clip';
import type { LearningRateSchedule } from './schedule';

export interface AdamWOptions {
  /** A constant rate or a schedule of the 0-based step. */
  learningRate: number | LearningRateSchedule;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay λ (applied as w ← w − lr·λ·w). */
  weightDecay?: number;
  /** Global gradient-norm limit; Infinity disables clipping. */
  clipNorm?: number;
  /**
   * Which parameters decay. Default: tensors of rank ≥ 2 (kernels, embeddings), not biases or norm scales, the usual
   * practice since decaying those only hurts.
   */
  decay?: (name: string, variable: tf.Variable) => boolean;
  /**
   * Per-parameter multiplier of the scheduled rate (default 1 for all), decay included: fine-tuning a pretrained
   * encoder more slowly than its new head (LP-FT) without a second optimizer.
   */
  rateScale?: (name: string) => number;
}

/** Plain-array optimizer state, for checkpoints. */
export interface AdamWState {
  step: number;
  m: Record<string, { shape: number[]; data: Float32Array }>;
  v: Record<string, { shape: number[]; data: Float32Array }>;
}

export interface StepInfo { learningRate: number; gradNorm: number; step: number }

/**
 * AdamW (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization"), for step t = 1, 2, …:
 *   g ← clip(g);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   m̂ = m/(1−β1ᵗ);  v̂ = v/(1−β2ᵗ)
 *   w ← w − lr_t·( m̂/(√v̂ + ε) + λ·w )
 * The decay term uses the weight before the Adam step, as in PyTorch's AdamW.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  readonly clipNorm: number;
  private readonly schedule: LearningRateSchedule;
  private readonly decay: (name: string, variable: tf.Variable) => boolean;
  private readonly rateScale: (name: string) => number;
  private m = new Map<string, tf.Variable>();
  private v = new Map<string, tf.Variable>();
  private t = 0;

  constructor(options: AdamWOptions) {
    const lr = options.learningRate;
    if (typeof lr === 'number' && (!(lr > 0) || !Number.isFinite(lr))) throw new Error(`learningRate must be a finite number > 0; got ${lr}. Try 1e-3.`);
    this.schedule = typeof lr === 'number' ? () => lr : lr;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    this.clipNorm = options.clipNorm ?? Infinity;
    for (const [k, b] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new Error(`${k} must be in [0, 1); got ${b}. Typical: beta1 0.9, beta2 0.999.`);
    }
    if (!(this.epsilon > 0)) throw new Error(`epsilon must be > 0; got ${this.epsilon}. Typical: 1e-8.`);
    if (!(this.weightDecay >= 0)) throw new Error(`weightDecay must be ≥ 0; got ${this.weightDecay}. Typical: 0.01–0.1.`);
    if (!(this.clipNorm > 0)) throw new Error(`clipNorm must be > 0; got ${this.clipNorm}. Use Infinity to disable clipping.`);
    this.decay = options.decay ?? ((_name, variable) => variable.rank >= 2);
    this.rateScale = options.rateScale ?? (() => 1);
  }

  /** Steps taken so far. */
  get step(): number { return this.t; }

  /** Learning rate the next step will use. */
  get learningRate(): number { return this.schedule(this.t); }

  /** Applies one update to `variables` from `grads` (matched by name; disposes nothing it did not create). */
  applyGradients(variables: Record<string, tf.Variable>, grads: Record<string, tf.Tensor>): StepInfo {
    const lr = this.schedule(this.t);
    const clipped = clipByGlobalNorm(grads, this.clipNorm);
    this.t += 1;
    const t = this.t;
    const c1 = 1 - this.beta1 ** t;
    const c2 = 1 - this.beta2 ** t;
    for (const [name, g] of Object.entries(clipped.grads)) {
      const w = variables[name];
      if (!w) throw new Error(`Gradient for unknown variable "${name}". Known: ${Object.keys(variables).join(', ')}.`);
      const m = this.slot(this.m, name, w);
      const v = this.slot(this.v, name, w);
      const decay = this.decay(name, w) ? this.weightDecay : 0;
      const rate = lr * this.rateScale(name);
      tf.tidy(() => {
        const m1 = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v1 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        const update = tf.div(tf.div(m1, c1), tf.add(tf.sqrt(tf.div(v1, c2)), this.epsilon));
        const full = decay > 0 ? tf.add(update, tf.mul(w, decay)) : update;
        m.assign(m1);
        v.assign(v1);
        w.assign(tf.sub(w, tf.mul(full, rate)));
      });
      g.dispose();
    }
    return { learningRate: lr, gradNorm: clipped.norm, step: t };
  }

  exportState(): AdamWState {
    const dump = (slots: Map<string, tf.Variable>) => {
      const out: AdamWState['m'] = {};
      for (const [name, s] of slots) out[name] = { shape: [...s.shape], data: new Float32Array(s.dataSync() as Float32Array) };
      return out;
    };
    return { step: this.t, m: dump(this.m), v: dump(this.v) };
  }

  importState(state: AdamWState): void {
    this.disposeSlots();
    this.t = state.step;
    const load = (src: AdamWState['m'], dst: Map<string, tf.Variable>) => {
      for (const [name, s] of Object.entries(src)) dst.set(name, ownedVariable(tf.tensor(s.data, s.shape, 'float32')));
    };
    load(state.m, this.m);
    load(state.v, this.v);
  }

  dispose(): void { this.disposeSlots(); }

  private disposeSlots(): void {
    for (const s of [...this.m.values(), ...this.v.values()]) s.dispose();
    this.m.clear();
    this.v.clear();
  }

  private slot(slots: Map<string, tf.Variable>, name: string, like: tf.Variable): tf.Variable {
    let s = slots.get(name);
    if (!s) {
      s = ownedVariable(tf.zerosLike(like));
      slots.set(name, s);
    }
    return s;
  }
}

/** A non-trainable variable that does not keep its initial tensor alive. */
function ownedVariable(initial: tf.Tensor): tf.Variable {
  const v = tf.variable(initial, false);
  initial.dispose();
  return v;
}
