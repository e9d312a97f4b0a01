import { tf } from '../engine/tf';

export interface VICRegOptions {
  /** Weights of the invariance, variance and covariance terms (paper defaults λ = μ = 25, ν = 1). */
  invariance?: number;
  variance?: number;
  covariance?: number;
  /** Target standard deviation γ of every embedding dimension (default 1) and the ε inside the square root. */
  gamma?: number;
  epsilon?: number;
}

/**
 * VICReg (Bardes, Ponce & LeCun 2022, "VICReg: Variance-Invariance-Covariance Regularization for Self-Supervised
 * Learning", eqs. 1–6). No negatives, so it does not need large batches. For the two views' projections
 * Z, Z′ ∈ ℝ^{N×D}:
 *
 *   s(Z, Z′) = (1/(N·D)) Σ_i ‖z_i − z′_i‖²                                  invariance (mean squared error)
 *   v(Z)     = (1/D) Σ_j max(0, γ − √(Var(Z_{:,j}) + ε))                      variance hinge per dimension
 *   c(Z)     = (1/D) Σ_{j≠k} C(Z)²_{jk},  C(Z) = (1/(N−1)) Σ_i (z_i − z̄)(z_i − z̄)ᵀ   off-diagonal covariance
 *   L = λ·s(Z, Z′) + μ·(v(Z) + v(Z′)) + ν·(c(Z) + c(Z′))
 *
 * Var is the unbiased (N − 1) variance. Shapes: z1 [N, D], z2 [N, D] with N ≥ 2. Returns a scalar.
 */
export class VICRegLoss {
  readonly invariance: number;
  readonly variance: number;
  readonly covariance: number;
  readonly gamma: number;
  readonly epsilon: number;

  constructor(o: VICRegOptions = {}) {
    this.invariance = o.invariance ?? 25;
    this.variance = o.variance ?? 25;
    this.covariance = o.covariance ?? 1;
    this.gamma = o.gamma ?? 1;
    this.epsilon = o.epsilon ?? 1e-4;
    for (const [name, v] of [['invariance', this.invariance], ['variance', this.variance], ['covariance', this.covariance], ['gamma', this.gamma], ['epsilon', this.epsilon]] as const) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`VICReg ${name} weight must be a finite number ≥ 0; got ${v}. Paper defaults: invariance 25, variance 25, covariance 1.`);
    }
  }

  call(z1: tf.Tensor, z2: tf.Tensor): tf.Scalar {
    if (z1.rank !== 2 || z2.rank !== 2 || z1.shape[0] !== z2.shape[0] || z1.shape[1] !== z2.shape[1]) {
      throw new Error(`VICReg expects two views [N, D] of the same shape; got [${z1.shape}] and [${z2.shape}].`);
    }
    const n = z1.shape[0]!;
    if (n < 2) throw new Error(`VICReg needs at least 2 examples per batch (it uses batch statistics); got ${n}. Increase batchSize.`);
    return tf.tidy(() => {
      const inv = tf.mean(tf.square(tf.sub(z1, z2)));
      const terms = [z1, z2].map((z) => {
        const d = z.shape[1]!;
        const centered = tf.sub(z, tf.mean(z, 0, true));
        const cov = tf.div(tf.matMul(centered, centered, true, false), n - 1); // [D, D]
        const variances = tf.mul(tf.sum(tf.square(centered), 0), 1 / (n - 1)); // [D]
        const std = tf.sqrt(tf.add(variances, this.epsilon));
        const v = tf.mean(tf.relu(tf.sub(this.gamma, std)));
        const offDiagonal = tf.sub(tf.sum(tf.square(cov)), tf.sum(tf.square(variances)));
        return { v, c: tf.div(offDiagonal, d) };
      });
      return tf.addN([
        tf.mul(inv, this.invariance),
        tf.mul(tf.add(terms[0]!.v, terms[1]!.v), this.variance),
        tf.mul(tf.add(terms[0]!.c, terms[1]!.c), this.covariance),
      ]) as tf.Scalar;
    });
  }
}
