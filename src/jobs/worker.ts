// The queue worker + supervisor loop: on every tick it dispatches due runs and runs one supervisor pass, then any
// periodic maintenance that is due (the dataset reconciler). It knows nothing of runs or datasets itself (the
// domain modules do); it owns timing, overlap and shutdown, so maintenance never overlaps itself or a tick.
import { unscoped } from '../db/scope';

export interface WorkerTasks {
  dispatchDue(): Promise<unknown>;
  supervise(): Promise<unknown>;
}

export interface WorkerOptions {
  pollMs: number;
  onError?: (err: unknown) => void;
}

interface PeriodicTask {
  name: string;
  everyMs: number;
  run: () => Promise<unknown>;
  lastRun: number;
}

export class JobWorker {
  private readonly periodic: PeriodicTask[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private again = false;

  constructor(
    private readonly tasks: WorkerTasks,
    private readonly opts: WorkerOptions,
  ) {
    if (!(opts.pollMs >= 10)) throw new Error(`pollMs must be ≥ 10, got ${opts.pollMs}; try 1000.`);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /**
   * Adds maintenance that runs at most every `everyMs`, inside a tick (after dispatch and supervision), first on
   * the first tick. A failure is reported through onError and does not stop the tick or the next run.
   */
  every(name: string, everyMs: number, run: () => Promise<unknown>): void {
    if (!(everyMs >= 10)) throw new Error(`${name}: everyMs must be ≥ 10, got ${everyMs}`);
    if (this.periodic.some((p) => p.name === name)) throw new Error(`periodic task "${name}" is already registered`);
    this.periodic.push({ name, everyMs, run, lastRun: -Infinity });
  }

  /** Runs a tick soon (a task exited, a run was created) instead of waiting for the next poll. */
  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /** One full tick, awaited (tests and shutdown use it). */
  async tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        await this.tasks.supervise();
        await this.tasks.dispatchDue();
      } catch (err) {
        this.opts.onError?.(err);
      }
      for (const p of this.periodic) {
        if (Date.now() - p.lastRun < p.everyMs) continue;
        p.lastRun = Date.now();
        try {
          await p.run();
        } catch (err) {
          this.opts.onError?.(err);
        }
      }
    })();
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    // Ticks span tenants: never in the row-level-security scope of whatever request poked the worker.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void unscoped(() => this.tick()).then(() => {
        if (this.stopped) return;
        const next = this.again ? 0 : this.opts.pollMs;
        this.again = false;
        this.schedule(next);
      });
    }, ms);
    this.timer.unref();
  }
}
