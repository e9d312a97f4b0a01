/**
 * Vector search over embeddings: ExactIndex (scan; exact) and HnswIndex (approximate; large spaces), one byte
 * format for both (format.ts). `readVectorIndex(bytes)` opens either kind.
 */
import { ExactIndex } from './exact';
import { HnswIndex } from './hnsw';
import { type SearchHit, readHeader } from './format';

export { ExactIndex, normalizeRows } from './exact';
export { HnswIndex, type HnswOptions } from './hnsw';
export { METRICS, type Metric, type SearchHit, type IndexKind } from './format';

export interface VectorIndex {
  readonly metric: 'cosine' | 'dot';
  readonly dim: number;
  readonly count: number;
  search(query: ArrayLike<number>, k: number): SearchHit[];
  toBytes(): Uint8Array;
}

export function readVectorIndex(bytes: Uint8Array): VectorIndex {
  return readHeader(bytes).kind === 'exact' ? ExactIndex.fromBytes(bytes) : HnswIndex.fromBytes(bytes);
}
