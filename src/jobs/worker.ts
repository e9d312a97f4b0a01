// The queue worker + supervisor loop: on every tick it dispatches due runs and runs one supervisor pass. It knows
// nothing of runs itself (the lifecycle in modules/runs does); it owns timing, overlap and shutdown.
export interface WorkerTasks {
  dispatchDue(): Promise<unknown>;
  supervise(): Promise<unknown>;
}

export interface WorkerOptions {
  pollMs: number;
  onError?: (err: unknown) => void;
}

export class JobWorker {
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
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick().then(() => {
        if (this.stopped) return;
        const next = this.again ? 0 : this.opts.pollMs;
        this.again = false;
        this.schedule(next);
      });
    }, ms);
    this.timer.unref();
  }
}
