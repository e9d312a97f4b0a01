// The worker-side state machine of a platform job (dataset processing, embedding-space builds): one step per target
// and pass, every transition a compare-and-set on the target's job column, so two workers (or a worker and a delete)
// never act on the same attempt twice:
//
//   no job      → claim (job NULL → 'submitting', attempts + 1), prepare (clear earlier output, write the spec),
//                 submit one job of `count` copies, record its id ('submitting' → id);
//   submitting  → older than staleClaimMs: the claimer died between claim and record; release the claim;
//   job running → nothing;
//   job done    → merge the copies' results (the kind decides: ready, failed for good, or lost → retry);
//   job failed  → clear the attempt's output and release it for the next pass, or FAILED once maxAttempts started.
//
// What a target is, where its output lives and how parts are merged is the kind's business (JobKind).
import type { Logger } from 'pino';
import type { Config } from '../../config';
import type { Dispatcher, DispatchResources } from '../dispatchers';
import { storageEnv } from './spec';

export const SUBMITTING = 'submitting';

export interface JobTarget {
  id: string;
  tenantId: string;
  jobId: string | null;
  attempts: number;
  /** When the current claim was taken (the 'submitting' mark's age). */
  claimedAt: Date | null;
}

/** ready / failed (for good) / lost (a copy left nothing: retry) / gone (the target went away meanwhile). */
export type MergeOutcome = 'ready' | 'failed' | 'lost' | 'gone';

export interface JobKind<T extends JobTarget> {
  /** For logs: "dataset processing", "embedding space build". */
  readonly name: string;
  /** Targets waiting for or running a job, oldest first. */
  pending(): Promise<T[]>;
  /** Compare-and-set of the job column from `from` to `to` while the target is still pending; `claim` also counts an attempt. */
  setJob(t: T, from: string | null, to: string | null, claim?: Date): Promise<boolean>;
  /** Clears earlier output and writes the spec; the job's argument list (appended to the command) and copies. */
  prepare(t: T): Promise<{ args: string[]; count: number }>;
  merge(t: T, jobId: string): Promise<MergeOutcome>;
  /** FAILED for good (an internal error, `reason` only logged), output removed; a compare-and-set on `jobId`. */
  fail(t: T, jobId: string | null, reason: string): Promise<boolean>;
  /** Removes an attempt's output before the next one. */
  clear(t: T): Promise<void>;
}

export interface DriverOptions {
  command: string[];
  /** Environment of every copy (the dispatcher adds the copy index and count). */
  env: Record<string, string>;
  resources: DispatchResources;
  timeoutSeconds: number;
  /** Attempts (submissions) per target before it is FAILED. */
  maxAttempts: number;
  /** A 'submitting' claim older than this was lost (default 10 minutes). */
  staleClaimMs?: number;
}

export interface PassReport {
  submitted: number;
  running: number;
  ready: number;
  failed: number;
  retried: number;
}

/** What every platform job kind is built with (the platform's settings). */
export interface PlatformJobOptions {
  job: Config['datasets']['job'];
  storage: Config['storage'];
  /** Attempts (submissions) per target before it is given up as FAILED. */
  maxAttempts: number;
  /** A 'submitting' claim older than this was lost (the worker died between claim and submit). */
  staleClaimMs?: number;
  /** Only these tenants' targets (tests sharing a database). */
  tenantScope?: () => readonly string[] | null;
}

/** The driver of a platform job kind from the platform's settings (every kind's copies get the same). */
export function platformJobDriver(dispatcher: Dispatcher, log: Logger, o: PlatformJobOptions): PlatformJobDriver {
  return new PlatformJobDriver(dispatcher, log, {
    command: o.job.command,
    // Local children get static store credentials (they have no role); cloud jobs get theirs from the job role.
    env: storageEnv(o.storage, dispatcher.name === 'local'),
    // Batch on EC2 takes whole vCPUs only.
    resources: { gpus: 0, cpus: dispatcher.name === 'aws-batch' ? Math.ceil(o.job.cpus) : o.job.cpus, memoryMb: o.job.memoryMb },
    timeoutSeconds: o.job.timeoutSeconds,
    maxAttempts: o.maxAttempts,
    ...(o.staleClaimMs !== undefined ? { staleClaimMs: o.staleClaimMs } : {}),
  });
}

export class PlatformJobDriver {
  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly log: Logger,
    private readonly opts: DriverOptions,
  ) {}

  async pass<T extends JobTarget>(kind: JobKind<T>, now = new Date()): Promise<PassReport> {
    const report: PassReport = { submitted: 0, running: 0, ready: 0, failed: 0, retried: 0 };
    for (const t of await kind.pending()) {
      try {
        await this.step(kind, t, now, report);
      } catch (err) {
        // One target's trouble (the store down, the dispatcher refusing) never stops the others; the next pass retries.
        this.log.warn({ err, target: t.id }, `${kind.name} job step failed; retrying on the next pass`);
      }
    }
    return report;
  }

  private async step<T extends JobTarget>(kind: JobKind<T>, t: T, now: Date, report: PassReport): Promise<void> {
    if (t.jobId === null) return this.submit(kind, t, now, report);
    if (t.jobId === SUBMITTING) {
      if (t.claimedAt && now.getTime() - t.claimedAt.getTime() < (this.opts.staleClaimMs ?? 10 * 60_000)) return;
      if (await kind.setJob(t, SUBMITTING, null)) report.retried += 1; // the attempt stays counted
      return;
    }
    const status = await this.dispatcher.describe(t.jobId);
    switch (status.state) {
      case 'PENDING':
      case 'RUNNING':
        report.running += 1;
        return;
      case 'SUCCEEDED': {
        const outcome = await kind.merge(t, t.jobId);
        if (outcome === 'lost') return this.retryOrFail(kind, t, t.jobId, report, 'a copy left no result');
        if (outcome !== 'gone') report[outcome] += 1;
        return;
      }
      default:
        this.log.warn({ target: t.id, jobId: t.jobId, state: status.state, reason: status.reason }, `${kind.name} job failed`);
        return this.retryOrFail(kind, t, t.jobId, report, status.reason ?? status.state);
    }
  }

  private async submit<T extends JobTarget>(kind: JobKind<T>, t: T, now: Date, report: PassReport): Promise<void> {
    if (t.attempts >= this.opts.maxAttempts) {
      if (await kind.fail(t, null, 'attempts exhausted')) report.failed += 1;
      return;
    }
    if (!(await kind.setJob(t, null, SUBMITTING, now))) return; // another worker claimed it
    const attempt = t.attempts + 1;
    try {
      const { args, count } = await kind.prepare(t);
      const { externalId } = await this.dispatcher.submit({
        runId: t.id,
        tenantId: t.tenantId,
        attempt,
        command: [...this.opts.command, ...args],
        env: this.opts.env,
        resources: this.opts.resources,
        timeoutSeconds: this.opts.timeoutSeconds,
        ...(count > 1 ? { arraySize: count } : {}),
      });
      if (!(await kind.setJob(t, SUBMITTING, externalId))) await this.dispatcher.cancel(externalId); // deleted meanwhile
      this.log.info({ target: t.id, jobId: externalId, copies: count, attempt }, `${kind.name} job submitted`);
      report.submitted += 1;
    } catch (err) {
      // Nothing was started (or it was not recorded): release the claim. The attempt counts, so a dispatcher that
      // keeps refusing ends in FAILED instead of a loop.
      await kind.setJob(t, SUBMITTING, null);
      throw err;
    }
  }

  private async retryOrFail<T extends JobTarget>(kind: JobKind<T>, t: T, jobId: string, report: PassReport, reason: string): Promise<void> {
    if (t.attempts >= this.opts.maxAttempts) {
      this.log.error({ target: t.id, jobId, reason }, `${kind.name} job failed on its last attempt`);
      if (await kind.fail(t, jobId, reason)) report.failed += 1;
      return;
    }
    await kind.clear(t);
    if (await kind.setJob(t, jobId, null)) report.retried += 1;
  }
}
