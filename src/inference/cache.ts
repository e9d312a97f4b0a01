/**
 * Loaded models cached per model version id within a memory budget, least recently used evicted first.
 *
 *   const cache = new SessionCache<LoadedModel>({ budgetBytes: 2 * 2 ** 30 });
 *   const model = await cache.get(id, onnxBytes.length, () => loadModel(...));   // loads once, even when
 *                                                                               // many callers ask at once
 *   await cache.evict(id);   await cache.clear();   cache.stats()
 *
 * Memory estimate: a model costs `ceil(modelBytes × sizeFactor)` bytes of the budget, sizeFactor 3 by default.
 * Why 3: onnxruntime keeps its own copy of every initializer (≈ 1× the file), graph optimization level 'all'
 * pre-packs Conv/Gemm weights into a second layout (up to ≈ 1× more), and the CPU arena holds activations of the
 * largest batch seen, which for the small encoders we export is of the order of the weights. Callers with
 * measured numbers pass their own factor. The budget is soft in two places, both bounded: a model being
 * evicted finishes its queued work before its session is released, and models still loading cannot be evicted
 * (so concurrent first loads of different models can overshoot until they finish).
 */
import { InferenceError } from './errors';

export interface Disposable {
  dispose(): Promise<void>;
}

export interface SessionCacheOptions {
  /** Total estimated bytes the cached models may use. */
  budgetBytes: number;
  /** Estimated bytes per model byte (default DEFAULT_SIZE_FACTOR). */
  sizeFactor?: number;
  /** Told about failed disposals (eviction never fails the request that caused it). */
  onDisposeError?: (id: string, error: unknown) => void;
}

export const DEFAULT_SIZE_FACTOR = 3;

type Entry<T> = { state: 'loading'; bytes: number; promise: Promise<T> } | { state: 'ready'; bytes: number; value: T };

export interface CacheStats {
  budgetBytes: number;
  usedBytes: number;
  /** Least recently used first. */
  entries: { id: string; bytes: number; state: 'loading' | 'ready' }[];
  loads: number;
  evictions: number;
}

export class SessionCache<T extends Disposable> {
  readonly budgetBytes: number;
  readonly sizeFactor: number;
  /** Map order is recency order: a hit re-inserts its entry at the end. */
  private readonly entries = new Map<string, Entry<T>>();
  private readonly disposals = new Set<Promise<void>>();
  private loads = 0;
  private evictions = 0;

  constructor(private readonly opts: SessionCacheOptions) {
    if (!(Number.isFinite(opts.budgetBytes) && opts.budgetBytes > 0)) {
      throw new RangeError(`budgetBytes must be a positive number of bytes, got ${opts.budgetBytes}; e.g. 2 * 2 ** 30 for 2 GiB.`);
    }
    const factor = opts.sizeFactor ?? DEFAULT_SIZE_FACTOR;
    if (!(Number.isFinite(factor) && factor >= 1)) {
      throw new RangeError(`sizeFactor must be ≥ 1 (a loaded model never takes less memory than its file), got ${factor}.`);
    }
    this.budgetBytes = opts.budgetBytes;
    this.sizeFactor = factor;
  }

  /** Estimated budget share of a model whose ONNX file has `modelBytes` bytes. */
  estimate(modelBytes: number): number {
    return Math.ceil(modelBytes * this.sizeFactor);
  }

  get usedBytes(): number {
    let used = 0;
    for (const e of this.entries.values()) used += e.bytes;
    return used;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /**
   * The cached model for `id`, or loads it with `load` (once: concurrent callers share one load). A failed load
   * is not cached, so the next call tries again. Rejects with MODEL_TOO_LARGE when the estimate alone exceeds the
   * budget.
   */
  get(id: string, modelBytes: number, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(id);
    if (hit) {
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit.state === 'ready' ? Promise.resolve(hit.value) : hit.promise;
    }
    const bytes = this.estimate(modelBytes);
    if (bytes > this.budgetBytes) {
      return Promise.reject(
        new InferenceError(
          'MODEL_TOO_LARGE',
          `Model ${id} needs an estimated ${bytes} bytes (${modelBytes} × ${this.sizeFactor}), more than the whole cache budget of ${this.budgetBytes}; raise the budget.`,
        ),
      );
    }
    this.makeRoom(bytes);
    this.loads++;
    const promise = (async () => load())().then(
      (value) => {
        const entry = this.entries.get(id);
        if (entry?.state === 'loading' && entry.promise === promise) this.entries.set(id, { state: 'ready', bytes, value });
        return value;
      },
      (error: unknown) => {
        const entry = this.entries.get(id);
        if (entry?.state === 'loading' && entry.promise === promise) this.entries.delete(id);
        throw error;
      },
    );
    this.entries.set(id, { state: 'loading', bytes, promise });
    return promise;
  }

  /** Drops a model (waiting for its load if one is running) and disposes it. Resolves false when it was absent. */
  async evict(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (!entry) return false;
    if (entry.state === 'loading') {
      try {
        await entry.promise;
      } catch {
        return false;
      }
      return this.evict(id);
    }
    this.entries.delete(id);
    this.evictions++;
    await this.dispose(id, entry.value);
    return true;
  }

  /** Evicts everything and waits for every disposal, including those of earlier LRU evictions. */
  async clear(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((id) => this.evict(id)));
    await Promise.all([...this.disposals]);
  }

  stats(): CacheStats {
    return {
      budgetBytes: this.budgetBytes,
      usedBytes: this.usedBytes,
      entries: [...this.entries].map(([id, e]) => ({ id, bytes: e.bytes, state: e.state })),
      loads: this.loads,
      evictions: this.evictions,
    };
  }

  /** Evicts ready models, least recently used first, until `bytes` more fit (or only loading ones remain). */
  private makeRoom(bytes: number): void {
    let used = this.usedBytes;
    for (const [id, entry] of [...this.entries]) {
      if (used + bytes <= this.budgetBytes) return;
      if (entry.state !== 'ready') continue;
      this.entries.delete(id);
      this.evictions++;
      used -= entry.bytes;
      // Not awaited: the caller's load should not wait for another model to drain its queue.
      void this.dispose(id, entry.value);
    }
  }

  private dispose(id: string, value: T): Promise<void> {
    const p = value
      .dispose()
      .catch((error: unknown) => this.opts.onDisposeError?.(id, error))
      .finally(() => this.disposals.delete(p));
    this.disposals.add(p);
    return p;
  }
}
