// Building an embedding space in pieces: embedding a run of a dataset version's shards (in the gateway for an inline
// build, or in one copy of a sharded build job), and turning the embedded pieces, in shard order, into the stored
// index. An inline build is one piece of every shard; a job of N copies gives N pieces that concatenate to the same
// vectors in the same row order.
import { ExactIndex, HnswIndex, type InferenceInput, type InferenceRuntime, type ModelArtifact, type VectorIndex } from '../../inference';
import { readShards, type IngestStore, type Manifest, type Row } from '../../ingest';
import type { ObjectStore } from '../../storage';
import { storedInputSpec, type ArtifactVersion } from './artifacts';
import { versionInputs } from './serving';

/** Above this many rows an embedding space also gets an HNSW index; below, exact search is fast enough. */
export const HNSW_MIN_ROWS = 20_000;
const SPACE_BATCH = 256;

export interface SpaceMeta {
  label: string | null;
  split: string;
}

/** One embedded run of shards: L2-normalized vectors [n, dim] row-major, their row indices and labels/splits. */
export interface SpacePiece {
  vectors: Float32Array;
  rows: number[];
  meta: SpaceMeta[];
}

/** The shards copy `index` of `count` embeds: a contiguous run, so pieces concatenate in row order. */
export function shardsForCopy(manifest: Manifest, index: number, count: number): Manifest['shards'] {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`copy must satisfy 0 ≤ index < count (integers), got index ${index} of ${count}.`);
  }
  const n = manifest.shards.length;
  return manifest.shards.slice(Math.floor((index * n) / count), Math.floor(((index + 1) * n) / count));
}

/** Embeds every row of `shards` (a subset of the manifest's, in order) under the model version. */
export async function embedShards(opts: {
  runtime: InferenceRuntime;
  artifact: ModelArtifact;
  version: ArtifactVersion;
  store: IngestStore;
  manifest: Manifest;
  shards: Manifest['shards'];
}): Promise<SpacePiece> {
  const { runtime, artifact, version } = opts;
  const dim = version.embeddingDim;
  const total = opts.shards.reduce((s, x) => s + x.rows, 0);
  const vectors = new Float32Array(total * dim);
  const rows: number[] = [];
  const meta: SpaceMeta[] = [];
  let batch: Row[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const res = await runtime.embed(artifact, batch.map((r) => rowInput(version, r)), { normalize: true, encoding: 'FLOAT', truncate: 'END' });
    for (const [i, vec] of res.vectors.entries()) {
      vectors.set((vec as { values: number[] }).values, (rows.length + i) * dim);
    }
    for (const r of batch) {
      rows.push(r.index);
      meta.push({ label: r.label, split: r.split });
    }
    batch = [];
  };
  for await (const row of readShards(opts.store, { ...opts.manifest, shards: opts.shards })) {
    batch.push(row);
    if (batch.length >= SPACE_BATCH) await flush();
  }
  await flush();
  return { vectors: vectors.subarray(0, rows.length * dim), rows, meta };
}

/** Concatenates the pieces (in order), builds the index and writes index.bin + rows.json. Returns the row count. */
export async function writeSpaceIndex(store: ObjectStore, keys: { indexKey: string; vectorsKey: string }, dim: number, pieces: SpacePiece[]): Promise<{ rows: number; kind: 'exact' | 'hnsw' }> {
  const n = pieces.reduce((s, p) => s + p.rows.length, 0);
  const vectors = new Float32Array(n * dim);
  let at = 0;
  for (const p of pieces) {
    if (p.vectors.length !== p.rows.length * dim) throw new Error(`an embedded piece holds ${p.vectors.length} values for ${p.rows.length} rows of dimension ${dim}`);
    vectors.set(p.vectors, at * dim);
    at += p.rows.length;
  }
  const kind = n >= HNSW_MIN_ROWS ? 'hnsw' : 'exact';
  const index: VectorIndex = kind === 'hnsw' ? HnswIndex.build(vectors, dim, 'cosine') : ExactIndex.build(vectors, dim, 'cosine');
  await store.put(keys.indexKey, Buffer.from(index.toBytes()));
  await store.put(keys.vectorsKey, JSON.stringify({ rows: pieces.flatMap((p) => p.rows), meta: pieces.flatMap((p) => p.meta) }), { contentType: 'application/json' });
  return { rows: n, kind };
}

/** A stored dataset row as a runtime input (sequence rows standardized like API sequences). */
function rowInput(v: ArtifactVersion, r: Row): InferenceInput {
  switch (r.modality) {
    case 'TEXT':
      return { text: r.text };
    case 'IMAGE':
      return { pixels: r.pixels };
    case 'SEQUENCE': {
      const spec = storedInputSpec(v).spec;
      const features = spec.input.kind === 'sequence' ? spec.input.features : 1;
      const steps: number[][] = [];
      for (let s = 0; s < r.length; s++) steps.push(Array.from(r.values.subarray(s * features, (s + 1) * features)));
      return versionInputs(v, [{ sequence: steps }])[0]!;
    }
  }
}
