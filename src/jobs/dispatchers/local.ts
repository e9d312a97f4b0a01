import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { aggregateArrayStatus, arrayEnv, arraySizeOf } from './array';
import { invalidRequest } from './errors';
import type { Dispatcher, DispatchRequest, DispatchStatus, LocalDispatcherOptions } from './types';
import { validateRequest } from './validate';

type Phase = 'queued' | 'running' | 'finished';

/** One child process: the whole execution of a plain request, or one copy of an array job. */
interface Shard {
  exec: Execution;
  /** Index within an array job; undefined for a plain execution (its env gets no PRETEXT_JOB_INDEX). */
  index: number | undefined;
  phase: Phase;
  status: DispatchStatus;
  child?: ChildProcess;
  /** Why the dispatcher is stopping it (cancel, or another copy failed); reported as the FAILED reason. */
  stopReason?: string;
  /** Stopped because of the set (cancel or a failed sibling), not by a failure of its own. */
  knockOn: boolean;
  timedOut: boolean;
  timers: NodeJS.Timeout[];
}

/** What one submission started: one shard, or arraySize shards under one externalId. */
interface Execution {
  externalId: string;
  req: DispatchRequest;
  shards: Shard[];
  cancelled: boolean;
  /** Set once every shard has finished; describe() then returns it unchanged. */
  final?: DispatchStatus;
  exited: Promise<void>;
  resolveExited: () => void;
}

const DEFAULT_KILL_GRACE_MS = 10_000;
const DEFAULT_RETAIN_FINISHED = 1000;
const SIBLING_FAILED = 'stopped because another index of the array job failed';

/**
 * Runs trainers as child processes of this process (the zero-config default). The id embeds this process's pid
 * (`local-<pid>-<runId>-<attempt>`): after a restart the children are gone, and describe() says UNKNOWN for ids
 * minted by another process instead of pretending they still run.
 *
 * Resources are advisory here (no cgroup limits); bounded concurrency is what keeps a laptop usable.
 *
 * An array request (arraySize = N > 1) is N children under one externalId, child i with PRETEXT_JOB_INDEX=i and
 * PRETEXT_JOB_COUNT=N. Each child takes a maxConcurrent slot and waits in the same FIFO queue; the timeout applies
 * to each child from its own start. The set is FAILED as soon as one child fails, and the rest are stopped then;
 * onExit fires once, after the last child has exited.
 */
export class LocalDispatcher implements Dispatcher {
  readonly name = 'local' as const;
  private readonly executions = new Map<string, Execution>();
  private queue: Shard[] = [];
  private running = 0;
  private readonly killGraceMs: number;
  private readonly retainFinished: number;
  private readonly finishedOrder: string[] = [];

  constructor(private readonly opts: LocalDispatcherOptions) {
    if (!Number.isInteger(opts.maxConcurrent) || opts.maxConcurrent < 1) {
      throw new Error(`local dispatcher: maxConcurrent must be an integer >= 1, got ${opts.maxConcurrent}. Set it to the number of trainers this machine can run at once (1 on a laptop).`);
    }
    this.killGraceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    if (!(this.killGraceMs >= 0)) {
      throw new Error(`local dispatcher: killGraceMs must be >= 0, got ${opts.killGraceMs}.`);
    }
    this.retainFinished = opts.retainFinished ?? DEFAULT_RETAIN_FINISHED;
  }

  async submit(req: DispatchRequest): Promise<{ externalId: string }> {
    validateRequest('local', req);
    const externalId = `local-${process.pid}-${req.runId}-${req.attempt}`;
    const existing = this.executions.get(externalId);
    if (existing) {
      // Re-submitting a live attempt is a retry of a call whose answer was lost: hand back the same execution.
      if (!existing.final) return { externalId };
      throw invalidRequest('local', `Attempt ${req.attempt} of run ${req.runId} already ran (${existing.final.state}); submit attempt ${req.attempt + 1} instead.`);
    }
    let resolveExited!: () => void;
    const exited = new Promise<void>((r) => (resolveExited = r));
    const exec: Execution = { externalId, req, shards: [], cancelled: false, exited, resolveExited };
    const size = arraySizeOf(req);
    for (let i = 0; i < size; i++) {
      exec.shards.push({
        exec, index: size > 1 ? i : undefined, phase: 'queued', status: { state: 'PENDING' }, knockOn: false, timedOut: false, timers: [],
      });
    }
    this.executions.set(externalId, exec);
    this.queue.push(...exec.shards);
    this.pump();
    return { externalId };
  }

  async cancel(externalId: string): Promise<void> {
    const exec = this.executions.get(externalId);
    if (!exec || exec.final) return;
    exec.cancelled = true;
    this.stopShards(exec, 'cancelled', 'cancelled before it started');
  }

  async describe(externalId: string): Promise<DispatchStatus> {
    const exec = this.executions.get(externalId);
    if (exec) return { ...(exec.final ?? this.setStatus(exec)) };
    const m = /^local-(\d+)-/.exec(externalId);
    if (m && Number(m[1]) !== process.pid) {
      return { state: 'UNKNOWN', reason: `started by another process (pid ${m[1]}); local executions do not survive a restart` };
    }
    return { state: 'UNKNOWN', reason: `no local execution ${externalId}` };
  }

  /** Resolves when the execution has finished, every child of an array job included (immediately for unknown or finished ids). */
  async waitForExit(externalId: string): Promise<DispatchStatus> {
    const exec = this.executions.get(externalId);
    if (exec) await exec.exited;
    return this.describe(externalId);
  }

  /** Cancels everything queued or running and waits for the children to exit (process shutdown, tests). */
  async close(): Promise<void> {
    const live = [...this.executions.values()].filter((e) => !e.final);
    await Promise.all(live.map((e) => this.cancel(e.externalId)));
    await Promise.all(live.map((e) => e.exited));
  }

  /** The execution's status now: its one child's, or the set's (aggregateArrayStatus). */
  private setStatus(exec: Execution): DispatchStatus {
    if (exec.shards.length === 1) return exec.shards[0]!.status;
    const ownFailure = exec.shards.some((s) => s.status.state === 'FAILED' && !s.knockOn);
    // A cancelled set is "cancelled", not "index 0 failed: cancelled" — unless a child had failed on its own first.
    if (exec.cancelled && !ownFailure) return { state: 'FAILED', reason: 'cancelled' };
    return aggregateArrayStatus(exec.shards.map((s) => ({ ...s.status, knockOn: s.knockOn })));
  }

  /** Stops every unfinished shard of the set: queued ones leave the queue, running ones get SIGTERM (then SIGKILL). */
  private stopShards(exec: Execution, reason: string, queuedReason: string): void {
    const queued = exec.shards.filter((s) => s.phase === 'queued');
    if (queued.length > 0) this.queue = this.queue.filter((s) => s.exec !== exec);
    for (const shard of exec.shards) {
      if (shard.phase === 'finished') continue;
      shard.knockOn = exec.shards.length > 1;
      shard.stopReason = reason;
      if (shard.phase === 'running') this.terminate(shard);
    }
    for (const shard of queued) this.finish(shard, { state: 'FAILED', reason: queuedReason });
  }

  private pump(): void {
    while (this.running < this.opts.maxConcurrent && this.queue.length > 0) {
      this.start(this.queue.shift()!);
    }
  }

  private start(shard: Shard): void {
    const { req, externalId } = shard.exec;
    const [file, ...args] = req.command;
    shard.phase = 'running';
    shard.status = { state: 'RUNNING' };
    this.running++;
    let child: ChildProcess;
    try {
      child = spawn(file!, args, {
        cwd: this.opts.cwd,
        env: { ...this.opts.baseEnv, ...arrayEnv(req, shard.index) },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Own process group, so cancel reaches whatever the trainer itself started.
        detached: process.platform !== 'win32',
      });
    } catch (err) {
      this.finish(shard, { state: 'FAILED', reason: `could not start ${file}: ${(err as Error).message}` });
      return;
    }
    shard.child = child;
    const index = shard.index === undefined ? {} : { index: shard.index };
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = child[stream];
      if (!source) continue;
      const rl = createInterface({ input: source, crlfDelay: Infinity });
      rl.on('line', (line) => this.opts.onOutput?.({ externalId, ...index, stream, line }));
    }
    let spawnError: Error | undefined;
    child.on('error', (err) => {
      spawnError = err;
      // A child that never started emits no 'close' on every Node version; finish here too (finish is idempotent).
      if (child.pid === undefined) this.finish(shard, { state: 'FAILED', reason: `could not start ${file}: ${err.message}` });
    });
    child.on('close', (code, signal) => {
      if (spawnError && child.pid === undefined) return;
      this.finish(shard, this.exitStatus(shard, code, signal));
    });
    const timeout = setTimeout(() => {
      shard.timedOut = true;
      this.terminate(shard);
    }, req.timeoutSeconds * 1000);
    timeout.unref();
    shard.timers.push(timeout);
  }

  private exitStatus(shard: Shard, code: number | null, signal: NodeJS.Signals | null): DispatchStatus {
    const withCode = code === null ? {} : { exitCode: code };
    if (shard.timedOut) return { state: 'FAILED', reason: `timed out after ${shard.exec.req.timeoutSeconds} s`, ...withCode };
    if (shard.stopReason) return { state: 'FAILED', reason: shard.stopReason, ...withCode };
    if (code === 0) return { state: 'SUCCEEDED', exitCode: 0 };
    if (code !== null) return { state: 'FAILED', reason: `exited with code ${code}`, exitCode: code };
    return { state: 'FAILED', reason: `killed by ${signal ?? 'unknown signal'}` };
  }

  /** SIGTERM now (the trainer may checkpoint), SIGKILL after the grace period if it is still there. */
  private terminate(shard: Shard): void {
    const child = shard.child;
    if (!child || shard.phase !== 'running') return;
    this.signal(child, 'SIGTERM');
    const kill = setTimeout(() => {
      if (shard.phase === 'running') this.signal(child, 'SIGKILL');
    }, this.killGraceMs);
    kill.unref();
    shard.timers.push(kill);
  }

  private signal(child: ChildProcess, sig: NodeJS.Signals): void {
    if (child.pid === undefined) return;
    try {
      if (process.platform !== 'win32') process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      // ESRCH: the group is already gone; 'close' will report the exit.
    }
  }

  private finish(shard: Shard, status: DispatchStatus): void {
    if (shard.phase === 'finished') return;
    if (shard.phase === 'running') this.running--;
    shard.phase = 'finished';
    shard.status = status;
    for (const t of shard.timers) clearTimeout(t);
    shard.timers = [];
    delete shard.child;
    const exec = shard.exec;
    // Fail fast: the first child failing on its own fails the set, so its siblings would only burn the machine.
    if (status.state === 'FAILED' && !shard.knockOn && exec.shards.length > 1) this.stopShards(exec, SIBLING_FAILED, SIBLING_FAILED);
    if (!exec.final && exec.shards.every((s) => s.phase === 'finished')) this.finishExecution(exec);
    this.pump();
  }

  private finishExecution(exec: Execution): void {
    const status = this.setStatus(exec);
    exec.final = status;
    this.finishedOrder.push(exec.externalId);
    while (this.finishedOrder.length > this.retainFinished) this.executions.delete(this.finishedOrder.shift()!);
    exec.resolveExited();
    this.opts.onExit?.(exec.externalId, { ...status });
  }
}
