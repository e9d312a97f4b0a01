/**
 * Exact top-k search over a row-major Float32Array matrix (cosine or dot product).
 *
 *   const index = ExactIndex.build(vectors, dim, 'cosine');      // copies; cosine rows are normalized once here
 *   index.search(query, k)            → SearchHit[] (best first)
 *   index.searchBatch(queries, k)     → SearchHit[][]             (queries: q × dim, row-major)
 *   index.toBytes() / ExactIndex.fromBytes(bytes)
 *
 * The scan walks the matrix in chunks of rows that stay in cache while a block of queries reads them, and keeps
 * each query's best k in a fixed-size min-heap reused across calls: the only allocations per call are the
 * normalized query copy and the returned hits.
 */
import { type Metric, type SearchHit, HEADER_BYTES, checkMetric, readHeader, rowsOf, writeHeader } from './format';
import { l2Normalize } from '../postprocess';

/** Rows scanned per chunk: 1024 rows × 64 dims × 4 bytes = 256 KiB, about an L2 cache. */
const CHUNK_BYTES = 256 * 1024;
const QUERY_BLOCK = 16;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class ExactIndex {
  readonly count: number;
  private heapScores = new Float32Array(0);
  private heapIds = new Int32Array(0);

  private constructor(
    readonly metric: Metric,
    readonly dim: number,
    /** count × dim; unit rows for cosine. */
    readonly vectors: Float32Array,
  ) {
    this.count = vectors.length / dim;
  }

  static build(vectors: Float32Array, dim: number, metric: Metric = 'cosine'): ExactIndex {
    checkMetric(metric);
    rowsOf(vectors, dim);
    const copy = vectors.slice();
    if (metric === 'cosine') normalizeRows(copy, dim);
    return new ExactIndex(metric, dim, copy);
  }

  search(query: ArrayLike<number>, k: number): SearchHit[] {
    if (query.length !== this.dim) throw new RangeError(`query has ${query.length} values; the index holds ${this.dim}-dim vectors.`);
    return this.searchBatch(Float32Array.from(query), k)[0];
  }

  searchBatch(queries: Float32Array, k: number): SearchHit[][] {
    const dim = this.dim;
    const q = rowsOf(queries, dim);
    if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be an integer ≥ 1, got ${k}.`);
    const kk = Math.min(k, this.count);
    const qs = this.metric === 'cosine' ? normalizeRows(queries.slice(), dim) : queries;
    const results: SearchHit[][] = [];
    const chunkRows = Math.max(1, Math.floor(CHUNK_BYTES / (dim * 4)));
    for (let q0 = 0; q0 < q; q0 += QUERY_BLOCK) {
      const qn = Math.min(QUERY_BLOCK, q - q0);
      this.ensureHeaps(qn * kk);
      const sizes = new Int32Array(qn);
      for (let r0 = 0; r0 < this.count; r0 += chunkRows) {
        const r1 = Math.min(this.count, r0 + chunkRows);
        for (let j = 0; j < qn; j++) {
          const qo = (q0 + j) * dim;
          const base = j * kk;
          for (let r = r0; r < r1; r++) {
            const ro = r * dim;
            let s = 0;
            for (let d = 0; d < dim; d++) s += qs[qo + d] * this.vectors[ro + d];
            sizes[j] = this.offer(base, sizes[j], kk, s, r);
          }
        }
      }
      for (let j = 0; j < qn; j++) results.push(this.drain(j * kk, sizes[j]));
    }
    return results;
  }

  toBytes(): Uint8Array {
    const buf = writeHeader({ kind: 'exact', metric: this.metric, dim: this.dim, count: this.count, param: 0 }, this.vectors.byteLength);
    if (LITTLE_ENDIAN) buf.set(new Uint8Array(this.vectors.buffer, this.vectors.byteOffset, this.vectors.byteLength), HEADER_BYTES);
    else for (let i = 0; i < this.vectors.length; i++) buf.writeFloatLE(this.vectors[i], HEADER_BYTES + i * 4);
    return buf;
  }

  static fromBytes(bytes: Uint8Array): ExactIndex {
    const h = readHeader(bytes);
    if (h.kind !== 'exact') throw new Error(`this is a ${h.kind} index, not an exact one; use readVectorIndex`);
    const n = h.count * h.dim;
    if (bytes.byteLength !== HEADER_BYTES + n * 4) throw new Error(`exact index is truncated: ${bytes.byteLength} bytes, expected ${HEADER_BYTES + n * 4}`);
    const vectors = new Float32Array(n);
    if (LITTLE_ENDIAN) new Uint8Array(vectors.buffer).set(bytes.subarray(HEADER_BYTES, HEADER_BYTES + n * 4));
    else {
      const view = new DataView(bytes.buffer, bytes.byteOffset + HEADER_BYTES, n * 4);
      for (let i = 0; i < n; i++) vectors[i] = view.getFloat32(i * 4, true);
    }
    return new ExactIndex(h.metric, h.dim, vectors);
  }

  private ensureHeaps(size: number): void {
    if (this.heapScores.length < size) {
      this.heapScores = new Float32Array(size);
      this.heapIds = new Int32Array(size);
    }
  }

  /** Min-heap at [base, base+size): the root is the worst of the best k so far. Returns the new size. */
  private offer(base: number, size: number, k: number, score: number, id: number): number {
    const s = this.heapScores;
    const ids = this.heapIds;
    if (size < k) {
      let i = size;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (s[base + parent] <= score) break;
        s[base + i] = s[base + parent];
        ids[base + i] = ids[base + parent];
        i = parent;
      }
      s[base + i] = score;
      ids[base + i] = id;
      return size + 1;
    }
    if (score <= s[base]) return size;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      const c = r < size && s[base + r] < s[base + l] ? r : l;
      if (s[base + c] >= score) break;
      s[base + i] = s[base + c];
      ids[base + i] = ids[base + c];
      i = c;
    }
    s[base + i] = score;
    ids[base + i] = id;
    return size;
  }

  private drain(base: number, size: number): SearchHit[] {
    const hits: SearchHit[] = [];
    for (let i = 0; i < size; i++) hits.push({ index: this.heapIds[base + i], score: this.heapScores[base + i] });
    return hits.sort((a, b) => b.score - a.score || a.index - b.index);
  }
}

/** L2-normalizes each row in place (the same normalization embeddings get when served). */
export const normalizeRows = l2Normalize;
