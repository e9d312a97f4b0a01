// Data access for tenants (platform-level rows; only the operator lists them).
import type { Db, Tenant } from '../../db/client';

type Tx = Pick<Db, 'tenant'>;

export class TenantRepository {
  constructor(private readonly db: Db) {}

  create(tx: Tx, data: { name: string; storageQuotaBytes?: bigint | null }): Promise<Tenant> {
    return tx.tenant.create({ data });
  }

  findById(id: string): Promise<Tenant | null> {
    return this.db.tenant.findUnique({ where: { id } });
  }

  /** Keyset pagination by id: stable under concurrent inserts, unlike offsets. */
  page(first: number, after?: string): Promise<Tenant[]> {
    return this.db.tenant.findMany({
      orderBy: { id: 'asc' },
      take: first + 1,
      ...(after ? { where: { id: { gt: after } } } : {}),
    });
  }
}
