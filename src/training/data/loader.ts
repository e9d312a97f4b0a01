// One-batch-ahead prefetching. Batch N + 1 (sampling, augmentation, masking: plain typed-array work) is queued on the
// event loop as soon as batch N is handed out, so it runs whenever the training step yields: while a native or GPU
// backend computes asynchronously it overlaps the step. wasm and cpu compute synchronously on the JS thread, so
// there it runs between steps (TrainResult.dataWaitSeconds shows how long); moving it to worker threads is the next
// step if that share matters.
export type BatchMaker<B> = (step: number) => B | Promise<B>;

export class PrefetchLoader<B> {
  private pending: { step: number; batch: Promise<B> } | null = null;

  constructor(private readonly make: BatchMaker<B>, private readonly endStep: number) {}

  /** The batch for `step` (any step; sequential calls hit the prefetched one). */
  async get(step: number): Promise<B> {
    const batch = this.pending && this.pending.step === step ? this.pending.batch : this.start(step);
    if (step + 1 < this.endStep) {
      const next = this.start(step + 1);
      // A failed prefetch must not crash the process as an unhandled rejection; it re-throws when awaited.
      next.catch(() => undefined);
      this.pending = { step: step + 1, batch: next };
    } else {
      this.pending = null;
    }
    return batch;
  }

  private start(step: number): Promise<B> {
    return new Promise<B>((resolve, reject) => {
      setImmediate(() => {
        try {
          resolve(this.make(step));
        } catch (e) {
          reject(e);
        }
      });
    });
  }
}
