// 2-D projections of embedding spaces for the console's embedding map. A space is immutable once READY, so a
// projection is computed once from its stored vectors (PCA with ml-pca, or UMAP with umap-js) and kept in a small
// in-memory cache. Reads are tenant-scoped through the space lookup like every other embedding-space read.
import { PCA } from 'ml-pca';
import seedrandom from 'seedrandom';
import { UMAP } from 'umap-js';
import type { Db, EmbeddingSpace } from '../../db/client';
import { isUuid } from '../../db/errors';
import { badInput, conflict, notFound } from '../../errors';
import { ExactIndex, HnswIndex, readVectorIndex, type VectorIndex } from '../../inference';
import type { ObjectStore } from '../../storage';
import { requireTenant, type Principal } from '../auth/principal';

export type ProjectionMethod = 'PCA' | 'UMAP';

export const MAX_PROJECTION_POINTS = 50_000;
/** umap-js is O(n log n) per epoch in plain JS; beyond this it takes minutes on a small machine. */
export const MAX_UMAP_POINTS = 5_000;

export interface Projection {
  spaceId: string;
  method: ProjectionMethod;
  count: number;
  total: number;
  /** base64 of little-endian float32 (x, y) pairs. */
  coords: string;
  rows: number[];
  labels: string[];
  labelIds: number[];
  splits: string[];
}

/** Evenly spaced positions 0..total-1 (all of them when n ≥ total), so a sample covers the whole space. */
export function samplePositions(total: number, n: number): number[] {
  if (n >= total) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: n }, (_, i) => Math.floor((i * total) / n));
}

function vectorsOf(index: VectorIndex, positions: number[]): number[][] {
  if (index instanceof ExactIndex) return positions.map((i) => Array.from(index.vectors.subarray(i * index.dim, (i + 1) * index.dim)));
  if (index instanceof HnswIndex) return positions.map((i) => index.vector(i));
  throw new Error('unknown vector index kind');
}

/** Projects n×d vectors to n×2 (float32, interleaved). */
export function project(vectors: number[][], method: ProjectionMethod, seed = 7): Float32Array {
  const n = vectors.length;
  const out = new Float32Array(n * 2);
  if (n === 0) return out;
  if (method === 'PCA') {
    if (n === 1) return out;
    const pca = new PCA(vectors, { center: true, scale: false });
    const comps = Math.min(2, pca.getEigenvalues().length);
    const m = pca.predict(vectors, { nComponents: comps });
    for (let i = 0; i < n; i++) for (let c = 0; c < comps; c++) out[i * 2 + c] = m.get(i, c);
    return out;
  }
  // UMAP needs more points than neighbours; tiny spaces fall back to their row order on a line.
  const nNeighbors = Math.min(15, n - 1);
  if (nNeighbors < 2) {
    for (let i = 0; i < n; i++) out[i * 2] = i;
    return out;
  }
  const umap = new UMAP({ nComponents: 2, nNeighbors, minDist: 0.1, random: seedrandom(String(seed)) });
  const xy = umap.fit(vectors);
  for (let i = 0; i < n; i++) {
    out[i * 2] = xy[i]![0]!;
    out[i * 2 + 1] = xy[i]![1]!;
  }
  return out;
}

export class ProjectionService {
  private readonly cache = new Map<string, Promise<Projection>>();

  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
  ) {}

  listSpaces(p: Principal, filter: { modelVersionId?: string | null; datasetVersionId?: string | null }): Promise<EmbeddingSpace[]> {
    const t = requireTenant(p, 'READER');
    // A malformed id matches nothing, like another tenant's id.
    if (Object.values(filter).some((id) => id != null && !isUuid(id))) return Promise.resolve([]);
    return this.db.embeddingSpace.findMany({
      where: {
        tenantId: t.tenantId,
        ...(filter.modelVersionId ? { modelVersionId: filter.modelVersionId } : {}),
        ...(filter.datasetVersionId ? { datasetVersionId: filter.datasetVersionId } : {}),
      },
      orderBy: { createdAt: 'desc' },
      take: 200,
    });
  }

  async projection(p: Principal, spaceId: string, method: ProjectionMethod, limit: number): Promise<Projection> {
    const t = requireTenant(p, 'READER');
    if (method !== 'PCA' && method !== 'UMAP') throw badInput(`Unsupported projection method: "${String(method)}". Should be one of: PCA, UMAP.`);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PROJECTION_POINTS) throw badInput(`limit must be between 1 and ${MAX_PROJECTION_POINTS}`);
    const space = isUuid(spaceId) ? await this.db.embeddingSpace.findFirst({ where: { id: spaceId, tenantId: t.tenantId } }) : null;
    if (!space) throw notFound('Embedding space', spaceId);
    if (space.status !== 'READY' || !space.indexKey || !space.vectorsKey) throw conflict(`The embedding space is ${space.status}${space.error ? `: ${space.error}` : ''}`);
    const n = method === 'UMAP' ? Math.min(limit, MAX_UMAP_POINTS) : limit;
    // The index key changes when a failed space is rebuilt, so it identifies the vectors the projection came from.
    const key = `${space.id}|${space.indexKey}|${method}|${n}`;
    let hit = this.cache.get(key);
    if (!hit) {
      hit = this.compute(space, method, n);
      hit.catch(() => this.cache.delete(key));
      if (this.cache.size >= 8) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, hit);
    }
    return hit;
  }

  private async readObject(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.store.get(key)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  private async compute(space: EmbeddingSpace, method: ProjectionMethod, n: number): Promise<Projection> {
    const index = readVectorIndex(new Uint8Array(await this.readObject(space.indexKey!)));
    const stored = JSON.parse((await this.readObject(space.vectorsKey!)).toString('utf8')) as { rows: number[]; meta: Array<{ label: string | null; split: string }> };
    const positions = samplePositions(index.count, n);
    const xy = project(vectorsOf(index, positions), method);
    const labels: string[] = [];
    const labelIndex = new Map<string, number>();
    const labelIds = positions.map((i) => {
      const label = stored.meta[i]?.label ?? null;
      if (label === null) return -1;
      let id = labelIndex.get(label);
      if (id === undefined) {
        id = labels.length;
        labels.push(label);
        labelIndex.set(label, id);
      }
      return id;
    });
    return {
      spaceId: space.id,
      method,
      count: positions.length,
      total: index.count,
      coords: Buffer.from(xy.buffer, xy.byteOffset, xy.byteLength).toString('base64'),
      rows: positions.map((i) => stored.rows[i]!),
      labels,
      labelIds,
      splits: positions.map((i) => stored.meta[i]?.split ?? 'train'),
    };
  }
}
