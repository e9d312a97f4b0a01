import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { invalidRequest } from './errors';
import type { Dispatcher, DispatchRequest, DispatchStatus, LocalDispatcherOptions } from './types';
import { validateRequest } from './validate';

type Phase = 'queued' | 'running' | 'finished';

interface Execution {
  externalId: string;
  req: DispatchRequest;
  phase: Phase;
  status: DispatchStatus;
  child?: ChildProcess;
  cancelled: boolean;
  timedOut: boolean;
  timers: NodeJS.Timeout[];
  exited: Promise<void>;
  resolveExited: () => void;
}

const DEFAULT_KILL_GRACE_MS = 10_000;
const DEFAULT_RETAIN_FINISHED = 1000;

/**
 * Runs trainers as child processes of this process (the zero-config default). The id embeds this process's pid
 * (`local-<pid>-<runId>-<attempt>`): after a restart the children are gone, and describe() says UNKNOWN for ids
 * minted by another process instead of pretending they still run.
 *
 * Resources are advisory here (no cgroup limits); bounded concurrency is what keeps a laptop usable.
 */
export class LocalDispatcher implements Dispatcher {
  readonly name = 'local' as const;
  private readonly executions = new Map<string, Execution>();
  private readonly queue: Execution[] = [];
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
      if (existing.phase !== 'finished') return { externalId };
      throw invalidRequest('local', `Attempt ${req.attempt} of run ${req.runId} already ran (${existing.status.state}); submit attempt ${req.attempt + 1} instead.`);
    }
    let resolveExited!: () => void;
    const exited = new Promise<void>((r) => (resolveExited = r));
    const exec: Execution = {
      externalId, req, phase: 'queued', status: { state: 'PENDING' }, cancelled: false, timedOut: false, timers: [],
      exited, resolveExited,
    };
    this.executions.set(externalId, exec);
    this.queue.push(exec);
    this.pump();
    return { externalId };
  }

  async cancel(externalId: string): Promise<void> {
    const exec = this.executions.get(externalId);
    if (!exec || exec.phase === 'finished') return;
    exec.cancelled = true;
    if (exec.phase === 'queued') {
      this.queue.splice(this.queue.indexOf(exec), 1);
      this.finish(exec, { state: 'FAILED', reason: 'cancelled before it started' });
      return;
    }
    this.terminate(exec);
  }

  async describe(externalId: string): Promise<DispatchStatus> {
    const exec = this.executions.get(externalId);
    if (exec) return { ...exec.status };
    const m = /^local-(\d+)-/.exec(externalId);
    if (m && Number(m[1]) !== process.pid) {
      return { state: 'UNKNOWN', reason: `started by another process (pid ${m[1]}); local executions do not survive a restart` };
    }
    return { state: 'UNKNOWN', reason: `no local execution ${externalId}` };
  }

  /** Resolves when the execution has finished (immediately for unknown or finished ids). */
  async waitForExit(externalId: string): Promise<DispatchStatus> {
    const exec = this.executions.get(externalId);
    if (exec) await exec.exited;
    return this.describe(externalId);
  }

  /** Cancels everything queued or running and waits for the children to exit (process shutdown, tests). */
  async close(): Promise<void> {
    const live = [...this.executions.values()].filter((e) => e.phase !== 'finished');
    await Promise.all(live.map((e) => this.cancel(e.externalId)));
    await Promise.all(live.map((e) => e.exited));
  }

  private pump(): void {
    while (this.running < this.opts.maxConcurrent && this.queue.length > 0) {
      this.start(this.queue.shift()!);
    }
  }

  private start(exec: Execution): void {
    const [file, ...args] = exec.req.command;
    exec.phase = 'running';
    exec.status = { state: 'RUNNING' };
    this.running++;
    let child: ChildProcess;
    try {
      child = spawn(file!, args, {
        cwd: this.opts.cwd,
        env: { ...this.opts.baseEnv, ...exec.req.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Own process group, so cancel reaches whatever the trainer itself started.
        detached: process.platform !== 'win32',
      });
    } catch (err) {
      this.finish(exec, { state: 'FAILED', reason: `could not start ${file}: ${(err as Error).message}` });
      return;
    }
    exec.child = child;
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = child[stream];
      if (!source) continue;
      const rl = createInterface({ input: source, crlfDelay: Infinity });
      rl.on('line', (line) => this.opts.onOutput?.({ externalId: exec.externalId, stream, line }));
    }
    let spawnError: Error | undefined;
    child.on('error', (err) => {
      spawnError = err;
      // A child that never started emits no 'close' on every Node version; finish here too (finish is idempotent).
      if (child.pid === undefined) this.finish(exec, { state: 'FAILED', reason: `could not start ${file}: ${err.message}` });
    });
    child.on('close', (code, signal) => {
      if (spawnError && child.pid === undefined) return;
      this.finish(exec, this.exitStatus(exec, code, signal));
    });
    const timeout = setTimeout(() => {
      exec.timedOut = true;
      this.terminate(exec);
    }, exec.req.timeoutSeconds * 1000);
    timeout.unref();
    exec.timers.push(timeout);
  }

  private exitStatus(exec: Execution, code: number | null, signal: NodeJS.Signals | null): DispatchStatus {
    const withCode = code === null ? {} : { exitCode: code };
    if (exec.timedOut) return { state: 'FAILED', reason: `timed out after ${exec.req.timeoutSeconds} s`, ...withCode };
    if (exec.cancelled) return { state: 'FAILED', reason: 'cancelled', ...withCode };
    if (code === 0) return { state: 'SUCCEEDED', exitCode: 0 };
    if (code !== null) return { state: 'FAILED', reason: `exited with code ${code}`, exitCode: code };
    return { state: 'FAILED', reason: `killed by ${signal ?? 'unknown signal'}` };
  }

  /** SIGTERM now (the trainer may checkpoint), SIGKILL after the grace period if it is still there. */
  private terminate(exec: Execution): void {
    const child = exec.child;
    if (!child || exec.phase !== 'running') return;
    this.signal(child, 'SIGTERM');
    const kill = setTimeout(() => {
      if (exec.phase === 'running') this.signal(child, 'SIGKILL');
    }, this.killGraceMs);
    kill.unref();
    exec.timers.push(kill);
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

  private finish(exec: Execution, status: DispatchStatus): void {
    if (exec.phase === 'finished') return;
    if (exec.phase === 'running') this.running--;
    exec.phase = 'finished';
    exec.status = status;
    for (const t of exec.timers) clearTimeout(t);
    exec.timers = [];
    delete exec.child;
    this.finishedOrder.push(exec.externalId);
    while (this.finishedOrder.length > this.retainFinished) this.executions.delete(this.finishedOrder.shift()!);
    exec.resolveExited();
    this.opts.onExit?.(exec.externalId, { ...status });
    this.pump();
  }
}
