// Data access for datasets, versions and files. Every query is scoped by tenantId; soft-deleted datasets are
// invisible to every read here.
import type { Dataset, DatasetFile, DatasetVersion, Db, Prisma } from '../../db/client';

type Tx = Prisma.TransactionClient;

export class DatasetRepository {
  constructor(private readonly db: Db) {}

  findDataset(tenantId: string, id: string): Promise<Dataset | null> {
    return this.db.dataset.findFirst({ where: { id, tenantId, deletedAt: null } });
  }

  page(tenantId: string, first: number, after?: string): Promise<Dataset[]> {
    return this.db.dataset.findMany({
      where: { tenantId, deletedAt: null, ...(after ? { id: { lt: after } } : {}) },
      orderBy: { id: 'desc' },
      take: first + 1,
    });
  }

  versions(tenantId: string, datasetId: string): Promise<DatasetVersion[]> {
    return this.db.datasetVersion.findMany({ where: { tenantId, datasetId }, orderBy: { version: 'desc' } });
  }

  latestVersion(tenantId: string, datasetId: string): Promise<DatasetVersion | null> {
    return this.db.datasetVersion.findFirst({ where: { tenantId, datasetId }, orderBy: { version: 'desc' } });
  }

  /** A version whose dataset is not deleted. */
  findVersion(tenantId: string, id: string, tx: Tx | Db = this.db): Promise<(DatasetVersion & { dataset: Dataset }) | null> {
    return tx.datasetVersion.findFirst({ where: { id, tenantId, dataset: { deletedAt: null } }, include: { dataset: true } });
  }

  files(tenantId: string, versionId: string): Promise<DatasetFile[]> {
    return this.db.datasetFile.findMany({ where: { tenantId, versionId }, orderBy: { name: 'asc' } });
  }

  findFile(tenantId: string, id: string): Promise<(DatasetFile & { version: DatasetVersion & { dataset: Dataset } }) | null> {
    return this.db.datasetFile.findFirst({
      where: { id, tenantId, version: { dataset: { deletedAt: null } } },
      include: { version: { include: { dataset: true } } },
    });
  }

  /** How many file rows (of any live or deleted dataset) still point at a stored object. */
  referencesTo(tenantId: string, storageKey: string, tx: Tx | Db = this.db): Promise<number> {
    return tx.datasetFile.count({ where: { tenantId, storageKey } });
  }

  /**
   * Bytes a tenant stores: each distinct uploaded blob once (identical files are stored once), in-flight multipart
   * uploads at their declared size (reserved), and every version's shards.
   */
  async storageUsed(tenantId: string, tx: Tx | Db = this.db): Promise<bigint> {
    const [files] = await tx.$queryRaw<Array<{ total: bigint | null }>>`
      SELECT COALESCE(SUM(bytes), 0)::bigint AS total FROM (
        SELECT DISTINCT ON (storage_key) bytes FROM dataset_files WHERE tenant_id = ${tenantId}::uuid
      ) f`;
    const [shards] = await tx.$queryRaw<Array<{ total: bigint | null }>>`
      SELECT COALESCE(SUM(shard_bytes), 0)::bigint AS total FROM dataset_versions WHERE tenant_id = ${tenantId}::uuid`;
    return (files?.total ?? 0n) + (shards?.total ?? 0n);
  }
}
