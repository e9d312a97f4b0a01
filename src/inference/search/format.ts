// The byte layout shared by both index kinds, so the lead can store either in object storage as one blob:
//   0  'PTXS'  magic (4 bytes)
//   4  u32     format version (1)
//   8  u32     kind: 0 exact, 1 hnsw
//  12  u32     metric: 0 cosine, 1 dot
//  16  u32     dim
//  20  u32     count (vectors)
//  24  u32     kind-specific parameter (hnsw: efSearch; exact: 0)
//  28  u32     reserved (0)
//  32  payload (exact: count × dim float32; hnsw: hnswlib's own index file)
// All integers and floats little-endian.

export const METRICS = ['cosine', 'dot'] as const;
export type Metric = (typeof METRICS)[number];
export type IndexKind = 'exact' | 'hnsw';

export interface SearchHit {
  /** Row of the vector in the matrix the index was built from (the caller maps it to its own ids). */
  index: number;
  /** Cosine similarity or dot product; larger is closer. */
  score: number;
}

export interface IndexHeader {
  kind: IndexKind;
  metric: Metric;
  dim: number;
  count: number;
  param: number;
}

const MAGIC = 'PTXS';
const VERSION = 1;
export const HEADER_BYTES = 32;
const KINDS: IndexKind[] = ['exact', 'hnsw'];

export function checkMetric(metric: string): Metric {
  if (!METRICS.includes(metric as Metric)) throw new RangeError(`Unsupported metric: "${metric}". Should be one of: ${METRICS.join(', ')}.`);
  return metric as Metric;
}

export function writeHeader(h: IndexHeader, payloadBytes: number): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES + payloadBytes);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32LE(VERSION, 4);
  buf.writeUInt32LE(KINDS.indexOf(h.kind), 8);
  buf.writeUInt32LE(METRICS.indexOf(h.metric), 12);
  buf.writeUInt32LE(h.dim, 16);
  buf.writeUInt32LE(h.count, 20);
  buf.writeUInt32LE(h.param, 24);
  return buf;
}

export function readHeader(bytes: Uint8Array): IndexHeader {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER_BYTES || buf.toString('latin1', 0, 4) !== MAGIC) throw new Error('not a pretext vector index (bad magic)');
  const version = buf.readUInt32LE(4);
  if (version !== VERSION) throw new Error(`vector index format version ${version} is not supported (this build reads ${VERSION})`);
  const kind = KINDS[buf.readUInt32LE(8)];
  const metric = METRICS[buf.readUInt32LE(12)];
  if (!kind || !metric) throw new Error('corrupt vector index header (unknown kind or metric)');
  return { kind, metric, dim: buf.readUInt32LE(16), count: buf.readUInt32LE(20), param: buf.readUInt32LE(24) };
}

/** Checks a row-major matrix argument and returns its row count. */
export function rowsOf(vectors: Float32Array, dim: number): number {
  if (!(Number.isInteger(dim) && dim >= 1)) throw new RangeError(`dim must be an integer ≥ 1, got ${dim}.`);
  if (vectors.length % dim !== 0) throw new RangeError(`${vectors.length} values are not a whole number of ${dim}-dim vectors.`);
  return vectors.length / dim;
}
