// Per-tenant rate limits: a request bucket (every GraphQL operation and /v1/embeddings call of a tenant key) and
// an inference-input bucket (inputs of embed / predict / similar). Limits are per tenant, shared by all of the
// tenant's keys and all gateway instances; the operator overrides them per tenant, null falling back to the
// platform default.
import type { Db, Tenant } from '../../db/client';
import { badInput, forbidden, notFound, rateLimited } from '../../errors';
import { recordAudit } from '../audit/service';
import { actorOf, type Principal } from '../auth/principal';
import type { BucketKind } from './buckets';
import type { BucketTaker } from './lease';

export interface RateLimitDefaults {
  /** 0 = no platform default (only tenants with an override are limited). */
  requestsPerMinute: number;
  inferenceInputsPerMinute: number;
}

export interface TenantLimits {
  requestsPerMinute: number | null;
  inferenceInputsPerMinute: number | null;
  requestsPerMinuteIsDefault: boolean;
  inferenceInputsPerMinuteIsDefault: boolean;
}

/** Largest per-minute limit an operator may set (keeps the float bucket arithmetic exact). */
const MAX_PER_MINUTE = 100_000_000;

const WHAT: Record<BucketKind, { noun: string; setting: string }> = {
  requests: { noun: 'requests', setting: 'requestsPerMinute' },
  inference: { noun: 'inference inputs', setting: 'inferenceInputsPerMinute' },
};

export class RateLimitService {
  constructor(
    private readonly db: Db,
    private readonly buckets: BucketTaker,
    private readonly defaults: RateLimitDefaults,
    /** Called with every decision (Prometheus counters). */
    private readonly observe: (kind: BucketKind, allowed: boolean, cost: number) => void = () => undefined,
  ) {}

  /** Takes `cost` from the tenant's bucket or throws RATE_LIMITED with the seconds until it would pass. */
  async consume(tenantId: string, kind: BucketKind, cost = 1): Promise<void> {
    const fallback = kind === 'requests' ? this.defaults.requestsPerMinute : this.defaults.inferenceInputsPerMinute;
    const r = await this.buckets.take(tenantId, kind, cost, fallback);
    this.observe(kind, r.allowed, cost);
    if (r.allowed || r.perMinute === null) return;
    const needed = Math.min(cost, r.perMinute) - r.available;
    const retryAfterSeconds = Math.max(1, Math.ceil((needed * 60) / r.perMinute));
    const { noun, setting } = WHAT[kind];
    throw rateLimited(
      `Rate limit of ${r.perMinute} ${noun} per minute reached for this tenant${kind === 'inference' ? ` (this request has ${cost})` : ''}; retry in ${retryAfterSeconds} s.`,
      retryAfterSeconds,
      { limit: { name: setting, perMinute: r.perMinute } },
    );
  }

  limitsOf(t: Pick<Tenant, 'requestsPerMinute' | 'inferenceInputsPerMinute'>): TenantLimits {
    const orDefault = (v: number | null, d: number) => v ?? (d > 0 ? d : null);
    return {
      requestsPerMinute: orDefault(t.requestsPerMinute, this.defaults.requestsPerMinute),
      inferenceInputsPerMinute: orDefault(t.inferenceInputsPerMinute, this.defaults.inferenceInputsPerMinute),
      requestsPerMinuteIsDefault: t.requestsPerMinute === null,
      inferenceInputsPerMinuteIsDefault: t.inferenceInputsPerMinute === null,
    };
  }

  /** Operator only. null = the platform default; the tenant's buckets restart full at the new capacity. */
  async setTenantLimits(
    p: Principal,
    input: { tenantId: string; requestsPerMinute?: number | null; inferenceInputsPerMinute?: number | null },
  ): Promise<Tenant> {
    if (p.kind !== 'operator') throw forbidden('Only the platform operator may set tenant limits');
    const problems = (['requestsPerMinute', 'inferenceInputsPerMinute'] as const).flatMap((f) => {
      const v = input[f];
      return v != null && (!Number.isInteger(v) || v < 1 || v > MAX_PER_MINUTE)
        ? [{ path: `input.${f}`, message: `must be an integer from 1 to ${MAX_PER_MINUTE}, or null for the platform default` }]
        : [];
    });
    if (problems.length) throw badInput('Invalid tenant limits', problems);
    if (!/^[0-9a-f-]{36}$/i.test(input.tenantId)) throw notFound('Tenant', input.tenantId);
    const data = { requestsPerMinute: input.requestsPerMinute ?? null, inferenceInputsPerMinute: input.inferenceInputsPerMinute ?? null };
    const tenant = await this.db.$transaction(async (tx) => {
      const found = await tx.tenant.findUnique({ where: { id: input.tenantId } });
      if (!found) throw notFound('Tenant', input.tenantId);
      const updated = await tx.tenant.update({ where: { id: input.tenantId }, data });
      await tx.rateBucket.deleteMany({ where: { tenantId: input.tenantId } });
      await recordAudit(tx, { tenantId: input.tenantId, actor: actorOf(p), action: 'tenant.setLimits', targetType: 'Tenant', targetId: input.tenantId, data });
      return updated;
    });
    this.buckets.forget?.(input.tenantId);
    return tenant;
  }
}
