// The one Prisma client factory. Prisma 7 is engine-free: queries go through the `pg` driver adapter.
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client';

export type Db = PrismaClient;
export { Prisma } from './generated/client';
export type { ApiKey, Tenant, AuditEvent } from './generated/client';
export { ApiKeyRole } from './generated/enums';

export function createPrismaClient(url: string, poolSize: number): Db {
  const adapter = new PrismaPg({ connectionString: url, max: poolSize });
  return new PrismaClient({ adapter });
}
