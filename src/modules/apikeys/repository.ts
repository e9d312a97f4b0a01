// Data access for API keys. Every tenant-facing query is scoped by tenantId.
import type { ApiKey, ApiKeyRole, Db } from '../../db/client';

type Tx = Pick<Db, 'apiKey'>;

export class ApiKeyRepository {
  constructor(private readonly db: Db) {}

  create(
    tx: Tx,
    data: { tenantId: string; name: string; role: ApiKeyRole; prefix: string; secretHash: string; expiresAt?: Date | null; createdByKeyId?: string | null },
  ): Promise<ApiKey> {
    return tx.apiKey.create({ data });
  }

  /** Auth lookup by the public prefix: the only unscoped read, and it is followed by a hash check. */
  findByPrefix(prefix: string): Promise<ApiKey | null> {
    return this.db.apiKey.findUnique({ where: { prefix } });
  }

  listForTenant(tenantId: string, includeRevoked: boolean): Promise<ApiKey[]> {
    return this.db.apiKey.findMany({
      where: { tenantId, ...(includeRevoked ? {} : { revokedAt: null }) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    });
  }

  findForTenant(tenantId: string, id: string): Promise<ApiKey | null> {
    return this.db.apiKey.findFirst({ where: { id, tenantId } });
  }

  /** Revokes only a key of this tenant that is not revoked yet; returns null when there is none. */
  async revoke(tx: Tx, tenantId: string, id: string, at: Date): Promise<ApiKey | null> {
    const { count } = await tx.apiKey.updateMany({ where: { id, tenantId, revokedAt: null }, data: { revokedAt: at } });
    if (count === 0) return null;
    return tx.apiKey.findFirst({ where: { id, tenantId } });
  }

  async touchLastUsed(id: string, at: Date): Promise<void> {
    await this.db.apiKey.update({ where: { id }, data: { lastUsedAt: at } });
  }
}
