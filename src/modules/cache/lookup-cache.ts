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
//
// Why refresh ahead (`refreshAfterMs`): even with one lookup in flight, every request of a key waited for that
// lookup when the entry expired, a stall every TTL that showed in the tail at half load. A hit on an entry older than
// refreshAfterMs answers from the cache and starts the lookup in the background, so a busy key never waits; an entry
// is still never served past its TTL, so what another process changed is seen within the TTL as before. A failed
// background lookup is dropped (the entry stays until its TTL; the caller after that looks up and sees the error).
export interface LookupCacheOptions {
  ttlMs: number;
  /** Age from which a hit also refreshes the entry in the background (default: never, i.e. only on expiry). */
  refreshAfterMs?: number;
  /** Oldest entries are dropped beyond this many (default 10 000). */
  maxEntries?: number;
  now?: () => number;
}

export class LookupCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private readonly flights = new Map<string, Promise<V>>();
  private readonly ttlMs: number;
  private readonly refreshAfterMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(opts: LookupCacheOptions) {
    if (!(opts.ttlMs >= 0)) throw new Error('ttlMs must be ≥ 0');
    this.ttlMs = opts.ttlMs;
    this.refreshAfterMs = opts.refreshAfterMs ?? Infinity;
    if (!(this.refreshAfterMs >= 0)) throw new Error('refreshAfterMs must be ≥ 0');
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
    const now = this.now();
    if (e && e.expires > now) {
      if (now - (e.expires - this.ttlMs) >= this.refreshAfterMs && !this.flights.has(key)) {
        this.start(key, load).catch(() => undefined);
      }
      return Promise.resolve(e.value);
    }
    return this.flights.get(key) ?? this.start(key, load);
  }

  private start(key: string, load: () => Promise<V>): Promise<V> {
    const flight: Promise<V> = new Promise<V>((resolve) => resolve(load())) // a synchronous throw rejects too
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
