// API key management inside one tenant. Keys are created and revoked by the tenant's ADMIN keys only; a key from
// another tenant sees NOT_FOUND, never a hint that the id exists. Every query is scoped by tenantId.
import type { ApiKey, ApiKeyRole, Db } from '../../db/client';
import { isUuid } from '../../db/errors';
import { badInput, forbidden, notFound } from '../../errors';
import { recordAudit } from '../audit/service';
import { actorOf, roleAtLeast, type Principal, type TenantPrincipal } from '../auth/principal';
import type { ApiKeyCache } from './cache';
import { generateApiKey } from './secrets';

function requireAdmin(p: Principal): TenantPrincipal {
  if (p.kind !== 'tenant') throw forbidden('API keys belong to a tenant: call with a tenant ADMIN key');
  if (!roleAtLeast(p.role, 'ADMIN')) throw forbidden('Managing API keys needs an ADMIN key');
  return p;
}

export class ApiKeyService {
  constructor(
    private readonly db: Db,
    private readonly cache: ApiKeyCache,
  ) {}

  async create(p: Principal, input: { name: string; role: ApiKeyRole; expiresAt?: Date | null }, now = new Date()): Promise<{ apiKey: ApiKey; secret: string }> {
    const admin = requireAdmin(p);
    const problems = [];
    const name = input.name.trim();
    if (name.length < 1 || name.length > 100) problems.push({ path: 'input.name', message: 'must be 1-100 characters' });
    if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) problems.push({ path: 'input.expiresAt', message: 'must be in the future' });
    if (problems.length) throw badInput('Invalid API key request', problems);
    const key = generateApiKey();
    const apiKey = await this.db.$transaction(async (tx) => {
      const row = await tx.apiKey.create({
        data: {
          tenantId: admin.tenantId,
          name,
          role: input.role,
          prefix: key.prefix,
          secretHash: key.hash,
          expiresAt: input.expiresAt ?? null,
          createdByKeyId: admin.apiKeyId,
        },
      });
      await recordAudit(tx, { tenantId: admin.tenantId, actor: actorOf(p), action: 'apiKey.create', targetType: 'ApiKey', targetId: row.id, data: { role: input.role } });
      return row;
    });
    return { apiKey, secret: key.secret };
  }

  list(p: Principal, includeRevoked: boolean): Promise<ApiKey[]> {
    return this.db.apiKey.findMany({
      where: { tenantId: requireAdmin(p).tenantId, ...(includeRevoked ? {} : { revokedAt: null }) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    });
  }

  async get(p: Principal, id: string): Promise<ApiKey> {
    const admin = requireAdmin(p);
    const row = isUuid(id) ? await this.db.apiKey.findFirst({ where: { id, tenantId: admin.tenantId } }) : null;
    if (!row) throw notFound('API key', id);
    return row;
  }

  async revoke(p: Principal, id: string, now = new Date()): Promise<ApiKey> {
    const admin = requireAdmin(p);
    if (!isUuid(id)) throw notFound('API key', id);
    return this.db.$transaction(async (tx) => {
      const existing = await tx.apiKey.findFirst({ where: { id, tenantId: admin.tenantId } });
      if (!existing) throw notFound('API key', id);
      if (existing.revokedAt) return existing; // revoking twice is a no-op, not an error
      // Revokes only a key of this tenant that is not revoked yet (a concurrent revoke wins once).
      const { count } = await tx.apiKey.updateMany({ where: { id, tenantId: admin.tenantId, revokedAt: null }, data: { revokedAt: now } });
      const row = count === 0 ? null : await tx.apiKey.findFirst({ where: { id, tenantId: admin.tenantId } });
      if (!row) throw notFound('API key', id);
      await recordAudit(tx, { tenantId: admin.tenantId, actor: actorOf(p), action: 'apiKey.revoke', targetType: 'ApiKey', targetId: id });
      return row;
    }).then((row) => {
      this.cache.forget(row.prefix);
      return row;
    });
  }

  /** For `viewer`: the caller's own key row. */
  async self(p: TenantPrincipal): Promise<ApiKey | null> {
    return this.db.apiKey.findFirst({ where: { id: p.apiKeyId, tenantId: p.tenantId } });
  }
}
