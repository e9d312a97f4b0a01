/**
 * Dynamic micro-batching for one model: rows of concurrent requests are concatenated into one forward pass, and
 * each request gets exactly its own rows back, in order.
 *
 *   const b = new MicroBatcher(id, (rows, outputs) => session.run(packFeeds(spec, rows), outputs), opts);
 *   const { data, width } = await b.submit(rows, 'embedding');   // data: rows.length × width, row-major
 *   b.queuedRows; await b.close();
 *
 * Policy: a batch leaves when `maxBatchSize` rows are queued, or when the oldest queued row has waited
 * `maxWaitMs`; at most `maxInFlight` batches run at once (1 by default: onnxruntime already spreads one run over
 * every core). `maxWaitMs: 0` waits for no timer: what is queued leaves at the end of the current event-loop turn
 * (setImmediate), so the requests that arrived together still share a forward pass, and while every slot is busy
 * rows keep queueing and leave together when one frees (batches grow with the load, a lone request does not wait).
 * A request larger than maxBatchSize spans several batches. `submit` refuses with OverloadedError when the queue
 * would exceed `maxQueueRows` (bounded memory, fast feedback instead of unbounded latency).
 * Inputs are validated before submit; should a forward pass still fail with rows of several requests, each
 * request is re-run alone so only the one that fails gets the error.
 */
import { InferenceError, OverloadedError } from './errors';
import type { OutputTensor } from './onnx';

export interface BatcherOptions {
  maxBatchSize: number;
  maxWaitMs: number;
  maxQueueRows: number;
  maxInFlight: number;
}

export const DEFAULT_BATCHER_OPTIONS: BatcherOptions = { maxBatchSize: 64, maxWaitMs: 0, maxQueueRows: 4096, maxInFlight: 1 };

export type RunBatch<R> = (rows: R[], outputs: string[]) => Promise<Record<string, OutputTensor>>;

export interface BatchOutput {
  /** rows × width values, row-major, in the order the rows were submitted. */
  data: Float32Array;
  width: number;
}

interface Job<R> {
  rows: R[];
  output: string;
  /** Rows handed to a batch so far. */
  taken: number;
  done: number;
  data: Float32Array | null;
  width: number;
  enqueuedAt: number;
  settled: boolean;
  resolve: (out: BatchOutput) => void;
  reject: (error: unknown) => void;
}

interface Slot<R> {
  job: Job<R>;
  row: number;
}

export interface BatcherStats {
  batches: number;
  rows: number;
  /** Largest batch run so far. */
  maxBatch: number;
}

export function resolveBatcherOptions(partial: Partial<BatcherOptions> = {}): BatcherOptions {
  const o = { ...DEFAULT_BATCHER_OPTIONS, ...partial };
  const positiveInt = (key: keyof BatcherOptions, hint: string) => {
    if (!(Number.isInteger(o[key]) && o[key] >= 1)) throw new RangeError(`${key} must be an integer ≥ 1, got ${o[key]}; ${hint}.`);
  };
  positiveInt('maxBatchSize', 'e.g. 64');
  positiveInt('maxQueueRows', 'e.g. 4096');
  positiveInt('maxInFlight', 'use 1 unless the model is too small to keep the cores busy');
  if (!(Number.isFinite(o.maxWaitMs) && o.maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be ≥ 0 milliseconds, got ${o.maxWaitMs}; e.g. 2.`);
  if (o.maxQueueRows < o.maxBatchSize) {
    throw new RangeError(`maxQueueRows (${o.maxQueueRows}) must be ≥ maxBatchSize (${o.maxBatchSize}) or no batch could ever fill; raise maxQueueRows.`);
  }
  return o;
}

export class MicroBatcher<R> {
  readonly options: BatcherOptions;
  private queue: Job<R>[] = [];
  private queued = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  /** maxWaitMs 0: the end-of-turn flush armed, and whether the queued rows have seen a turn end. */
  private immediate: NodeJS.Immediate | null = null;
  private turnEnded = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly counters: BatcherStats = { batches: 0, rows: 0, maxBatch: 0 };

  constructor(
    readonly id: string,
    private readonly run: RunBatch<R>,
    options: Partial<BatcherOptions> = {},
  ) {
    this.options = resolveBatcherOptions(options);
  }

  get queuedRows(): number {
    return this.queued;
  }

  stats(): BatcherStats {
    return { ...this.counters };
  }

  submit(rows: readonly R[], output: string): Promise<BatchOutput> {
    if (this.closed) return Promise.reject(new InferenceError('CLOSED', `Model ${this.id} was unloaded; retry to load it again.`));
    if (rows.length === 0) return Promise.resolve({ data: new Float32Array(0), width: 0 });
    if (this.queued + rows.length > this.options.maxQueueRows) {
      return Promise.reject(new OverloadedError(this.id, this.queued, this.options.maxQueueRows));
    }
    return new Promise<BatchOutput>((resolve, reject) => {
      this.queue.push({ rows: [...rows], output, taken: 0, done: 0, data: null, width: 0, enqueuedAt: Date.now(), settled: false, resolve, reject });
      this.queued += rows.length;
      this.schedule();
    });
  }

  /** Refuses new work, then resolves once queued and running batches are done. */
  close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    this.schedule(); // flush what is queued now rather than after maxWaitMs
    return this.whenIdle();
  }

  private whenIdle(): Promise<void> {
    if (this.queued === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.queued === 0) {
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    if (this.inFlight >= this.options.maxInFlight) return;
    const eager = this.options.maxWaitMs === 0;
    const waited = Date.now() - this.queue[0].enqueuedAt;
    // A closing batcher flushes at once: nobody else will join the batch.
    if (this.queued >= this.options.maxBatchSize || this.closed || (eager ? this.turnEnded : waited >= this.options.maxWaitMs)) {
      this.clearTimer();
      this.turnEnded = false;
      this.dispatch();
      this.schedule(); // maxInFlight > 1 may start another right away
      return;
    }
    if (eager) {
      this.immediate ??= setImmediate(() => {
        this.immediate = null;
        this.turnEnded = true;
        this.schedule();
      });
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, this.options.maxWaitMs - waited);
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
  }

  private dispatch(): void {
    const slots: Slot<R>[] = [];
    while (slots.length < this.options.maxBatchSize && this.queue.length) {
      const job = this.queue[0];
      const n = Math.min(job.rows.length - job.taken, this.options.maxBatchSize - slots.length);
      for (let i = 0; i < n; i++) slots.push({ job, row: job.taken + i });
      job.taken += n;
      if (job.taken === job.rows.length) this.queue.shift();
    }
    this.queued -= slots.length;
    this.inFlight++;
    this.counters.batches++;
    this.counters.rows += slots.length;
    this.counters.maxBatch = Math.max(this.counters.maxBatch, slots.length);
    void this.execute(slots);
  }

  /** Ends a batch's slot and starts the next batch, if one is due. */
  private release(): void {
    this.inFlight--;
    this.schedule();
  }

  private async execute(slots: Slot<R>[]): Promise<void> {
    const outputs = [...new Set(slots.map((s) => s.job.output))];
    let result: Record<string, OutputTensor>;
    try {
      result = await this.run(
        slots.map((s) => s.job.rows[s.row]),
        outputs,
      );
    } catch (error) {
      await this.isolate(slots, error);
      this.release();
      return;
    }
    // Start the next batch before handing results out, so the callers' postprocessing overlaps the next run.
    this.release();
    slots.forEach((slot, i) => this.deliver(slot, result, i, slots.length));
  }

  /** After a failed batch: re-runs each request's rows of it alone, so only a request that fails again gets an error. */
  private async isolate(slots: Slot<R>[], error: unknown): Promise<void> {
    const jobs = [...new Set(slots.map((s) => s.job))];
    if (jobs.length === 1) return this.fail(jobs[0], error);
    for (const job of jobs) {
      const own = slots.filter((s) => s.job === job);
      try {
        const result = await this.run(
          own.map((s) => job.rows[s.row]),
          [job.output],
        );
        own.forEach((slot, i) => this.deliver(slot, result, i, own.length));
      } catch (e) {
        this.fail(job, e);
      }
    }
  }

  private deliver(slot: Slot<R>, result: Record<string, OutputTensor>, i: number, batch: number): void {
    const { job } = slot;
    if (job.settled) return;
    const out = result[job.output];
    if (!out || out.type !== 'float32' || out.dims.length !== 2 || out.dims[0] !== batch) {
      return this.fail(job, new Error(`Output "${job.output}" is ${out ? `${out.type} [${out.dims}]` : 'missing'}; expected float32 [${batch}, width]`));
    }
    const width = out.dims[1];
    if (!job.data) {
      job.data = new Float32Array(job.rows.length * width);
      job.width = width;
    }
    job.data.set(out.data.subarray(i * width, (i + 1) * width), slot.row * width);
    job.done++;
    if (job.done === job.rows.length) {
      job.settled = true;
      job.resolve({ data: job.data, width });
    }
  }

  private fail(job: Job<R>, error: unknown): void {
    if (job.settled) return;
    job.settled = true;
    // Rows of this job still queued would be wasted work.
    const at = this.queue.indexOf(job);
    if (at >= 0) {
      this.queue.splice(at, 1);
      this.queued -= job.rows.length - job.taken;
    }
    job.reject(error);
  }
}
