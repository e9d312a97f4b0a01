// DATASET_PROCESSING=job: dataset versions are processed by dispatched jobs, not inside the gateway or the worker
// Lambda (whose 15 minutes a large upload outgrows). The worker's pass drives each PROCESSING version through the
// platform job state machine (src/jobs/platform/driver.ts); this file says what that means for a version:
//
//   prepare → clear earlier output, write job/spec.json (files, shape, split rule, copy count: one copy per
//             bytesPerPart of uploads) for copies of src/jobs/platform-main.ts `process-version`;
//   merge   → read parts/<i>/part.json of every copy and merge them (src/ingest/parts.ts): READY with the manifest,
//             or FAILED with the union of the data's problems; the part files and the spec are removed;
//   fail    → FAILED with an internal error, output removed.
//
// The copies never touch the database: the spec names everything they read and the prefix they may write; only
// this pass (the operator) writes rows.
import type { Logger } from 'pino';
import type { Db } from '../../db/client';
import { IngestError, ingestStoreFrom, mergeParts, partResultKey, type PartResult, type RowShape } from '../../ingest';
import type { Dispatcher } from '../../jobs/dispatchers';
import { platformJobDriver, type PlatformJobDriver, type PlatformJobOptions, type JobKind, type JobTarget, type MergeOutcome, type PassReport } from '../../jobs/platform/driver';
import { specKey, type ProcessVersionSpec } from '../../jobs/platform/spec';
import { storageUnavailableIn, type ObjectStore } from '../../storage';
import { versionPrefix } from './keys';
import { manifestSummary, outputBytes, processingFailure } from './processor';
import { readObjectJson } from '../../storage/read-object';

export type ProcessingJobsOptions = PlatformJobOptions;

export type ProcessingPassReport = PassReport;

interface VersionTarget extends JobTarget {
  datasetId: string;
}

export class ProcessingJobs implements JobKind<VersionTarget> {
  readonly name = 'dataset processing';
  private readonly driver: PlatformJobDriver;

  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
    dispatcher: Dispatcher,
    private readonly log: Logger,
    private readonly opts: ProcessingJobsOptions,
  ) {
    this.driver = platformJobDriver(dispatcher, log, opts);
  }

  /** One worker pass over every PROCESSING version. */
  pass(now = new Date()): Promise<ProcessingPassReport> {
    return this.driver.pass(this, now);
  }

  /** How many copies a version's job gets: one per bytesPerPart of uploads, at least 1, at most maxParts and files. */
  copiesFor(totalBytes: number, files: number): number {
    const { bytesPerPart, maxParts } = this.opts.job;
    return Math.max(1, Math.min(maxParts, files, Math.ceil(totalBytes / bytesPerPart)));
  }

  private prefix(t: VersionTarget): string {
    return versionPrefix(t.tenantId, t.datasetId, t.id);
  }

  async pending(): Promise<VersionTarget[]> {
    const tenants = this.opts.tenantScope?.();
    const rows = await this.db.datasetVersion.findMany({
      where: { status: 'PROCESSING', dataset: { deletedAt: null }, ...(tenants ? { tenantId: { in: [...tenants] } } : {}) },
      select: { id: true, tenantId: true, datasetId: true, processingJobId: true, processingAttempts: true, processingStartedAt: true },
      orderBy: { processingStartedAt: 'asc' },
    });
    return rows.map((r) => ({ id: r.id, tenantId: r.tenantId, datasetId: r.datasetId, jobId: r.processingJobId, attempts: r.processingAttempts, claimedAt: r.processingStartedAt }));
  }

  async setJob(t: VersionTarget, from: string | null, to: string | null, claim?: Date): Promise<boolean> {
    const { count } = await this.db.datasetVersion.updateMany({
      where: { id: t.id, status: 'PROCESSING', processingJobId: from },
      data: { processingJobId: to, ...(claim ? { processingAttempts: { increment: 1 }, processingStartedAt: claim } : {}) },
    });
    return count > 0;
  }

  async prepare(t: VersionTarget): Promise<{ args: string[]; count: number }> {
    const version = await this.db.datasetVersion.findUniqueOrThrow({ where: { id: t.id }, include: { files: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } } });
    const prefix = this.prefix(t);
    const files = version.files.filter((f) => f.status === 'UPLOADED');
    const spec: ProcessVersionSpec = {
      formatVersion: 1,
      kind: 'process-version',
      versionId: t.id,
      keyPrefix: prefix,
      shape: version.shape as unknown as RowShape,
      split: (version.splitRule ?? {}) as ProcessVersionSpec['split'],
      count: this.copiesFor(files.reduce((s, f) => s + Number(f.bytes), 0), Math.max(1, files.length)),
      files: files.map((f) => ({ name: f.name, key: f.storageKey, bytes: Number(f.bytes), sha256: f.sha256 ?? '' })),
    };
    // Output of an earlier attempt must not mix with this one's.
    await this.store.deletePrefix(`${prefix}/`);
    await this.store.put(specKey(prefix), Buffer.from(JSON.stringify(spec)), { contentType: 'application/json' });
    return { args: ['process-version', specKey(prefix)], count: spec.count };
  }

  async merge(t: VersionTarget, jobId: string): Promise<MergeOutcome> {
    const prefix = this.prefix(t);
    const version = await this.db.datasetVersion.findUniqueOrThrow({ where: { id: t.id } });
    let spec: ProcessVersionSpec;
    const parts: PartResult[] = [];
    try {
      spec = await readObjectJson<ProcessVersionSpec>(this.store, specKey(prefix));
      for (let i = 0; i < spec.count; i++) parts.push(await readObjectJson<PartResult>(this.store, partResultKey(prefix, i)));
    } catch (err) {
      if (storageUnavailableIn(err)) throw err; // the store is down, not the job: look again next pass
      this.log.warn({ err, versionId: t.id, jobId }, 'the processing job succeeded but a copy left no part result');
      return 'lost';
    }
    const files = spec.files.map((f) => ({ name: f.name, bytes: f.bytes, sha256: f.sha256, open: () => { throw new Error('the merge reads no source file'); } }));
    try {
      const manifest = await mergeParts({ files, shape: version.shape as unknown as RowShape, store: ingestStoreFrom(this.store), keyPrefix: prefix, parts, split: spec.split });
      const manifestKey = `${prefix}/manifest.json`;
      const shardBytes = await outputBytes(this.store, manifest, manifestKey);
      const { count } = await this.db.datasetVersion.updateMany({
        where: { id: t.id, status: 'PROCESSING', processingJobId: jobId },
        data: { status: 'READY', stats: manifestSummary(manifest), manifestKey, shardBytes, readyAt: new Date(), processingJobId: null },
      });
      if (count === 0) return 'gone'; // deleted or taken meanwhile: its owner (or the reconciler) clears the output
      // The shards and manifest stay; the bookkeeping of the job goes.
      await Promise.all([specKey(prefix), ...parts.map((_, i) => partResultKey(prefix, i))].map((k) => this.store.delete(k)));
      this.log.info({ versionId: t.id, rows: manifest.rows, copies: spec.count }, 'dataset version ready (processing job)');
      return 'ready';
    } catch (err) {
      if (storageUnavailableIn(err)) throw err;
      if (!(err instanceof IngestError) && !(err instanceof RangeError)) this.log.error({ err, versionId: t.id }, 'merging dataset processing parts failed');
      await this.failWith(t, jobId, processingFailure(err));
      return 'failed';
    }
  }

  fail(t: VersionTarget, jobId: string | null, reason: string): Promise<boolean> {
    this.log.error({ versionId: t.id, jobId, reason }, 'dataset processing failed');
    return this.failWith(t, jobId, processingFailure(new Error(reason)));
  }

  async clear(t: VersionTarget): Promise<void> {
    await this.store.deletePrefix(`${this.prefix(t)}/`);
  }

  private async failWith(t: VersionTarget, jobId: string | null, error: ReturnType<typeof processingFailure>): Promise<boolean> {
    const { count } = await this.db.datasetVersion.updateMany({
      where: { id: t.id, status: 'PROCESSING', processingJobId: jobId },
      data: { status: 'FAILED', error, processingJobId: null },
    });
    if (count > 0) await this.clear(t);
    return count > 0;
  }
}
