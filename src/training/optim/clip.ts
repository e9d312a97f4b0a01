import { tf } from '../engine/tf';

/**
 * Global-norm clipping (Pascanu et al. 2013): with n = sqrt(Σ_k ‖g_k‖²), every gradient is scaled by
 * min(1, maxNorm / n). Returns new tensors (the caller disposes the inputs) and the pre-clipping norm.
 */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: number } {
  if (!(maxNorm > 0)) throw new Error(`maxNorm must be > 0; got ${maxNorm}. Use Infinity to disable clipping.`);
  const names = Object.keys(grads);
  const norm = names.length === 0 ? 0 : tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]!))))).dataSync()[0]!);
  const scale = Number.isFinite(maxNorm) && norm > maxNorm ? maxNorm / norm : 1;
  const out: Record<string, tf.Tensor> = {};
  for (const n of names) out[n] = scale === 1 ? grads[n]!.clone() : tf.tidy(() => tf.mul(grads[n]!, tf.scalar(scale)));
  return { grads: out, norm };
}
