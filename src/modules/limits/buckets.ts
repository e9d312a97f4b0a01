// Token buckets in Postgres, so every gateway instance draws from the same buckets. One statement per request:
// refill by elapsed time, take the cost if enough is there, and report what was available otherwise. The row lock
// taken by INSERT … ON CONFLICT DO UPDATE serializes concurrent takers of one bucket.
import type { Db } from '../../db/client';

export type BucketKind = 'requests' | 'inference';

export interface TakeResult {
  /** null: no limit applies (no tenant row, or no limit configured anywhere). */
  perMinute: number | null;
  allowed: boolean;
  /** Tokens in the bucket before this take (after refill). */
  available: number;
}

/** The shared buckets themselves (RateLimitService reaches them through LeasedBuckets). */
export class PostgresBuckets {
  constructor(private readonly db: Db) {}

  /**
   * Takes `cost` tokens from the tenant's `kind` bucket. Capacity is one minute's worth of the tenant's limit (its
   * override, else `fallbackPerMinute`; 0 = unlimited). A cost larger than the capacity passes only from a full
   * bucket and leaves it in debt, so huge requests are possible but the rate over time still holds.
   */
  async take(tenantId: string, kind: BucketKind, cost: number, fallbackPerMinute: number): Promise<TakeResult> {
    const key = `${kind}:${tenantId}`;
    // EXCLUDED.tokens is the fresh-bucket value (capacity − cost), so capacity = EXCLUDED.tokens + cost below.
    const rows = await this.db.$queryRaw<Array<{ per_minute: number | null; taken: number | null; available: number | null }>>`
      WITH cap AS (
        SELECT COALESCE(CASE WHEN ${kind} = 'requests' THEN t.requests_per_minute ELSE t.inference_inputs_per_minute END,
                        NULLIF(${fallbackPerMinute}::int, 0))::float8 AS per_minute
        FROM tenants t WHERE t.id = ${tenantId}::uuid
      ), up AS (
        INSERT INTO rate_buckets AS b (key, tenant_id, tokens, updated_at)
        SELECT ${key}, ${tenantId}::uuid, cap.per_minute - ${cost}::float8, now() FROM cap WHERE cap.per_minute IS NOT NULL
        ON CONFLICT (key) DO UPDATE SET
          tokens = LEAST(EXCLUDED.tokens + ${cost}::float8,
                         b.tokens + EXTRACT(EPOCH FROM (now() - b.updated_at))::float8 * (EXCLUDED.tokens + ${cost}::float8) / 60.0) - ${cost}::float8,
          updated_at = now()
        WHERE LEAST(EXCLUDED.tokens + ${cost}::float8,
                    b.tokens + EXTRACT(EPOCH FROM (now() - b.updated_at))::float8 * (EXCLUDED.tokens + ${cost}::float8) / 60.0)
              >= LEAST(${cost}::float8, EXCLUDED.tokens + ${cost}::float8)
        RETURNING b.tokens
      )
      SELECT (SELECT per_minute FROM cap) AS per_minute,
             (SELECT tokens FROM up) AS taken,
             (SELECT LEAST(cap.per_minute, r.tokens + EXTRACT(EPOCH FROM (now() - r.updated_at))::float8 * cap.per_minute / 60.0)
                FROM rate_buckets r, cap WHERE r.key = ${key}) AS available`;
    const row = rows[0];
    const perMinute = row?.per_minute ?? null;
    if (perMinute === null) return { perMinute: null, allowed: true, available: Infinity };
    // `available` reads the snapshot before this statement's write: for a taken bucket it is the pre-take level.
    const allowed = row!.taken !== null;
    return { perMinute, allowed, available: row!.available ?? perMinute };
  }
}
