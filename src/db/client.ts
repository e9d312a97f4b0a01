// The one Prisma client factory. Prisma 7 is engine-free: queries go through the `pg` driver adapter.
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client';
import { unbatchScopedQueries, withRowLevelSecurity } from './rls';

export type Db = PrismaClient;
export { Prisma } from './generated/client';
export type { ApiKey, Tenant, AuditEvent, Dataset, DatasetVersion, DatasetFile, UsageRecord, Experiment, Run, MetricPoint, RunLog, Model, ModelVersion, ModelAlias, EmbeddingSpace } from './generated/client';
export { ApiKeyRole, Modality, DatasetVersionStatus, DatasetFileStatus, Pretext, RunKind, RunStatus, EmbeddingSpaceStatus } from './generated/enums';

export function createPrismaClient(url: string, poolSize: number): Db {
  // Statements issued inside a DbScope (src/db/scope.ts) run as pretext_app / pretext_operator under row-level security.
  const adapter = withRowLevelSecurity(new PrismaPg({ connectionString: url, max: poolSize }));
  const client = new PrismaClient({ adapter });
  unbatchScopedQueries(client);
  return client;
}
