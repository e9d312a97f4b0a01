import { tf } from '../engine/tf';

export interface CpcInfoNceOptions {
  /** Scale of the scores, τ > 0 (1 = plain dot products as in CPC). */
  temperature?: number;
}

/**
 * CPC InfoNCE for next-step prediction (van den Oord et al. 2018, "Representation Learning with Contrastive
 * Predictive Coding", eq. 4). Each context's prediction p_i must pick its own future encoding f_i among the
 * futures of the whole batch (the other M − 1 act as negatives):
 *
 *   s_{ij} = p_iᵀ f_j / τ
 *   L = (1/M) Σ_i −log( exp(s_{ii}) / Σ_j exp(s_{ij}) )
 *
 * Shapes: predictions p [M, D] (from the autoregressive context, M = B·K pairs), futures f [M, D]. Returns a scalar.
 */
export class CpcInfoNceLoss {
  readonly temperature: number;

  constructor(options: CpcInfoNceOptions = {}) {
    const temperature = options.temperature ?? 1;
    if (!(temperature > 0) || !Number.isFinite(temperature)) {
      throw new Error(`CPC InfoNCE temperature must be a finite number > 0; got ${temperature}. Use 1 for plain dot products or e.g. 0.1 for sharper scores.`);
    }
    this.temperature = temperature;
  }

  call(predictions: tf.Tensor, futures: tf.Tensor): tf.Scalar {
    if (predictions.rank !== 2 || futures.rank !== 2 || predictions.shape[0] !== futures.shape[0] || predictions.shape[1] !== futures.shape[1]) {
      throw new Error(`CPC InfoNCE expects predictions and futures [M, D] of the same shape; got [${predictions.shape}] and [${futures.shape}].`);
    }
    const m = predictions.shape[0]!;
    if (m < 2) throw new Error(`CPC InfoNCE needs at least 2 pairs (negatives come from the batch); got ${m}. Increase batchSize.`);
    return tf.tidy(() => {
      const scores = tf.div(tf.matMul(predictions, futures.transpose()), tf.scalar(this.temperature)); // [M, M]
      const logp = tf.logSoftmax(scores, -1);
      return tf.neg(tf.mean(tf.sum(tf.mul(logp, tf.eye(m)), -1))) as tf.Scalar;
    });
  }
}
