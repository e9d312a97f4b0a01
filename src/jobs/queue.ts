// The run queue. The `runs` table itself is the queue: a claim is the QUEUED → DISPATCHED transition (a conditional
// update, so two workers can never claim the same run), and a retry is DISPATCHED/RUNNING → QUEUED with
// `not_before`. Why not pg-boss: the job's state must change in the same row, atomically, as the run's status; a
// second queue table would need two-phase bookkeeping to stay in step with it (a job acked but the run not
// updated, or the reverse, after a crash). pg-boss also gives no per-tenant fairness and needs extra connections,
// which the embedded PGlite (one socket server) pays for. One indexed query over QUEUED rows does all three.
import { Prisma, type Db } from '../db/client';

export interface QueuedRun {
  id: string;
  tenantId: string;
}

/**
 * `tenantIds` limits the worker to some tenants (a dedicated pool for some tenants; tests sharing a database).
 * Up to `limit` runs that are due (QUEUED, backoff elapsed), fairly across tenants: each tenant's oldest run comes
 * before anyone's second, so a tenant with a backlog of hundreds never starves another tenant's first job. The
 * caller still claims each one with a conditional transition; a run someone else claimed first is simply skipped.
 */
export async function nextDueRuns(db: Db, limit: number, now = new Date(), tenantIds?: readonly string[]): Promise<QueuedRun[]> {
  if (limit <= 0 || tenantIds?.length === 0) return [];
  const scope = tenantIds ? Prisma.sql`AND tenant_id::text IN (${Prisma.join([...tenantIds])})` : Prisma.empty;
  const rows = await db.$queryRaw<Array<{ id: string; tenant_id: string }>>`
    SELECT id::text AS id, tenant_id::text AS tenant_id FROM (
      SELECT id, tenant_id, queued_at,
             row_number() OVER (PARTITION BY tenant_id ORDER BY queued_at, id) AS turn
        FROM runs
       WHERE status = 'QUEUED' AND (not_before IS NULL OR not_before <= ${now}) ${scope}
    ) due
    ORDER BY turn, queued_at, id
    LIMIT ${limit}`;
  return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id }));
}

/** Exponential backoff: base · 2^(attempt-1), capped at one hour. */
export function retryDelayMs(baseMs: number, attempt: number): number {
  return Math.min(3_600_000, baseMs * 2 ** Math.max(0, attempt - 1));
}
