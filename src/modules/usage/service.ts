// Metering a tenant can read about itself: storage held now, training seconds and inference inputs over a window.
// Storage comes from the datasets' own accounting (the figure quotas are checked against), training from run
// timings, inference from the usage records the model service writes (flushed every few seconds).
import type { Db } from '../../db/client';
import { badInput } from '../../errors';
import { requireTenant, type Principal } from '../auth/principal';

const DEFAULT_WINDOW_MS = 30 * 24 * 3600 * 1000;

export interface TenantUsage {
  since: Date;
  until: Date;
  storageBytes: bigint;
  storageQuotaBytes: bigint;
  trainingSeconds: number;
  inferenceInputs: bigint;
}

export class UsageService {
  constructor(
    private readonly db: Db,
    private readonly storage: (p: Principal) => Promise<{ usedBytes: bigint; quotaBytes: bigint }>,
    /** Writes inference usage still held in memory, so a read sees every served input. */
    private readonly flushInference: () => Promise<void>,
  ) {}

  async usage(p: Principal, since?: Date | null): Promise<TenantUsage> {
    const t = requireTenant(p, 'READER');
    // Flushed first, so the window's end (taken after) covers the records just written.
    await this.flushInference();
    const until = new Date();
    const from = since ?? new Date(until.getTime() - DEFAULT_WINDOW_MS);
    if (Number.isNaN(from.getTime()) || from > until) throw badInput('since must be a time in the past');
    const [storage, training, inference] = await Promise.all([
      this.storage(p),
      // Seconds of each run's (last) attempt that fall inside the window; running attempts count up to now.
      this.db.$queryRaw<Array<{ seconds: number | null }>>`
        SELECT COALESCE(SUM(EXTRACT(EPOCH FROM (LEAST(COALESCE(finished_at, ${until}), ${until}) - GREATEST(started_at, ${from})))), 0)::float8 AS seconds
        FROM runs
        WHERE tenant_id = ${t.tenantId}::uuid AND started_at IS NOT NULL AND started_at < ${until}
          AND (finished_at IS NULL OR finished_at > ${from})`,
      this.db.usageRecord.aggregate({ _sum: { quantity: true }, where: { tenantId: t.tenantId, kind: 'inference.inputs', createdAt: { gte: from, lte: until } } }),
    ]);
    return {
      since: from,
      until,
      storageBytes: storage.usedBytes,
      storageQuotaBytes: storage.quotaBytes,
      trainingSeconds: Math.max(0, training[0]?.seconds ?? 0),
      inferenceInputs: inference._sum.quantity ?? 0n,
    };
  }
}
