// The one Prisma client factory. Prisma 7 is engine-free: queries go through the `pg` driver adapter.
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client';

export type Db = PrismaClient;
export { Prisma } from './generated/client';
export type { ApiKey, Tenant, AuditEvent, Dataset, DatasetVersion, DatasetFile, UsageRecord, Experiment, Run, MetricPoint, RunLog, Model, ModelVersion, ModelAlias, EmbeddingSpace } from './generated/client';
export { ApiKeyRole, Modality, DatasetVersionStatus, DatasetFileStatus, Pretext, RunKind, RunStatus, EmbeddingSpaceStatus } from './generated/enums';

export function createPrismaClient(url: string, poolSize: number): Db {
  const adapter = new PrismaPg({ connectionString: url, max: poolSize });
  return new PrismaClient({ adapter });
}
