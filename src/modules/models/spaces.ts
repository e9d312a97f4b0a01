// Embedding spaces: every row of a READY dataset version embedded under one model version, built in the
// background, stored as a vector index (exact, or HNSW above HNSW_MIN_ROWS rows, space-build.ts), and searched by `similar`.
import type { Logger } from 'pino';
import type { Db, EmbeddingSpace } from '../../db/client';
import { isUniqueViolation, isUuid } from '../../db/errors';
import { badInput, conflict, notFound } from '../../errors';
import { readVectorIndex, type InferenceRuntime, type VectorIndex } from '../../inference';
import { ingestStoreFrom, readManifest } from '../../ingest';
import { tenantKey, type ObjectStore } from '../../storage';
import { requireTenant, type Principal } from '../auth/principal';
import type { ModelArtifacts } from './artifacts';
import type { ModelRegistry } from './registry';
import type { EmbedRequest, ModelServing } from './serving';
import { embedShards, writeSpaceIndex } from './space-build';


interface LoadedIndex {
  index: VectorIndex;
  rows: Int32Array;
  labels: Array<string | null>;
  splits: string[];
}

export class EmbeddingSpaces {
  private readonly indexes = new Map<string, Promise<LoadedIndex>>();
  private building: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
    private readonly registry: ModelRegistry,
    private readonly artifacts: ModelArtifacts,
    private readonly serving: ModelServing,
    private readonly runtime: InferenceRuntime,
    private readonly log: Logger,
    /**
     * false (serverless, DATASET_PROCESSING=worker): createSpace leaves the space BUILDING and the worker tick builds
     * it with drain(), since a request Lambda freezes once it has answered.
     */
    private readonly inline = true,
    /** drain() builds only these tenants' spaces (tests sharing a database). */
    private readonly tenantScope?: () => readonly string[] | null,
  ) {}

  /** One worker tick's share (serverless): builds every space left BUILDING, then resolves with how many. */
  async drain(): Promise<number> {
    const tenants = this.tenantScope?.();
    const pending = await this.db.embeddingSpace.findMany({
      where: { status: 'BUILDING', ...(tenants ? { tenantId: { in: [...tenants] } } : {}) },
      select: { id: true },
      orderBy: { createdAt: 'asc' },
    });
    for (const s of pending) await this.buildSpace(s.id).catch((err: unknown) => this.log.error({ err, spaceId: s.id }, 'embedding space build crashed'));
    return pending.length;
  }

  spaceKey(tenantId: string, spaceId: string, file: string): string {
    return tenantKey(tenantId, 'spaces', spaceId, file);
  }

  spaceKeys(tenantId: string, spaceId: string): { indexKey: string; vectorsKey: string } {
    return { indexKey: this.spaceKey(tenantId, spaceId, 'index.bin'), vectorsKey: this.spaceKey(tenantId, spaceId, 'rows.json') };
  }

  /** Starts (or returns) the embedding space of a dataset version under a model version; built in the background. */
  async createSpace(p: Principal, input: { model: string; datasetVersionId: string }): Promise<EmbeddingSpace> {
    const t = requireTenant(p, 'MEMBER');
    const v = await this.registry.resolve(t, input.model);
    const dv = isUuid(input.datasetVersionId)
      ? await this.db.datasetVersion.findFirst({ where: { id: input.datasetVersionId, tenantId: t.tenantId, dataset: { deletedAt: null } } })
      : null;
    if (!dv) throw notFound('Dataset version', input.datasetVersionId);
    if (dv.status !== 'READY') throw conflict(`Dataset version ${dv.version} is ${dv.status}; only READY versions can be embedded`);
    const existing = await this.db.embeddingSpace.findFirst({ where: { modelVersionId: v.id, datasetVersionId: dv.id } });
    if (existing && existing.status !== 'FAILED') return existing;
    let space: EmbeddingSpace;
    try {
      space = existing
        ? await this.db.embeddingSpace.update({ where: { id: existing.id }, data: { status: 'BUILDING', error: null, rows: 0, buildJobId: null, buildAttempts: 0 } })
        : await this.db.embeddingSpace.create({ data: { tenantId: t.tenantId, modelVersionId: v.id, datasetVersionId: dv.id, status: 'BUILDING', dim: v.embeddingDim } });
    } catch (err) {
      if (isUniqueViolation(err)) return this.db.embeddingSpace.findFirstOrThrow({ where: { modelVersionId: v.id, datasetVersionId: dv.id } });
      throw err;
    }
    if (!this.inline) return space;
    this.building = this.building.then(() => this.buildSpace(space.id)).catch((err: unknown) => this.log.error({ err }, 'embedding space build crashed'));
    return space;
  }

  /** Resolves when every space build started so far has finished (tests, shutdown). */
  idle(): Promise<void> {
    return this.building;
  }

  /** Waits for the builds in progress (shutdown). */
  async close(): Promise<void> {
    await this.building;
  }

  private async buildSpace(spaceId: string): Promise<void> {
    const space = await this.db.embeddingSpace.findUniqueOrThrow({ where: { id: spaceId }, include: { modelVersion: true } });
    const dv = await this.db.datasetVersion.findUniqueOrThrow({ where: { id: space.datasetVersionId } });
    try {
      const store = ingestStoreFrom(this.store);
      const manifest = await readManifest(store, dv.manifestKey!);
      const artifact = await this.artifacts.get(space.modelVersion);
      const piece = await embedShards({ runtime: this.runtime, artifact, version: space.modelVersion, store, manifest, shards: manifest.shards });
      const keys = this.spaceKeys(space.tenantId, space.id);
      const { rows: n, kind } = await writeSpaceIndex(this.store, keys, space.modelVersion.embeddingDim, [piece]);
      const { indexKey, vectorsKey } = keys;
      await this.db.embeddingSpace.update({ where: { id: space.id }, data: { status: 'READY', rows: n, vectorsKey, indexKey } });
      this.log.info({ spaceId, rows: n, kind }, 'embedding space ready');
    } catch (err) {
      this.log.error({ err, spaceId }, 'embedding space failed');
      await this.db.embeddingSpace.update({ where: { id: space.id }, data: { status: 'FAILED', error: (err as Error).message.slice(0, 2000) } });
    }
  }

  private loadIndex(space: EmbeddingSpace): Promise<LoadedIndex> {
    let entry = this.indexes.get(space.id);
    if (!entry) {
      entry = (async () => {
        const index = readVectorIndex(new Uint8Array(await this.artifacts.readObject(space.indexKey!)));
        const rows = JSON.parse((await this.artifacts.readObject(space.vectorsKey!)).toString('utf8')) as { rows: number[]; meta: Array<{ label: string | null; split: string }> };
        return { index, rows: Int32Array.from(rows.rows), labels: rows.meta.map((m) => m.label), splits: rows.meta.map((m) => m.split) };
      })();
      entry.catch(() => this.indexes.delete(space.id));
      if (this.indexes.size >= 8) this.indexes.delete(this.indexes.keys().next().value!);
      this.indexes.set(space.id, entry);
    }
    return entry;
  }

  async getSpace(p: Principal, id: string): Promise<EmbeddingSpace> {
    const t = requireTenant(p, 'READER');
    const s = isUuid(id) ? await this.db.embeddingSpace.findFirst({ where: { id, tenantId: t.tenantId } }) : null;
    if (!s) throw notFound('Embedding space', id);
    return s;
  }

  async similar(p: Principal, input: { model: string; datasetVersionId: string; query: EmbedRequest['inputs'][number]; k?: number | null }) {
    const t = requireTenant(p, 'READER');
    const k = input.k ?? 10;
    if (!Number.isInteger(k) || k < 1 || k > 1000) throw badInput('k must be between 1 and 1000');
    const v = await this.registry.resolve(t, input.model);
    const space = isUuid(input.datasetVersionId)
      ? await this.db.embeddingSpace.findFirst({ where: { modelVersionId: v.id, datasetVersionId: input.datasetVersionId, tenantId: t.tenantId } })
      : null;
    if (!space) throw notFound('Embedding space for dataset version', input.datasetVersionId);
    if (space.status !== 'READY') throw conflict(`The embedding space is ${space.status}${space.error ? `: ${space.error}` : ''}`);
    const query = await this.serving.embedQuery(t.tenantId, v, input.query);
    const { index, rows, labels, splits } = await this.loadIndex(space);
    const hits = index.search(query, Math.min(k, space.rows));
    return {
      modelVersion: v,
      embeddingSpace: `${v.modelId}:${v.id}`,
      neighbors: hits.map((h) => ({ row: rows[h.index]!, score: h.score, label: labels[h.index] ?? null, split: splits[h.index]! })),
    };
  }
}
