// DATASET_PROCESSING=job: dataset versions are processed by dispatched jobs, not inside the gateway or the worker
// Lambda (whose 15 minutes a large upload outgrows). One pass per worker tick, over every version left PROCESSING:
//
//   no job yet   → claim it (compare-and-set processing_job_id NULL → 'submitting', attempts + 1), clear earlier
//                  output, write job/spec.json (files, shape, split rule, copy count) and submit one job of `count`
//                  copies (an AWS Batch array job, a Kubernetes Indexed Job, local children), then record its id;
//   job running  → nothing (the dispatcher's describe() says how it goes);
//   job finished → read parts/<i>/part.json of every copy and merge them (src/ingest/parts.ts): READY with the
//                  manifest, or FAILED with the union of the data's problems; the part files and the spec are removed;
//   job failed   → (a crash, a timeout, a lost job) the attempt's output is cleared and the version is submitted again
//                  on the next pass, until jobs.maxAttempts attempts have started; then FAILED (internal error).
//
// Every transition is conditional on (status PROCESSING, processing_job_id = the job seen), so two workers — or a
// worker and a deletion — never act on the same attempt twice. The copies never touch the database: the spec names
// everything they read and the prefix they may write; only this pass (the operator) writes rows.
import type { Logger } from 'pino';
import type { Config } from '../../config';
import type { Db } from '../../db/client';
import { IngestError, ingestStoreFrom, mergeParts, partResultKey, type PartResult, type RowShape } from '../../ingest';
import type { Dispatcher } from '../../jobs/dispatchers';
import { specKey, storageEnv, type ProcessVersionSpec } from '../../jobs/platform/spec';
import { storageUnavailableIn, type ObjectStore } from '../../storage';
import { versionPrefix } from './keys';
import { manifestSummary, outputBytes, processingFailure } from './processor';

/** Marks a claim whose job is being submitted; a claim older than staleClaimMs with this mark was lost in a crash. */
const SUBMITTING = 'submitting';

export interface ProcessingJobsOptions {
  job: Config['datasets']['job'];
  storage: Config['storage'];
  /** Attempts (submissions) per version before it is given up as FAILED. */
  maxAttempts: number;
  /** A 'submitting' claim older than this was lost (the worker died between claim and submit). */
  staleClaimMs?: number;
  /** Only these tenants' versions (tests sharing a database). */
  tenantScope?: () => readonly string[] | null;
}

export interface ProcessingPassReport {
  submitted: number;
  running: number;
  ready: number;
  failed: number;
  retried: number;
}

interface PendingVersion {
  id: string;
  tenantId: string;
  datasetId: string;
  processingJobId: string | null;
  processingAttempts: number;
  processingStartedAt: Date | null;
}

async function readJson<T>(store: ObjectStore, key: string): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(Buffer.from(c as Buffer));
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
}

export class ProcessingJobs {
  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
    private readonly dispatcher: Dispatcher,
    private readonly log: Logger,
    private readonly opts: ProcessingJobsOptions,
  ) {}

  /** How many copies a version's job gets: one per bytesPerPart of uploads, at least 1, at most maxParts and files. */
  copiesFor(totalBytes: number, files: number): number {
    const { bytesPerPart, maxParts } = this.opts.job;
    return Math.max(1, Math.min(maxParts, files, Math.ceil(totalBytes / bytesPerPart)));
  }

  async pass(now = new Date()): Promise<ProcessingPassReport> {
    const report: ProcessingPassReport = { submitted: 0, running: 0, ready: 0, failed: 0, retried: 0 };
    const tenants = this.opts.tenantScope?.();
    const versions: PendingVersion[] = await this.db.datasetVersion.findMany({
      where: { status: 'PROCESSING', dataset: { deletedAt: null }, ...(tenants ? { tenantId: { in: [...tenants] } } : {}) },
      select: { id: true, tenantId: true, datasetId: true, processingJobId: true, processingAttempts: true, processingStartedAt: true },
      orderBy: { processingStartedAt: 'asc' },
    });
    for (const v of versions) {
      try {
        await this.step(v, now, report);
      } catch (err) {
        // One version's trouble (the store down, the dispatcher refusing) never stops the others; the next pass retries.
        this.log.warn({ err, versionId: v.id }, 'dataset processing job step failed; retrying on the next pass');
      }
    }
    return report;
  }

  private async step(v: PendingVersion, now: Date, report: ProcessingPassReport): Promise<void> {
    if (v.processingJobId === null) return this.submit(v, now, report);
    if (v.processingJobId === SUBMITTING) {
      const stale = this.opts.staleClaimMs ?? 10 * 60_000;
      if (v.processingStartedAt && now.getTime() - v.processingStartedAt.getTime() < stale) return;
      // The worker that claimed it died before recording the job: release the claim (the attempt stays counted).
      await this.db.datasetVersion.updateMany({ where: { id: v.id, status: 'PROCESSING', processingJobId: SUBMITTING, processingStartedAt: v.processingStartedAt }, data: { processingJobId: null } });
      report.retried += 1;
      return;
    }
    const status = await this.dispatcher.describe(v.processingJobId);
    switch (status.state) {
      case 'PENDING':
      case 'RUNNING':
        report.running += 1;
        return;
      case 'SUCCEEDED':
        return this.merge(v, v.processingJobId, report);
      default:
        this.log.warn({ versionId: v.id, jobId: v.processingJobId, state: status.state, reason: status.reason }, 'dataset processing job failed');
        return this.retryOrFail(v, v.processingJobId, report, status.reason);
    }
  }

  private async submit(v: PendingVersion, now: Date, report: ProcessingPassReport): Promise<void> {
    if (v.processingAttempts >= this.opts.maxAttempts) {
      await this.fail(v, null, processingFailure(new Error('attempts exhausted')));
      report.failed += 1;
      return;
    }
    const claimed = await this.db.datasetVersion.updateMany({
      where: { id: v.id, status: 'PROCESSING', processingJobId: null },
      data: { processingJobId: SUBMITTING, processingAttempts: { increment: 1 }, processingStartedAt: now },
    });
    if (claimed.count === 0) return; // another worker claimed it
    const attempt = v.processingAttempts + 1;
    const version = await this.db.datasetVersion.findUniqueOrThrow({ where: { id: v.id }, include: { files: { orderBy: { createdAt: 'asc' } } } });
    const prefix = versionPrefix(v.tenantId, v.datasetId, v.id);
    const files = version.files.filter((f) => f.status === 'UPLOADED');
    const total = files.reduce((s, f) => s + Number(f.bytes), 0);
    const spec: ProcessVersionSpec = {
      formatVersion: 1,
      kind: 'process-version',
      versionId: v.id,
      keyPrefix: prefix,
      shape: version.shape as unknown as RowShape,
      split: (version.splitRule ?? {}) as ProcessVersionSpec['split'],
      count: this.copiesFor(total, Math.max(1, files.length)),
      files: files.map((f) => ({ name: f.name, key: f.storageKey, bytes: Number(f.bytes), sha256: f.sha256 ?? '' })),
    };
    try {
      // Output of an earlier attempt must not mix with this one's.
      await this.store.deletePrefix(`${prefix}/`);
      await this.store.put(specKey(prefix), Buffer.from(JSON.stringify(spec)), { contentType: 'application/json' });
      const { job } = this.opts;
      const { externalId } = await this.dispatcher.submit({
        runId: v.id,
        tenantId: v.tenantId,
        attempt,
        command: [...job.command, 'process-version', specKey(prefix)],
        // Local children get static store credentials (they have no role); cloud jobs get theirs from the job role.
        env: storageEnv(this.opts.storage, this.dispatcher.name === 'local'),
        resources: { gpus: 0, cpus: this.dispatcher.name === 'aws-batch' ? Math.ceil(job.cpus) : job.cpus, memoryMb: job.memoryMb },
        timeoutSeconds: job.timeoutSeconds,
        ...(spec.count > 1 ? { arraySize: spec.count } : {}),
      });
      const { count } = await this.db.datasetVersion.updateMany({ where: { id: v.id, status: 'PROCESSING', processingJobId: SUBMITTING }, data: { processingJobId: externalId } });
      if (count === 0) await this.dispatcher.cancel(externalId); // deleted (or failed) meanwhile
      this.log.info({ versionId: v.id, jobId: externalId, copies: spec.count, attempt }, 'dataset processing job submitted');
      report.submitted += 1;
    } catch (err) {
      // Nothing was started (or the record failed): release the claim; the attempt counts, so a dispatcher that
      // keeps refusing ends in FAILED instead of a loop.
      await this.db.datasetVersion.updateMany({ where: { id: v.id, status: 'PROCESSING', processingJobId: SUBMITTING }, data: { processingJobId: null } });
      throw err;
    }
  }

  private async merge(v: PendingVersion, jobId: string, report: ProcessingPassReport): Promise<void> {
    const prefix = versionPrefix(v.tenantId, v.datasetId, v.id);
    const version = await this.db.datasetVersion.findUniqueOrThrow({ where: { id: v.id }, include: { files: { orderBy: { createdAt: 'asc' } } } });
    let spec: ProcessVersionSpec;
    const parts: PartResult[] = [];
    try {
      spec = await readJson<ProcessVersionSpec>(this.store, specKey(prefix));
      for (let i = 0; i < spec.count; i++) parts.push(await readJson<PartResult>(this.store, partResultKey(prefix, i)));
    } catch (err) {
      if (storageUnavailableIn(err)) throw err; // the store is down, not the job: look again next pass
      // The job said it succeeded but a copy left no result: treat the attempt as failed.
      return this.retryOrFail(v, jobId, report, `a copy left no part result (${err instanceof Error ? err.message : String(err)})`);
    }
    const files = spec.files.map((f) => ({ name: f.name, bytes: f.bytes, sha256: f.sha256, open: () => { throw new Error('the merge reads no source file'); } }));
    try {
      const manifest = await mergeParts({ files, shape: version.shape as unknown as RowShape, store: ingestStoreFrom(this.store), keyPrefix: prefix, parts, split: spec.split });
      const manifestKey = `${prefix}/manifest.json`;
      const shardBytes = await outputBytes(this.store, manifest, manifestKey);
      const { count } = await this.db.datasetVersion.updateMany({
        where: { id: v.id, status: 'PROCESSING', processingJobId: jobId },
        data: { status: 'READY', stats: manifestSummary(manifest), manifestKey, shardBytes, readyAt: new Date(), processingJobId: null },
      });
      if (count === 0) return; // deleted or taken meanwhile: its owner (or the reconciler) clears the output
      // The shards and manifest stay; the bookkeeping of the job goes.
      await Promise.all([specKey(prefix), ...parts.map((_, i) => partResultKey(prefix, i))].map((k) => this.store.delete(k)));
      this.log.info({ versionId: v.id, rows: manifest.rows, copies: spec.count }, 'dataset version ready (processing job)');
      report.ready += 1;
    } catch (err) {
      if (storageUnavailableIn(err)) throw err;
      if (!(err instanceof IngestError) && !(err instanceof RangeError)) this.log.error({ err, versionId: v.id }, 'merging dataset processing parts failed');
      await this.fail(v, jobId, processingFailure(err));
      report.failed += 1;
    }
  }

  private async retryOrFail(v: PendingVersion, jobId: string, report: ProcessingPassReport, reason?: string): Promise<void> {
    const prefix = versionPrefix(v.tenantId, v.datasetId, v.id);
    if (v.processingAttempts >= this.opts.maxAttempts) {
      this.log.error({ versionId: v.id, jobId, reason }, 'dataset processing job failed on its last attempt');
      await this.fail(v, jobId, processingFailure(new Error(reason ?? 'job failed')));
      report.failed += 1;
      return;
    }
    await this.store.deletePrefix(`${prefix}/`);
    const { count } = await this.db.datasetVersion.updateMany({ where: { id: v.id, status: 'PROCESSING', processingJobId: jobId }, data: { processingJobId: null } });
    if (count > 0) report.retried += 1;
  }

  /** FAILED with `error`, output removed. `jobId` null: the version had no job (attempts exhausted before submit). */
  private async fail(v: PendingVersion, jobId: string | null, error: ReturnType<typeof processingFailure>): Promise<void> {
    const { count } = await this.db.datasetVersion.updateMany({
      where: { id: v.id, status: 'PROCESSING', processingJobId: jobId },
      data: { status: 'FAILED', error, processingJobId: null },
    });
    if (count > 0) await this.store.deletePrefix(`${versionPrefix(v.tenantId, v.datasetId, v.id)}/`);
  }
}
