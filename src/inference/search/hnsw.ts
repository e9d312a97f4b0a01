/**
 * Approximate nearest-neighbour search with HNSW (hnswlib-node), for spaces too large to scan per query.
 *
 *   const index = HnswIndex.build(vectors, dim, 'cosine', { m: 16, efConstruction: 200, efSearch: 128, seed: 100 });
 *   index.search(query, k) → SearchHit[] (best first; score = cosine similarity or dot product)
 *   index.efSearch = 256;                    // recall/speed trade-off at query time (raised to k when smaller)
 *   index.toBytes() / HnswIndex.fromBytes(bytes);  index.save(file) / HnswIndex.load(file)
 *
 * hnswlib reports distances: cosine space 1 - cos, inner-product space 1 - dot; we turn them back into scores so
 * both index kinds rank and report the same way. hnswlib only reads and writes files, so bytes go through a
 * private temp directory.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HierarchicalNSW } from 'hnswlib-node';
import { type Metric, type SearchHit, HEADER_BYTES, checkMetric, readHeader, rowsOf, writeHeader } from './format';

export interface HnswOptions {
  /** Graph degree (hnswlib M). Default 16. */
  m?: number;
  /** Candidate list size while building. Default 200. */
  efConstruction?: number;
  /** Candidate list size while searching. Default 128. */
  efSearch?: number;
  /** Level-assignment seed, so builds are reproducible. Default 100. */
  seed?: number;
}

function space(metric: Metric): 'cosine' | 'ip' {
  return metric === 'cosine' ? 'cosine' : 'ip';
}

function withTempFile<T>(fn: (file: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-hnsw-'));
  try {
    return fn(path.join(dir, 'index.bin'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export class HnswIndex {
  private ef: number;

  private constructor(
    readonly metric: Metric,
    readonly dim: number,
    readonly count: number,
    private readonly inner: HierarchicalNSW,
    efSearch: number,
  ) {
    this.ef = efSearch;
  }

  static build(vectors: Float32Array, dim: number, metric: Metric = 'cosine', opts: HnswOptions = {}): HnswIndex {
    checkMetric(metric);
    const count = rowsOf(vectors, dim);
    const m = opts.m ?? 16;
    const efConstruction = opts.efConstruction ?? 200;
    const efSearch = opts.efSearch ?? 128;
    for (const [key, value, hint] of [
      ['m', m, '16 is typical; 2..100'],
      ['efConstruction', efConstruction, 'e.g. 200'],
      ['efSearch', efSearch, 'e.g. 128'],
    ] as const) {
      if (!(Number.isInteger(value) && value >= 2)) throw new RangeError(`${key} must be an integer ≥ 2, got ${value}; ${hint}.`);
    }
    if (count === 0) throw new RangeError('cannot build an HNSW index over 0 vectors; use an exact index or add vectors.');
    const inner = new HierarchicalNSW(space(metric), dim);
    inner.initIndex({ maxElements: count, m, efConstruction, randomSeed: opts.seed ?? 100 });
    // hnswlib-node accepts only plain arrays; one reused array avoids an allocation per point.
    const point = new Array<number>(dim);
    for (let r = 0; r < count; r++) {
      for (let d = 0; d < dim; d++) point[d] = vectors[r * dim + d];
      inner.addPoint(point, r);
    }
    return new HnswIndex(metric, dim, count, inner, efSearch);
  }

  get efSearch(): number {
    return this.ef;
  }

  set efSearch(value: number) {
    if (!(Number.isInteger(value) && value >= 1)) throw new RangeError(`efSearch must be an integer ≥ 1, got ${value}.`);
    this.ef = value;
  }

  search(query: ArrayLike<number>, k: number): SearchHit[] {
    if (query.length !== this.dim) throw new RangeError(`query has ${query.length} values; the index holds ${this.dim}-dim vectors.`);
    if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be an integer ≥ 1, got ${k}.`);
    const kk = Math.min(k, this.count);
    this.inner.setEf(Math.max(this.ef, kk));
    const { neighbors, distances } = this.inner.searchKnn(Array.from(query), kk);
    return neighbors.map((index, i) => ({ index, score: 1 - distances[i] })).sort((a, b) => b.score - a.score || a.index - b.index);
  }

  /** The stored vector of point `index` (unit length in a cosine index); embedding maps project these. */
  vector(index: number): number[] {
    return this.inner.getPoint(index);
  }

  toBytes(): Uint8Array {
    return withTempFile((file) => {
      this.inner.writeIndexSync(file);
      const payload = fs.readFileSync(file);
      const buf = writeHeader({ kind: 'hnsw', metric: this.metric, dim: this.dim, count: this.count, param: this.ef }, payload.length);
      buf.set(payload, HEADER_BYTES);
      return buf;
    });
  }

  static fromBytes(bytes: Uint8Array): HnswIndex {
    const h = readHeader(bytes);
    if (h.kind !== 'hnsw') throw new Error(`this is an ${h.kind} index, not an hnsw one; use readVectorIndex`);
    return withTempFile((file) => {
      fs.writeFileSync(file, bytes.subarray(HEADER_BYTES));
      const inner = new HierarchicalNSW(space(h.metric), h.dim);
      inner.readIndexSync(file);
      if (inner.getCurrentCount() !== h.count) throw new Error(`hnsw index holds ${inner.getCurrentCount()} vectors; its header says ${h.count}`);
      return new HnswIndex(h.metric, h.dim, h.count, inner, h.param);
    });
  }

  save(file: string): void {
    fs.writeFileSync(file, this.toBytes());
  }

  static load(file: string): HnswIndex {
    return HnswIndex.fromBytes(fs.readFileSync(file));
  }
}
