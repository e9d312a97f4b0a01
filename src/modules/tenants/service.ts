// Tenant lifecycle (platform operator only): creating a tenant also creates its first ADMIN key, atomically.
import type { Db, Tenant } from '../../db/client';
import { isUniqueViolation } from '../../db/errors';
import { badInput, conflict, forbidden } from '../../errors';
import { generateApiKey } from '../apikeys/secrets';
import { recordAudit } from '../audit/service';
import { actorOf, type Principal } from '../auth/principal';

const TENANT_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const MAX_PAGE = 200;

export class TenantService {
  constructor(private readonly db: Db) {}

  private assertOperator(p: Principal): void {
    if (p.kind !== 'operator') throw forbidden('Only the platform operator may manage tenants');
  }

  async create(p: Principal, input: { name: string; storageQuotaBytes?: bigint | null }): Promise<{ tenant: Tenant; adminKey: string }> {
    this.assertOperator(p);
    const problems = [];
    if (!TENANT_NAME.test(input.name)) {
      problems.push({ path: 'input.name', message: '1-63 characters: lowercase letters, digits and dashes, starting with a letter' });
    }
    if (input.storageQuotaBytes != null && input.storageQuotaBytes < 0n) {
      problems.push({ path: 'input.storageQuotaBytes', message: 'must be zero or more bytes' });
    }
    if (problems.length) throw badInput('Invalid tenant', problems);
    const key = generateApiKey();
    try {
      return await this.db.$transaction(async (tx) => {
        const tenant = await tx.tenant.create({ data: { name: input.name, storageQuotaBytes: input.storageQuotaBytes ?? null } });
        const apiKey = await tx.apiKey.create({ data: { tenantId: tenant.id, name: 'admin', role: 'ADMIN', prefix: key.prefix, secretHash: key.hash } });
        await recordAudit(tx, { tenantId: tenant.id, actor: actorOf(p), action: 'tenant.create', targetType: 'Tenant', targetId: tenant.id });
        await recordAudit(tx, { tenantId: tenant.id, actor: actorOf(p), action: 'apiKey.create', targetType: 'ApiKey', targetId: apiKey.id, data: { role: 'ADMIN' } });
        return { tenant, adminKey: key.secret };
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`A tenant named "${input.name}" already exists`);
      throw err;
    }
  }

  async list(p: Principal, first: number, after?: string | null): Promise<{ nodes: Tenant[]; endCursor: string | null; hasNextPage: boolean }> {
    this.assertOperator(p);
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput(`first must be between 1 and ${MAX_PAGE}`);
    // Keyset pagination by id: stable under concurrent inserts, unlike offsets.
    const rows = await this.db.tenant.findMany({ orderBy: { id: 'asc' }, take: first + 1, ...(after ? { where: { id: { gt: after } } } : {}) });
    const nodes = rows.slice(0, first);
    return { nodes, endCursor: nodes.at(-1)?.id ?? null, hasNextPage: rows.length > first };
  }

  get(id: string): Promise<Tenant | null> {
    return this.db.tenant.findUnique({ where: { id } });
  }
}
