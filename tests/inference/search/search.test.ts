// Vector search: the exact index against a plain sort-everything reference, HNSW recall@10 against the exact
// index on 20k clustered vectors, and byte round-trips of both.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExactIndex, HnswIndex, readVectorIndex } from '../../../src/inference/search';
import { rng } from '../artifacts';

/** Gaussian clusters: `clusters` centres ~ N(0, 1), points = centre + spread · N(0, 1). */
function clustered(n: number, dim: number, clusters: number, spread: number, seed: number): Float32Array {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const centres = Float32Array.from({ length: clusters * dim }, gauss);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * clusters);
    for (let d = 0; d < dim; d++) out[i * dim + d] = centres[c * dim + d] + spread * gauss();
  }
  return out;
}

function reference(vectors: Float32Array, dim: number, q: Float32Array, k: number, cosine: boolean): { index: number; score: number }[] {
  const n = vectors.length / dim;
  const len = (v: Float32Array, o: number) => Math.sqrt(Array.from(v.subarray(o, o + dim)).reduce((s, x) => s + x * x, 0));
  const qn = cosine ? len(q, 0) : 1;
  const all = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += vectors[i * dim + d] * q[d];
    return { index: i, score: cosine ? s / (len(vectors, i * dim) * qn) : s };
  });
  return all.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, k);
}

test('exact search matches a full sort for cosine and dot, single and batched queries', () => {
  const dim = 12;
  const vectors = clustered(3000, dim, 10, 0.7, 1);
  const queries = clustered(20, dim, 10, 0.7, 2);
  for (const metric of ['cosine', 'dot'] as const) {
    const index = ExactIndex.build(vectors, dim, metric);
    const batched = index.searchBatch(queries, 7);
    expect(batched).toHaveLength(20);
    for (let j = 0; j < 20; j++) {
      const q = queries.subarray(j * dim, (j + 1) * dim);
      const want = reference(vectors, dim, q, 7, metric === 'cosine');
      const single = index.search(q, 7);
      expect(single.map((h) => h.index)).toEqual(want.map((h) => h.index));
      expect(batched[j].map((h) => h.index)).toEqual(want.map((h) => h.index));
      single.forEach((h, i) => expect(h.score).toBeCloseTo(want[i].score, 4));
    }
  }
  // k larger than the index returns everything, best first.
  const small = ExactIndex.build(vectors.subarray(0, 3 * dim), dim, 'dot');
  const all = small.search(queries.subarray(0, dim), 10);
  expect(all).toHaveLength(3);
  expect(all[0].score).toBeGreaterThanOrEqual(all[1].score);
  expect(() => small.search([1, 2], 1)).toThrow(/query has 2 values; the index holds 12-dim vectors/);
  expect(() => ExactIndex.build(vectors, dim, 'l2' as 'dot')).toThrow(/Unsupported metric: "l2"\. Should be one of: cosine, dot\./);
});

test('exact index survives a byte round-trip', () => {
  const dim = 8;
  const vectors = clustered(500, dim, 5, 0.5, 3);
  const index = ExactIndex.build(vectors, dim, 'cosine');
  const bytes = index.toBytes();
  const back = readVectorIndex(bytes);
  expect(back).toBeInstanceOf(ExactIndex);
  expect([back.metric, back.dim, back.count]).toEqual(['cosine', 8, 500]);
  const q = vectors.subarray(0, dim);
  expect(back.search(q, 5)).toEqual(index.search(q, 5));
  expect(() => readVectorIndex(new Uint8Array(40))).toThrow(/bad magic/);
  expect(() => ExactIndex.fromBytes(bytes.subarray(0, bytes.length - 4))).toThrow(/truncated/);
});

test('HNSW recall@10 vs exact ≥ 0.95 on 20k clustered gaussian vectors (dim 64), and a file/bytes round-trip', () => {
  const dim = 64;
  const n = 20_000;
  // Queries are held-out points of the same clusters.
  const all = clustered(n + 200, dim, 50, 1.0, 11);
  const vectors = all.subarray(0, n * dim);
  const queries = all.slice(n * dim);
  const exact = ExactIndex.build(vectors, dim, 'cosine');
  const hnsw = HnswIndex.build(vectors, dim, 'cosine', { m: 16, efConstruction: 200, efSearch: 128, seed: 7 });
  const truth = exact.searchBatch(queries, 10);
  let found = 0;
  const approx: number[][] = [];
  for (let j = 0; j < 200; j++) {
    const hits = hnsw.search(queries.subarray(j * dim, (j + 1) * dim), 10);
    approx.push(hits.map((h) => h.index));
    const want = new Map(truth[j].map((h) => [h.index, h.score]));
    for (const h of hits) {
      if (!want.has(h.index)) continue;
      found++;
      // Scores are cosine similarities, the same numbers the exact index reports.
      expect(h.score).toBeCloseTo(want.get(h.index) as number, 4);
    }
  }
  const recall = found / (200 * 10);
  console.log(`HNSW recall@10 = ${recall.toFixed(4)} (n=${n}, dim=${dim}, 50 clusters, spread 1.0, M=16, efConstruction=200, efSearch=128)`);
  expect(recall).toBeGreaterThanOrEqual(0.95);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hnsw-test-'));
  try {
    const file = path.join(dir, 'index.bin');
    hnsw.save(file);
    const loaded = HnswIndex.load(file);
    const fromBytes = readVectorIndex(hnsw.toBytes());
    expect(fromBytes).toBeInstanceOf(HnswIndex);
    expect([loaded.metric, loaded.dim, loaded.count, loaded.efSearch]).toEqual(['cosine', 64, n, 128]);
    for (let j = 0; j < 20; j++) {
      const q = queries.subarray(j * dim, (j + 1) * dim);
      expect(loaded.search(q, 10).map((h) => h.index)).toEqual(approx[j]);
      expect(fromBytes.search(q, 10).map((h) => h.index)).toEqual(approx[j]);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('HNSW with the dot metric reports dot products', () => {
  const dim = 6;
  const vectors = clustered(400, dim, 4, 0.5, 21);
  const hnsw = HnswIndex.build(vectors, dim, 'dot', { efSearch: 64 });
  const exact = ExactIndex.build(vectors, dim, 'dot');
  const q = vectors.subarray(dim, 2 * dim);
  const [a] = hnsw.search(q, 1);
  const [b] = exact.search(q, 1);
  expect(a.index).toBe(b.index);
  expect(a.score).toBeCloseTo(b.score, 4);
  expect(() => HnswIndex.build(vectors, dim, 'cosine', { m: 1 })).toThrow(/m must be an integer ≥ 2, got 1/);
});
