// Local leases over the shared Postgres buckets: one gateway instance draws about a second's worth of a tenant's
// tokens in one statement and serves the next requests from memory, instead of one round trip per request.
//
// Why: on the embed path every request took two bucket statements (requests + inference inputs). On the embedded
// database (one session) those statements queue behind each other and behind every other query, and they were the
// largest share of the gateway's per-request time left after the GraphQL work. A lease keeps the limit shared by all
// instances (tokens still come only from the Postgres bucket) at the cost of precision bounded by one lease:
//   - an instance holds at most `leaseSeconds` of the tenant's rate (never less than the request's own cost), for at
//     most `ttlMs`; tokens it does not spend in that time expire unused, so the rate over time can only be stricter;
//   - small limits stay exact: at 3 requests per minute a second's worth rounds to one token, i.e. one take per request;
//   - "no limit applies" is remembered for `ttlMs` too, so an unlimited tenant costs no statement per request;
//   - setTenantLimits forgets the tenant's leases on the instance that ran it; other instances see it within `ttlMs`.
// A request the lease cannot cover falls back to taking exactly its cost, so refusals and retryAfterSeconds are
// computed from the shared bucket exactly as without leases.
//
// Renewal ahead: a request served from a lease that is half spent or past half its time to live tops the lease up
// to one lease's worth in the background (one statement in flight per key), so a steadily busy tenant does not wait
// for a refill every second: every request of the tenant queued behind that refill, which showed in the tail at half
// load. The bounds stay: an instance never holds more than one lease's worth, tokens still come only from the shared
// bucket, and a lease that is not used again expires unused (for a tenant that stops, up to one lease drawn ahead of
// need is lost, i.e. the rate over time can only be stricter). Leases of one token (small limits, or requests as
// large as a lease) are never renewed ahead, so small limits stay exact.
import type { BucketKind, TakeResult } from './buckets';

/** What RateLimitService needs from a bucket store (PostgresBuckets in buckets.ts, or leases over it). */
export interface BucketTaker {
  take(tenantId: string, kind: BucketKind, cost: number, fallbackPerMinute: number): Promise<TakeResult>;
  /** Drops any locally held state for the tenant (after its limits change). */
  forget?(tenantId: string): void;
}

export interface LeaseOptions {
  /** Seconds of the tenant's per-minute rate drawn per lease (default 1). */
  leaseSeconds?: number;
  /** How long a lease (or an "unlimited" answer) is trusted (default 1000 ms). */
  ttlMs?: number;
  now?: () => number;
}

interface Lease {
  perMinute: number | null;
  tokens: number;
  expiresAt: number;
}

/** Tokens a lease of this rate holds (at least the request's own cost). */
function leaseSize(perMinute: number, leaseSeconds: number, cost: number): number {
  return Math.max(cost, Math.ceil((perMinute * leaseSeconds) / 60));
}

export class LeasedBuckets implements BucketTaker {
  private readonly leases = new Map<string, Lease>();
  private readonly refilling = new Map<string, Promise<void>>();
  private readonly leaseSeconds: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly shared: BucketTaker, opts: LeaseOptions = {}) {
    this.leaseSeconds = opts.leaseSeconds ?? 1;
    this.ttlMs = opts.ttlMs ?? 1000;
    this.now = opts.now ?? Date.now;
    if (!(this.leaseSeconds >= 0) || !(this.ttlMs >= 0)) throw new Error('leaseSeconds and ttlMs must be ≥ 0.');
  }

  async take(tenantId: string, kind: BucketKind, cost: number, fallbackPerMinute: number): Promise<TakeResult> {
    const key = `${kind}:${tenantId}`;
    for (;;) {
      const lease = this.leases.get(key);
      if (lease && lease.expiresAt > this.now()) {
        if (lease.perMinute === null) {
          this.renewAhead(key, tenantId, kind, cost, fallbackPerMinute, lease);
          return { perMinute: null, allowed: true, available: Infinity };
        }
        if (lease.tokens >= cost) {
          lease.tokens -= cost;
          this.renewAhead(key, tenantId, kind, cost, fallbackPerMinute, lease);
          return { perMinute: lease.perMinute, allowed: true, available: lease.tokens + cost };
        }
      }
      // One refill per key at a time: concurrent requests wait for it and then look at the lease again.
      const pending = this.refilling.get(key);
      if (pending) {
        await pending;
        continue;
      }
      let result!: TakeResult;
      const refill = this.refill(key, tenantId, kind, cost, fallbackPerMinute, lease).then((r) => { result = r; });
      this.refilling.set(key, refill);
      try {
        await refill;
      } finally {
        this.refilling.delete(key);
      }
      return result;
    }
  }

  forget(tenantId: string): void {
    for (const kind of ['requests', 'inference'] as const) this.leases.delete(`${kind}:${tenantId}`);
  }

  /** Starts a background top-up of `lease` when it is half spent or half way to expiry (see the header). */
  private renewAhead(key: string, tenantId: string, kind: BucketKind, cost: number, fallback: number, lease: Lease): void {
    if (this.refilling.has(key)) return;
    const now = this.now();
    const old = now - (lease.expiresAt - this.ttlMs) >= this.ttlMs / 2;
    let draw: number;
    if (lease.perMinute === null) {
      if (!old) return;
      draw = cost;
    } else {
      const size = leaseSize(lease.perMinute, this.leaseSeconds, cost);
      if (size < 2 * cost || !(old || lease.tokens < size / 2)) return;
      draw = size - lease.tokens;
      if (draw < 1) return;
    }
    const renewal = this.shared
      .take(tenantId, kind, draw, fallback)
      .then((r) => {
        // forget() (or a newer lease) replaced this one meanwhile: what was drawn is dropped, which is only stricter.
        if (this.leases.get(key) !== lease) return;
        const expiresAt = this.now() + this.ttlMs;
        if (r.perMinute === null) this.leases.set(key, { perMinute: null, tokens: 0, expiresAt });
        else if (r.allowed) this.leases.set(key, { perMinute: r.perMinute, tokens: (lease.perMinute === null ? 0 : lease.tokens) + draw, expiresAt });
        else if (lease.perMinute === null) this.leases.set(key, { perMinute: r.perMinute, tokens: 0, expiresAt: 0 });
        // A refused top-up keeps the lease as it is: its tokens are spent, then requests ask the shared bucket.
      })
      // A failing database shows on the next synchronous refill, with the request that needs it.
      .catch(() => undefined)
      .finally(() => this.refilling.delete(key));
    this.refilling.set(key, renewal);
  }

  /** Takes this request's cost plus (when the rate is known) a lease from the shared bucket. */
  private async refill(key: string, tenantId: string, kind: BucketKind, cost: number, fallback: number, old: Lease | undefined): Promise<TakeResult> {
    const perMinute = old?.perMinute ?? null;
    const chunk = perMinute === null ? cost : leaseSize(perMinute, this.leaseSeconds, cost);
    let r = await this.shared.take(tenantId, kind, chunk, fallback);
    let leased = chunk;
    if (!r.allowed && chunk > cost) {
      r = await this.shared.take(tenantId, kind, cost, fallback);
      leased = cost;
    }
    const expiresAt = this.now() + this.ttlMs;
    if (r.perMinute === null) {
      this.leases.set(key, { perMinute: null, tokens: 0, expiresAt });
      return r;
    }
    // A refused take leaves no lease (the next request asks the shared bucket again), but remembers the rate.
    this.leases.set(key, { perMinute: r.perMinute, tokens: r.allowed ? leased - cost : 0, expiresAt: r.allowed ? expiresAt : 0 });
    return r;
  }
}
