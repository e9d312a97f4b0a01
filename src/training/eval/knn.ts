// Cosine kNN classification of query embeddings against a labeled bank (the standard SSL evaluation; k = 20).
// Similarities run as plain matMuls against a materialized, L2-normalized bankᵀ in query chunks, so a 60 000-row
// bank stays fast; only the top-k indices per query come back to JS.
import { tf } from '../engine/tf';

/**
 * Predicted class per query: the majority class among its k most cosine-similar bank rows. Ties go to the tied
 * class whose best neighbour ranks highest. bank [N, D] and queries [M, D] row-major; bankLabels class indices.
 */
export function knnPredict(
  bank: Float32Array, bankLabels: ArrayLike<number>, queries: Float32Array, dim: number, k = 20,
): Int32Array {
  const n = bankLabels.length;
  const m = queries.length / dim;
  if (n === 0) throw new Error('kNN needs a non-empty labeled bank.');
  if (bank.length !== n * dim) throw new Error(`bank holds ${bank.length} values; expected ${n}·${dim}.`);
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be an integer ≥ 1; got ${k}. The usual SSL setting is 20.`);
  const kk = Math.min(k, n);
  const out = new Int32Array(m);
  const bankT = tf.tidy(() => tf.transpose(l2Rows(tf.tensor2d(bank, [n, dim]))));
  try {
    const chunk = Math.max(1, Math.floor(8_000_000 / n));
    for (let start = 0; start < m; start += chunk) {
      const rows = Math.min(chunk, m - start);
      const idx = tf.tidy(() => {
        const q = l2Rows(tf.tensor2d(queries.subarray(start * dim, (start + rows) * dim), [rows, dim]));
        return tf.topk(tf.matMul(q, bankT), kk, true).indices;
      });
      const top = idx.dataSync() as Int32Array;
      idx.dispose();
      for (let r = 0; r < rows; r++) out[start + r] = vote(top.subarray(r * kk, (r + 1) * kk), bankLabels);
    }
  } finally {
    bankT.dispose();
  }
  return out;
}

function l2Rows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12));
}

/** `neighbours` are bank indices, nearest first. */
function vote(neighbours: Int32Array, labels: ArrayLike<number>): number {
  const votes = new Map<number, number>();
  for (const j of neighbours) votes.set(labels[j]!, (votes.get(labels[j]!) ?? 0) + 1);
  const best = Math.max(...votes.values());
  for (const j of neighbours) if (votes.get(labels[j]!) === best) return labels[j]!;
  return labels[neighbours[0]!]!;
}
