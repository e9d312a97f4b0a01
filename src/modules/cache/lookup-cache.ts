// A small TTL cache for database lookups on the serving path (API keys by prefix, model references, model names),
// with one lookup per key in flight.
//
// Why single flight: under load, when an entry expires every request in flight misses it at once; on the embedded
// database's one connection (and with row-level security, four round trips per statement) hundreds of identical
// lookups queued behind each other and the tail went to seconds (docs/serving.md section 6).
//
// Why `delete` detaches a lookup in flight: a revocation or an alias switch must take effect in this process at once.
// A lookup that started before the change may finish after it; its result is handed to the callers that were already
// waiting for it (their requests began before the change) but is never stored, so no later request sees it.
export interface LookupCacheOptions {
  ttlMs: number;
  /** Oldest entries are dropped beyond this many (default 10 000). */
  maxEntries?: number;
  now?: () => number;
}

export class LookupCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private readonly flights = new Map<string, Promise<V>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(opts: LookupCacheOptions) {
    if (!(opts.ttlMs >= 0)) throw new Error('ttlMs must be ≥ 0');
    this.ttlMs = opts.ttlMs;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** The fresh cached value, or undefined (expired entries are dropped). */
  peek(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** The cached value, else the result of `load`, shared by every caller of the key while it runs. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const e = this.entries.get(key);
    if (e && e.expires > this.now()) return Promise.resolve(e.value);
    const pending = this.flights.get(key);
    if (pending) return pending;
    const flight: Promise<V> = load()
      .then((value) => {
        // Stored only if nobody deleted the key (or started a newer lookup) meanwhile.
        if (this.flights.get(key) === flight) this.set(key, value);
        return value;
      })
      .finally(() => {
        if (this.flights.get(key) === flight) this.flights.delete(key);
      });
    this.flights.set(key, flight);
    return flight;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
  }

  /** Drops the entry and detaches any lookup in flight for it. */
  delete(key: string): void {
    this.entries.delete(key);
    this.flights.delete(key);
  }

  /** `delete` for every key that starts with `prefix` (e.g. all of one tenant's references). */
  deletePrefix(prefix: string): void {
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.entries.delete(k);
    for (const k of [...this.flights.keys()]) if (k.startsWith(prefix)) this.flights.delete(k);
  }
}
