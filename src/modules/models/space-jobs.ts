// DATASET_PROCESSING=job: embedding spaces are built by dispatched jobs, not inside the worker Lambda. The worker's
// pass drives each BUILDING space through the platform job state machine (src/jobs/platform/driver.ts):
//
//   prepare → clear earlier output, write job/spec.json (the manifest, the model version's artifact keys and input
//             spec, the copy count: one copy per rowsPerPart rows, at most one per shard) for copies of
//             src/jobs/platform-main.ts `build-space`, each embedding a contiguous run of the version's shards;
//   merge   → read every copy's piece in order, build the index (exact, or HNSW from HNSW_MIN_ROWS rows) and write
//             index.bin + rows.json exactly as an inline build does; READY; the pieces and the spec are removed;
//   fail    → FAILED with an internal error, output removed.
import type { Logger } from 'pino';
import type { Db } from '../../db/client';
import { ingestStoreFrom, readManifest } from '../../ingest';
import type { Dispatcher } from '../../jobs/dispatchers';
import { platformJobDriver, type PlatformJobDriver, type PlatformJobOptions, type JobKind, type JobTarget, type MergeOutcome, type PassReport } from '../../jobs/platform/driver';
import { spacePieceKeys, specKey, type BuildSpaceSpec } from '../../jobs/platform/spec';
import { storageUnavailableIn, tenantKey, type ObjectStore } from '../../storage';
import { writeSpaceIndex, type SpacePiece } from './space-build';
import { readObjectBytes } from '../../storage/read-object';

export interface SpaceJobsOptions extends PlatformJobOptions {
  /** Rows one copy embeds (the copy count is rows / rowsPerPart, at most one copy per shard and maxParts). */
  rowsPerPart: number;
}

export class SpaceJobs implements JobKind<JobTarget> {
  readonly name = 'embedding space build';
  private readonly driver: PlatformJobDriver;

  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
    dispatcher: Dispatcher,
    private readonly log: Logger,
    private readonly opts: SpaceJobsOptions,
  ) {
    this.driver = platformJobDriver(dispatcher, log, opts);
  }

  pass(now = new Date()): Promise<PassReport> {
    return this.driver.pass(this, now);
  }

  private prefix(t: JobTarget): string {
    return tenantKey(t.tenantId, 'spaces', t.id);
  }

  async pending(): Promise<JobTarget[]> {
    const tenants = this.opts.tenantScope?.();
    const rows = await this.db.embeddingSpace.findMany({
      where: { status: 'BUILDING', ...(tenants ? { tenantId: { in: [...tenants] } } : {}) },
      select: { id: true, tenantId: true, buildJobId: true, buildAttempts: true, buildStartedAt: true },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map((r) => ({ id: r.id, tenantId: r.tenantId, jobId: r.buildJobId, attempts: r.buildAttempts, claimedAt: r.buildStartedAt }));
  }

  async setJob(t: JobTarget, from: string | null, to: string | null, claim?: Date): Promise<boolean> {
    const { count } = await this.db.embeddingSpace.updateMany({
      where: { id: t.id, status: 'BUILDING', buildJobId: from },
      data: { buildJobId: to, ...(claim ? { buildAttempts: { increment: 1 }, buildStartedAt: claim } : {}) },
    });
    return count > 0;
  }

  async prepare(t: JobTarget): Promise<{ args: string[]; count: number }> {
    const space = await this.db.embeddingSpace.findUniqueOrThrow({ where: { id: t.id }, include: { modelVersion: true } });
    const dv = await this.db.datasetVersion.findFirstOrThrow({ where: { id: space.datasetVersionId, tenantId: t.tenantId, status: 'READY' } });
    const manifest = await readManifest(ingestStoreFrom(this.store), dv.manifestKey!);
    const prefix = this.prefix(t);
    const v = space.modelVersion;
    const spec: BuildSpaceSpec = {
      formatVersion: 1,
      kind: 'build-space',
      spaceId: t.id,
      keyPrefix: prefix,
      manifestKey: dv.manifestKey!,
      model: { id: v.id, onnxKey: v.onnxKey, tokenizerKey: v.tokenizerKey, inputSpec: v.inputSpec, head: v.head, embeddingDim: v.embeddingDim },
      count: Math.max(1, Math.min(this.opts.job.maxParts, manifest.shards.length, Math.ceil(manifest.rows / this.opts.rowsPerPart))),
    };
    await this.store.deletePrefix(`${prefix}/`);
    await this.store.put(specKey(prefix), Buffer.from(JSON.stringify(spec)), { contentType: 'application/json' });
    return { args: ['build-space', specKey(prefix)], count: spec.count };
  }

  async merge(t: JobTarget, jobId: string): Promise<MergeOutcome> {
    const prefix = this.prefix(t);
    let spec: BuildSpaceSpec;
    const pieces: SpacePiece[] = [];
    try {
      spec = JSON.parse((await readObjectBytes(this.store, specKey(prefix))).toString('utf8')) as BuildSpaceSpec;
      for (let i = 0; i < spec.count; i++) {
        const keys = spacePieceKeys(prefix, i);
        const bytes = await readObjectBytes(this.store, keys.vectors);
        const { rows, meta } = JSON.parse((await readObjectBytes(this.store, keys.rows)).toString('utf8')) as Pick<SpacePiece, 'rows' | 'meta'>;
        // Copied into an aligned buffer: a Buffer's offset into Node's pool need not be a multiple of 4.
        pieces.push({ vectors: new Float32Array(Uint8Array.from(bytes).buffer), rows, meta });
      }
    } catch (err) {
      if (storageUnavailableIn(err)) throw err;
      this.log.warn({ err, spaceId: t.id, jobId }, 'the space build job succeeded but a copy left no piece');
      return 'lost';
    }
    const keys = { indexKey: `${prefix}/index.bin`, vectorsKey: `${prefix}/rows.json` };
    try {
      const { rows, kind } = await writeSpaceIndex(this.store, keys, spec.model.embeddingDim, pieces);
      const { count } = await this.db.embeddingSpace.updateMany({
        where: { id: t.id, status: 'BUILDING', buildJobId: jobId },
        data: { status: 'READY', rows, ...keys, buildJobId: null },
      });
      if (count === 0) return 'gone';
      await Promise.all([specKey(prefix), ...pieces.flatMap((_, i) => Object.values(spacePieceKeys(prefix, i)))].map((k) => this.store.delete(k)));
      this.log.info({ spaceId: t.id, rows, kind, copies: spec.count }, 'embedding space ready (build job)');
      return 'ready';
    } catch (err) {
      if (storageUnavailableIn(err)) throw err;
      this.log.error({ err, spaceId: t.id }, 'merging embedding space pieces failed');
      await this.failWith(t, jobId, 'Building the embedding space failed because of an internal error; create it again');
      return 'failed';
    }
  }

  fail(t: JobTarget, jobId: string | null, reason: string): Promise<boolean> {
    this.log.error({ spaceId: t.id, jobId, reason }, 'embedding space build failed');
    return this.failWith(t, jobId, 'Building the embedding space failed because of an internal error; create it again');
  }

  async clear(t: JobTarget): Promise<void> {
    await this.store.deletePrefix(`${this.prefix(t)}/`);
  }

  private async failWith(t: JobTarget, jobId: string | null, error: string): Promise<boolean> {
    const { count } = await this.db.embeddingSpace.updateMany({ where: { id: t.id, status: 'BUILDING', buildJobId: jobId }, data: { status: 'FAILED', error, buildJobId: null } });
    if (count > 0) await this.clear(t);
    return count > 0;
  }
}
