// The run lifecycle: dispatching queued runs, handling task exits, retries with backoff, timeouts, stale
// heartbeats and cancellation. Domain logic driving a `jobs/` dispatcher (never the other way round); the loop that
// calls it on a timer lives in jobs/worker.ts. Every status change goes through state.ts `transition`.
import type { Db, Run } from '../../db/client';
import type { JobsConfig } from '../../config';
import { DispatchError, type Dispatcher, type DispatchStatus } from '../../jobs/dispatchers';
import { nextDueRuns, retryDelayMs } from '../../jobs/queue';
import { mintJobToken } from '../../jobs/tokens';
import type { Logger } from '../../logger';
import { readRunConfig } from './run-config';
import { transition } from './state';

export interface LifecycleDeps {
  db: Db;
  dispatcher: Dispatcher;
  jobs: JobsConfig;
  /** Base URL the trainer reaches the gateway at. */
  gatewayUrl: () => string;
  log: Logger;
  /** Only these tenants' runs are dispatched and supervised by this process (null/undefined: all tenants). */
  tenantScope?: () => readonly string[] | null;
}

export class RunLifecycle {
  constructor(private readonly d: LifecycleDeps) {}

  private scope(): readonly string[] | undefined {
    return this.d.tenantScope?.() ?? undefined;
  }

  private scopeWhere(): { tenantId?: { in: string[] } } {
    const s = this.scope();
    return s ? { tenantId: { in: [...s] } } : {};
  }

  private async appendLog(run: Pick<Run, 'id' | 'tenantId' | 'attempt'>, level: 'info' | 'warn' | 'error', message: string): Promise<void> {
    await this.d.db.runLog.create({ data: { tenantId: run.tenantId, runId: run.id, attempt: run.attempt, level, message: message.slice(0, 4000) } });
  }

  /** How many more runs this dispatcher should take now (the local one runs a bounded number of children). */
  private async capacity(): Promise<number> {
    if (this.d.dispatcher.name !== 'local') return 16;
    const busy = await this.d.db.run.count({ where: { status: { in: ['DISPATCHED', 'RUNNING'] }, dispatcher: 'local', ...this.scopeWhere() } });
    return Math.max(0, this.d.jobs.localMaxConcurrent - busy);
  }

  /** Claims and submits due runs, fairly across tenants. Returns how many were submitted. */
  async dispatchDue(now = new Date()): Promise<number> {
    const due = await nextDueRuns(this.d.db, await this.capacity(), now, this.scope());
    let n = 0;
    for (const r of due) if (await this.dispatchOne(r.id)) n++;
    return n;
  }

  /** QUEUED → DISPATCHED with a fresh job token, then submit. False when someone else claimed it first. */
  async dispatchOne(runId: string, now = new Date()): Promise<boolean> {
    const run = await this.d.db.run.findUnique({ where: { id: runId } });
    if (!run || run.status !== 'QUEUED') return false;
    let cfg;
    try {
      cfg = readRunConfig(run.config);
    } catch (err) {
      await transition(this.d.db, run.id, 'QUEUED', 'DISPATCHED', { attempt: run.attempt + 1 });
      await this.finishAttempt(run.id, run.attempt + 1, (err as Error).message, false);
      return false;
    }
    const attempt = run.attempt + 1;
    const elapsed = run.startedAt ? (now.getTime() - run.startedAt.getTime()) / 1000 : 0;
    const remaining = Math.max(1, Math.ceil(cfg.timeoutSeconds - elapsed));
    // The token outlives the attempt's timeout by the stale window, never the run's whole life.
    const token = mintJobToken(remaining + this.d.jobs.heartbeatStaleSeconds + 60, now);
    const won = await transition(this.d.db, run.id, 'QUEUED', 'DISPATCHED', {
      attempt,
      tokenHash: token.hash,
      tokenExpiresAt: token.expiresAt,
      dispatcher: this.d.dispatcher.name,
      externalId: null,
      heartbeatAt: now,
      notBefore: null,
    });
    if (!won) return false;
    try {
      const { externalId } = await this.d.dispatcher.submit({
        runId: run.id,
        tenantId: run.tenantId,
        attempt,
        command: this.d.jobs.trainerCommand,
        env: { PRETEXT_GATEWAY_URL: this.d.gatewayUrl(), PRETEXT_RUN_ID: run.id, PRETEXT_JOB_TOKEN: token.token },
        resources: cfg.resources,
        timeoutSeconds: remaining,
      });
      await this.d.db.run.updateMany({ where: { id: run.id, attempt, status: { in: ['DISPATCHED', 'RUNNING'] } }, data: { externalId } });
      await this.appendLog({ ...run, attempt }, 'info', `attempt ${attempt} dispatched to ${this.d.dispatcher.name} as ${externalId}`);
      // A cancel that landed between the claim and the submit has no external id to stop: stop it now.
      const after = await this.d.db.run.findUnique({ where: { id: run.id }, select: { status: true } });
      if (after?.status === 'CANCELLED') await this.d.dispatcher.cancel(externalId).catch(() => undefined);
      // A task that ended before its external id was recorded (a command that cannot start fails within a tick) had
      // its exit report find no run; settle it now instead of waiting for the supervisor. onTaskExit is idempotent.
      const state = await this.d.dispatcher.describe(externalId).catch(() => null);
      if (state && (state.state === 'FAILED' || state.state === 'SUCCEEDED')) await this.onTaskExit(externalId, state);
    } catch (err) {
      const retryable = err instanceof DispatchError ? err.retryable : true;
      await this.finishAttempt(run.id, attempt, `dispatch failed: ${(err as Error).message}`, retryable);
    }
    return true;
  }

  /**
   * Ends attempt `attempt` of a run that failed: back to QUEUED after a backoff while attempts remain and the
   * failure may pass, else FAILED with the reason. A no-op when the run has moved on (another attempt, a
   * cancel, a completion), so duplicate reports of one exit are harmless.
   */
  async finishAttempt(runId: string, attempt: number, reason: string, retryable: boolean, now = new Date()): Promise<void> {
    const run = await this.d.db.run.findUnique({ where: { id: runId } });
    if (!run || run.attempt !== attempt || !['DISPATCHED', 'RUNNING'].includes(run.status)) return;
    let timedOut = false;
    try {
      const cfg = readRunConfig(run.config);
      timedOut = run.startedAt !== null && now.getTime() - run.startedAt.getTime() >= cfg.timeoutSeconds * 1000;
    } catch {
      retryable = false;
    }
    const from = run.status;
    if (timedOut) {
      const cfg = readRunConfig(run.config);
      if (await transition(this.d.db, runId, from, 'FAILED', { error: `timed out after ${cfg.timeoutSeconds} s (run timeout)` }, { attempt }, now)) {
        await this.appendLog(run, 'error', `run timed out after ${cfg.timeoutSeconds} s`);
      }
      return;
    }
    if (retryable && attempt < run.maxAttempts) {
      const delay = retryDelayMs(this.d.jobs.retryBaseMs, attempt);
      const moved = await transition(this.d.db, runId, from, 'QUEUED', { error: reason, notBefore: new Date(now.getTime() + delay), tokenHash: null, externalId: null }, { attempt }, now);
      if (moved) await this.appendLog(run, 'warn', `attempt ${attempt} failed (${reason}); retrying in ${delay} ms (attempt ${attempt + 1} of ${run.maxAttempts})`);
      return;
    }
    const why = retryable ? `${reason} (after ${attempt} of ${run.maxAttempts} attempts)` : reason;
    if (await transition(this.d.db, runId, from, 'FAILED', { error: why, tokenHash: null }, { attempt }, now)) {
      await this.appendLog(run, 'error', `run failed: ${why}`);
    }
  }

  /** A task finished (dispatcher callback or describe poll). Completion is reported through the trainer API first. */
  async onTaskExit(externalId: string, status: DispatchStatus): Promise<void> {
    const run = await this.d.db.run.findFirst({ where: { externalId, status: { in: ['DISPATCHED', 'RUNNING'] } } });
    if (!run) return;
    const reason =
      status.state === 'SUCCEEDED' ? 'the trainer exited without reporting completion' : `the trainer task ${status.state === 'UNKNOWN' ? 'was lost' : 'failed'}: ${status.reason ?? 'no reason given'}`;
    await this.finishAttempt(run.id, run.attempt, reason, true);
  }

  /**
   * One supervisor pass: run timeouts, stale heartbeats (re-dispatch; the next attempt resumes from the last
   * checkpoint), and tasks the backend reports finished or lost (a gateway restart loses local children).
   */
  async supervise(now = new Date()): Promise<void> {
    const live = await this.d.db.run.findMany({ where: { status: { in: ['DISPATCHED', 'RUNNING'] }, ...this.scopeWhere() } });
    for (const run of live) {
      try {
        const cfg = readRunConfig(run.config);
        if (run.startedAt && now.getTime() - run.startedAt.getTime() >= cfg.timeoutSeconds * 1000) {
          if (run.externalId) await this.d.dispatcher.cancel(run.externalId).catch(() => undefined);
          await this.finishAttempt(run.id, run.attempt, 'timed out', false, now);
          continue;
        }
        const staleMs = this.d.jobs.heartbeatStaleSeconds * 1000;
        if (run.heartbeatAt && now.getTime() - run.heartbeatAt.getTime() > staleMs) {
          if (run.externalId) await this.d.dispatcher.cancel(run.externalId).catch(() => undefined);
          await this.finishAttempt(run.id, run.attempt, `no heartbeat for ${Math.round((now.getTime() - run.heartbeatAt.getTime()) / 1000)} s`, true, now);
          continue;
        }
        if (run.externalId) {
          const st = await this.d.dispatcher.describe(run.externalId);
          if (st.state === 'SUCCEEDED' || st.state === 'FAILED' || st.state === 'UNKNOWN') await this.onTaskExit(run.externalId, st);
        }
      } catch (err) {
        this.d.log.warn({ err, runId: run.id }, 'supervisor could not check a run');
      }
    }
  }

  /** Stops the task (if any) of a run that was just cancelled. */
  async stopTask(externalId: string | null): Promise<void> {
    if (externalId) await this.d.dispatcher.cancel(externalId);
  }
}
