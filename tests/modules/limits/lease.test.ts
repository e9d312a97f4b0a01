// Local leases over the shared token buckets (src/modules/limits/lease.ts), against the real Postgres buckets
// (DATABASE_URL, else embedded PGlite). Two LeasedBuckets objects over one database stand for two gateway instances.
// `Counted` is a pass-through over the real repository that counts the statements the leases cause; nothing is
// stubbed.
import { randomUUID } from 'node:crypto';
import { openDatabase, type Database } from '../../../src/db';
import { LeasedBuckets, type BucketTaker } from '../../../src/modules/limits/lease';
import { PostgresBuckets, type BucketKind } from '../../../src/modules/limits/buckets';
import { testDatabaseConfig } from '../../helpers/db';

class Counted implements BucketTaker {
  calls = 0;
  costs: number[] = [];
  /** While set, every statement waits for it first (a slow database), still running the real one afterwards. */
  gate: Promise<void> | null = null;
  private readonly pending: Promise<unknown>[] = [];
  constructor(private readonly inner: PostgresBuckets) {}
  take(tenantId: string, kind: BucketKind, cost: number, fallback: number) {
    this.calls++;
    this.costs.push(cost);
    const gate = this.gate;
    const run = (async () => {
      if (gate) await gate;
      return this.inner.take(tenantId, kind, cost, fallback);
    })();
    this.pending.push(run);
    return run;
  }
  /** Resolves once every statement started so far has answered (background renewals included). */
  async settled(): Promise<void> {
    await Promise.allSettled(this.pending);
  }
}

describe('leased rate buckets', () => {
  let db: Database;
  let shared: Counted;

  beforeAll(async () => {
    db = await openDatabase(testDatabaseConfig());
    shared = new Counted(new PostgresBuckets(db.prisma));
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });

  const tenant = async (requestsPerMinute: number | null) =>
    (await db.prisma.tenant.create({ data: { name: `lease-${randomUUID()}`, requestsPerMinute } })).id;

  test('two instances never hand out more than the shared bucket holds, and lose at most one lease each', async () => {
    const id = await tenant(120); // capacity 120; a lease is 1 s of it = 2 tokens
    const a = new LeasedBuckets(shared, { ttlMs: 60_000 });
    const b = new LeasedBuckets(shared, { ttlMs: 60_000 });
    let allowed = 0;
    const started = Date.now();
    for (let i = 0; i < 200; i++) if ((await (i % 2 ? a : b).take(id, 'requests', 1, 0)).allowed) allowed++;
    // The shared bucket refills at 2 tokens a second while the loop runs.
    const refilled = Math.ceil(((Date.now() - started) / 1000) * 2);
    expect(allowed).toBeLessThanOrEqual(120 + refilled);
    expect(allowed).toBeGreaterThanOrEqual(120 - 2 * 2);
    // Past the limit each refusal comes from the shared bucket, with the rate it knows.
    const refused = await a.take(id, 'requests', 1, 0);
    expect(refused).toMatchObject({ allowed: false, perMinute: 120 });
  });

  test('a busy tenant costs one statement per lease, not per request; concurrent requests share one refill', async () => {
    const id = await tenant(60_000); // a lease = 1 000 tokens
    const leases = new LeasedBuckets(shared, { ttlMs: 60_000 });
    const before = shared.calls;
    const results = await Promise.all(Array.from({ length: 300 }, () => leases.take(id, 'requests', 1, 0)));
    expect(results.every((r) => r.allowed && r.perMinute === 60_000)).toBe(true);
    // The first take learns the rate (one statement), the second draws a lease that covers the remaining 298.
    expect(shared.calls - before).toBe(2);
    const bucket = await db.prisma.rateBucket.findUniqueOrThrow({ where: { key: `requests:${id}` } });
    // 1 + 1 000 tokens left the shared bucket (refill over the test's milliseconds adds a little back).
    expect(bucket.tokens).toBeGreaterThanOrEqual(60_000 - 1001);
    expect(bucket.tokens).toBeLessThan(60_000 - 1001 + 60);
  });

  test('no limit is remembered for the time to live; forget() drops what an instance holds', async () => {
    const id = await tenant(null);
    let clock = 0;
    const leases = new LeasedBuckets(shared, { ttlMs: 1000, now: () => clock });
    const before = shared.calls;
    for (let i = 0; i < 50; i++) expect(await leases.take(id, 'requests', 1, 0)).toEqual({ perMinute: null, allowed: true, available: Infinity });
    expect(shared.calls - before).toBe(1);
    clock = 1001;
    await leases.take(id, 'requests', 1, 0);
    expect(shared.calls - before).toBe(2);
    // The operator sets a limit: the instance that ran setTenantLimits forgets, and the next take sees the limit.
    await db.prisma.tenant.update({ where: { id }, data: { requestsPerMinute: 1 } });
    leases.forget(id);
    expect(await leases.take(id, 'requests', 1, 0)).toMatchObject({ allowed: true, perMinute: 1 });
    expect(await leases.take(id, 'requests', 1, 0)).toMatchObject({ allowed: false, perMinute: 1 });
  });

  test('a request larger than a lease takes exactly its cost, so debt and refusals behave as without leases', async () => {
    const id = await tenant(10);
    const leases = new LeasedBuckets(shared);
    const otherInstance = new LeasedBuckets(shared);
    await db.prisma.tenant.update({ where: { id }, data: { inferenceInputsPerMinute: 10 } });
    expect((await leases.take(id, 'inference', 20, 0)).allowed).toBe(true); // from a full bucket: passes into debt
    const after = await otherInstance.take(id, 'inference', 1, 0);
    expect(after.allowed).toBe(false);
    expect(after.available).toBeLessThan(0);
  });

  test('a busy tenant renews its lease in the background: no request waits for the refill, holdings stay within one lease', async () => {
    const id = await tenant(60_000); // a lease = 1 000 tokens
    let clock = 0;
    const leases = new LeasedBuckets(shared, { ttlMs: 1000, now: () => clock });
    await leases.take(id, 'requests', 1, 0); // learns the rate
    await leases.take(id, 'requests', 1, 0); // draws a lease
    const before = shared.calls;
    clock = 600; // past half the time to live
    let release!: () => void;
    shared.gate = new Promise<void>((r) => { release = r; });
    try {
      // The renewal this take starts is held at the gate; takes keep being served from the lease meanwhile.
      const served = await Promise.all(Array.from({ length: 20 }, () => leases.take(id, 'requests', 1, 0)));
      expect(served.every((r) => r.allowed)).toBe(true);
      expect(shared.calls - before).toBe(1); // one renewal in flight, not one per request
      clock = 900;
      expect((await leases.take(id, 'requests', 1, 0)).allowed).toBe(true);
    } finally {
      release();
      shared.gate = null;
    }
    await shared.settled();
    // The top-up drew what the lease had spent (it held 998 when the renewal started), never more than a lease.
    expect(shared.costs.at(-1)).toBe(1000 - 998);
    clock = 1500; // the first lease's expiry has passed; the renewed one serves
    const next = await leases.take(id, 'requests', 1, 0);
    expect(next.allowed).toBe(true);
    expect(next.available).toBeLessThanOrEqual(1000);
  });

  test('small limits are never drawn ahead: one statement per request, exactly the limit passes', async () => {
    const id = await tenant(3); // a lease would be one token
    let clock = 0;
    const leases = new LeasedBuckets(shared, { ttlMs: 1000, now: () => clock });
    const before = shared.calls;
    const results = [];
    for (let i = 0; i < 4; i++) {
      clock += 600;
      results.push((await leases.take(id, 'requests', 1, 0)).allowed);
    }
    expect(results).toEqual([true, true, true, false]);
    expect(shared.calls - before).toBe(4);
  });

  test('an unlimited tenant is re-checked in the background; a limit set meanwhile applies from the renewal on', async () => {
    const id = await tenant(null);
    let clock = 0;
    const leases = new LeasedBuckets(shared, { ttlMs: 1000, now: () => clock });
    expect((await leases.take(id, 'requests', 1, 0)).perMinute).toBeNull();
    await db.prisma.tenant.update({ where: { id }, data: { requestsPerMinute: 1 } });
    clock = 600;
    expect((await leases.take(id, 'requests', 1, 0)).perMinute).toBeNull(); // served from memory; renewal starts
    await shared.settled();
    // The renewal took the one token the limit allows; the next request is refused by the shared bucket.
    expect(await leases.take(id, 'requests', 1, 0)).toMatchObject({ allowed: true, perMinute: 1 });
    expect(await leases.take(id, 'requests', 1, 0)).toMatchObject({ allowed: false, perMinute: 1 });
  });
});
