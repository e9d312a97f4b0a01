export interface WarmupCosineOptions {
  /** Peak learning rate reached at the end of warmup. */
  learningRate: number;
  /** Steps of linear warmup from ~0 to learningRate (0 = none). */
  warmupSteps: number;
  /** Step at which the cosine reaches minLearningRate (usually the run's total steps). */
  totalSteps: number;
  /** Floor of the cosine decay (default 0). */
  minLearningRate?: number;
}

export type LearningRateSchedule = (step: number) => number;

/**
 * Linear warmup then cosine decay (Loshchilov & Hutter 2017, "SGDR"; Goyal et al. 2017 for the warmup):
 *   lr(s) = η·(s+1)/W                                          for s < W
 *   lr(s) = η_min + ½(η − η_min)(1 + cos(π·min(1, (s−W)/(S−W))))   otherwise
 * where s is the 0-based step being taken.
 */
export function warmupCosine(options: WarmupCosineOptions): LearningRateSchedule {
  const { learningRate: lr, warmupSteps: w, totalSteps: total } = options;
  const min = options.minLearningRate ?? 0;
  if (!(lr > 0) || !Number.isFinite(lr)) throw new Error(`learningRate must be a finite number > 0; got ${lr}. Try 1e-3.`);
  if (!Number.isInteger(w) || w < 0) throw new Error(`warmupSteps must be an integer ≥ 0; got ${w}.`);
  if (!Number.isInteger(total) || total < 1) throw new Error(`totalSteps must be an integer ≥ 1; got ${total}.`);
  if (!(min >= 0 && min <= lr)) throw new Error(`minLearningRate must be in [0, learningRate=${lr}]; got ${min}.`);
  return (step: number) => {
    if (step < w) return (lr * (step + 1)) / w;
    const span = Math.max(1, total - w);
    const progress = Math.min(1, (step - w) / span);
    return min + 0.5 * (lr - min) * (1 + Math.cos(Math.PI * progress));
  };
}
