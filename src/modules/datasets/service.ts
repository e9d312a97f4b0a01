// Datasets, versions and files for one tenant: creation, reads, finalization and deletion, with the rules that
// keep READY versions immutable and storage accounted for. Every query is scoped by tenantId; soft-deleted datasets
// are invisible to every read.
import type { Logger } from 'pino';
import type { Dataset, DatasetFile, DatasetVersion, Db, Modality, Prisma } from '../../db/client';
import { isUniqueViolation, isUuid } from '../../db/errors';
import { badInput, conflict, notFound } from '../../errors';
import { ingestStoreFrom, previewVersion, readManifest, validateShape, type Manifest, type PreviewItem, type RowShape } from '../../ingest';
import type { ObjectStore } from '../../storage';
import { recordAudit } from '../audit/service';
import { actorOf, requireTenant, type Principal } from '../auth/principal';
import { fileNameProblem, versionPrefix } from './keys';
import type { DatasetProcessor } from './processor';
import type { DatasetReconciler } from './reconciler';
import type { UploadService } from './uploads';
import { SUBMITTING } from '../../jobs/platform/driver';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const MAX_PAGE = 100;

export interface VersionInput {
  datasetId: string;
  image?: { height: number; width: number; channels: number } | null;
  sequence?: { length?: number | null; features: number; sampleRate?: number | null } | null;
  split?: { validation?: number | null; test?: number | null; seed?: string | null } | null;
}

export class DatasetService {
  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
    readonly uploads: UploadService,
    readonly processor: DatasetProcessor,
    private readonly log: Logger,
    /** Orphan clean-up after crashes; the worker tick runs it (platform.ts). */
    readonly reconciler: DatasetReconciler,
    /** DATASET_PROCESSING=job: stops a version's processing job (the dispatcher's cancel) before its rows go. */
    private readonly cancelJob?: (externalId: string) => Promise<void>,
  ) {}

  private liveDataset(tenantId: string, id: string): Promise<Dataset | null> {
    return this.db.dataset.findFirst({ where: { id, tenantId, deletedAt: null } });
  }

  /** A version whose dataset is not deleted. */
  private liveVersion(tenantId: string, id: string): Promise<(DatasetVersion & { dataset: Dataset }) | null> {
    return this.db.datasetVersion.findFirst({ where: { id, tenantId, dataset: { deletedAt: null } }, include: { dataset: true } });
  }

  async create(p: Principal, input: { name: string; modality: Modality; description?: string | null }): Promise<Dataset> {
    const t = requireTenant(p, 'MEMBER');
    const problems = [];
    if (!NAME.test(input.name)) problems.push({ path: 'input.name', message: '1-100 characters: letters, digits, . _ -, starting with a letter or digit' });
    if (input.description && input.description.length > 2000) problems.push({ path: 'input.description', message: 'at most 2000 characters' });
    if (problems.length) throw badInput('Invalid dataset', problems);
    try {
      return await this.db.$transaction(async (tx) => {
        const d = await tx.dataset.create({ data: { tenantId: t.tenantId, name: input.name, modality: input.modality, description: input.description ?? null } });
        await recordAudit(tx, { tenantId: t.tenantId, actor: actorOf(p), action: 'dataset.create', targetType: 'Dataset', targetId: d.id });
        return d;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`A dataset named "${input.name}" already exists`);
      throw err;
    }
  }

  async list(p: Principal, first: number, after?: string | null): Promise<{ nodes: Dataset[]; endCursor: string | null; hasNextPage: boolean }> {
    const t = requireTenant(p, 'READER');
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput(`first must be between 1 and ${MAX_PAGE}`);
    if (after && !isUuid(after)) throw badInput('after is not a cursor from this API');
    const rows = await this.db.dataset.findMany({
      where: { tenantId: t.tenantId, deletedAt: null, ...(after ? { id: { lt: after } } : {}) },
      orderBy: { id: 'desc' },
      take: first + 1,
    });
    const nodes = rows.slice(0, first);
    return { nodes, endCursor: nodes.at(-1)?.id ?? null, hasNextPage: rows.length > first };
  }

  async get(p: Principal, id: string): Promise<Dataset> {
    const t = requireTenant(p, 'READER');
    const d = isUuid(id) ? await this.liveDataset(t.tenantId, id) : null;
    if (!d) throw notFound('Dataset', id);
    return d;
  }

  versions(d: Dataset): Promise<DatasetVersion[]> {
    return this.db.datasetVersion.findMany({ where: { tenantId: d.tenantId, datasetId: d.id }, orderBy: { version: 'desc' } });
  }

  latestVersion(d: Dataset): Promise<DatasetVersion | null> {
    return this.db.datasetVersion.findFirst({ where: { tenantId: d.tenantId, datasetId: d.id }, orderBy: { version: 'desc' } });
  }

  async getVersion(p: Principal, id: string, role: 'READER' | 'MEMBER' = 'READER'): Promise<DatasetVersion & { dataset: Dataset }> {
    const t = requireTenant(p, role);
    const v = isUuid(id) ? await this.liveVersion(t.tenantId, id) : null;
    if (!v) throw notFound('Dataset version', id);
    return v;
  }

  files(v: DatasetVersion): Promise<DatasetFile[]> {
    return this.db.datasetFile.findMany({ where: { tenantId: v.tenantId, versionId: v.id }, orderBy: { name: 'asc' } });
  }

  async createVersion(p: Principal, input: VersionInput): Promise<DatasetVersion> {
    const t = requireTenant(p, 'MEMBER');
    const d = isUuid(input.datasetId) ? await this.liveDataset(t.tenantId, input.datasetId) : null;
    if (!d) throw notFound('Dataset', input.datasetId);
    let shape: RowShape;
    try {
      shape = validateShape(this.shapeFor(d.modality, input));
    } catch (err) {
      throw badInput(`Invalid shape: ${(err as Error).message}`);
    }
    const split = input.split ?? {};
    for (const [k, v] of Object.entries({ validation: split.validation, test: split.test })) {
      if (v != null && !(v >= 0 && v < 1)) throw badInput(`split.${k} must be in [0, 1)`);
    }
    if ((split.validation ?? 0.1) + (split.test ?? 0.1) >= 1) throw badInput('split.validation + split.test must be below 1');
    const splitRule = Object.fromEntries(Object.entries(split).filter(([, v]) => v != null));
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.$transaction(async (tx) => {
          const last = await tx.datasetVersion.findFirst({ where: { datasetId: d.id }, orderBy: { version: 'desc' }, select: { version: true } });
          const v = await tx.datasetVersion.create({
            data: {
              tenantId: t.tenantId,
              datasetId: d.id,
              version: (last?.version ?? 0) + 1,
              status: 'UPLOADING',
              shape: shape as unknown as Prisma.InputJsonValue,
              splitRule: splitRule as Prisma.InputJsonValue,
            },
          });
          await recordAudit(tx, { tenantId: t.tenantId, actor: actorOf(p), action: 'datasetVersion.create', targetType: 'DatasetVersion', targetId: v.id });
          return v;
        });
      } catch (err) {
        // Two concurrent creations picked the same number: take the next one.
        if (isUniqueViolation(err) && attempt < 3) continue;
        throw err;
      }
    }
  }

  private shapeFor(modality: Modality, input: VersionInput): RowShape {
    switch (modality) {
      case 'TEXT':
        if (input.image || input.sequence) throw new RangeError('TEXT datasets take neither image nor sequence shapes');
        return { modality: 'TEXT' };
      case 'IMAGE':
        if (!input.image) throw new RangeError('IMAGE datasets need image: { height, width, channels }');
        return { modality: 'IMAGE', height: input.image.height, width: input.image.width, channels: input.image.channels as 1 | 3 };
      case 'SEQUENCE':
        if (!input.sequence) throw new RangeError('SEQUENCE datasets need sequence: { length, features }');
        return {
          modality: 'SEQUENCE', length: input.sequence.length ?? null, features: input.sequence.features,
          ...(input.sequence.sampleRate != null ? { sampleRate: input.sequence.sampleRate } : {}),
        };
    }
  }

  private async uploadingVersion(p: Principal, versionId: string): Promise<DatasetVersion> {
    const v = await this.getVersion(p, versionId, 'MEMBER');
    if (v.status !== 'UPLOADING') throw conflict(`Version ${v.version} is ${v.status}; files can only be added while it is UPLOADING (create a new version)`);
    return v;
  }

  private checkName(name: string): void {
    const problem = fileNameProblem(name);
    if (problem) throw badInput(`Invalid file name "${name}": ${problem}`, [{ path: 'name', message: problem }]);
  }

  async uploadFile(
    p: Principal,
    versionId: string,
    upload: Promise<{ filename: string; mimetype: string; createReadStream(): NodeJS.ReadableStream }>,
    name?: string | null,
  ): Promise<DatasetFile> {
    const v = await this.uploadingVersion(p, versionId);
    const file = await upload;
    const fileName = name ?? file.filename;
    const stream = file.createReadStream() as import('node:stream').Readable;
    try {
      this.checkName(fileName);
      if (await this.db.datasetFile.findFirst({ where: { versionId: v.id, name: fileName }, select: { id: true } })) {
        throw conflict(`A file named "${fileName}" already exists in this version`);
      }
    } catch (err) {
      stream.resume(); // drain so the multipart request can finish
      throw err;
    }
    const blob = await this.uploads.storeStream(v.tenantId, stream);
    const row = await this.uploads.recordFile(v.tenantId, v.id, fileName, blob, file.mimetype || null);
    this.log.info({ tenantId: v.tenantId, versionId: v.id, fileId: row.id, bytes: blob.bytes }, 'dataset file uploaded');
    return row;
  }

  async startMultipart(p: Principal, input: { versionId: string; name: string; bytes: bigint; sha256?: string | null; contentType?: string | null }) {
    const v = await this.uploadingVersion(p, input.versionId);
    this.checkName(input.name);
    const file = await this.uploads.startMultipart(v.tenantId, v.id, { ...input, bytes: Number(input.bytes) });
    return this.multipartView(file);
  }

  private async multipartView(file: DatasetFile) {
    const plan = await this.uploads.partUrls(file);
    return {
      file,
      partSize: BigInt(plan.partSize),
      partCount: plan.partCount,
      uploadedParts: plan.uploaded.map((u) => ({ ...u, bytes: BigInt(u.bytes) })),
      parts: plan.missing,
      expiresAt: plan.expiresAt,
    };
  }

  private async ownFile(p: Principal, fileId: string, role: 'READER' | 'MEMBER'): Promise<DatasetFile & { version: DatasetVersion }> {
    const t = requireTenant(p, role);
    const f = isUuid(fileId)
      ? await this.db.datasetFile.findFirst({ where: { id: fileId, tenantId: t.tenantId, version: { dataset: { deletedAt: null } } }, include: { version: { include: { dataset: true } } } })
      : null;
    if (!f) throw notFound('Dataset file', fileId);
    return f;
  }

  async multipartStatus(p: Principal, fileId: string) {
    return this.multipartView(await this.ownFile(p, fileId, 'MEMBER'));
  }

  async completeMultipart(p: Principal, fileId: string, parts: Array<{ partNumber: number; etag: string }>): Promise<DatasetFile> {
    const f = await this.ownFile(p, fileId, 'MEMBER');
    if (f.version.status !== 'UPLOADING') throw conflict('The dataset version no longer accepts files');
    return this.uploads.completeMultipart(f, parts);
  }

  async abortMultipart(p: Principal, fileId: string): Promise<boolean> {
    await this.uploads.abortMultipart(await this.ownFile(p, fileId, 'MEMBER'));
    return true;
  }

  async deleteFile(p: Principal, fileId: string): Promise<boolean> {
    const f = await this.ownFile(p, fileId, 'MEMBER');
    if (f.version.status !== 'UPLOADING') throw conflict(`The version is ${f.version.status}; its files can no longer change`);
    if (f.status === 'UPLOADING') return this.abortMultipart(p, fileId);
    await this.db.datasetFile.delete({ where: { id: f.id } });
    await this.uploads.releaseBlob(f.tenantId, f.storageKey);
    return true;
  }

  async finalize(p: Principal, versionId: string): Promise<DatasetVersion> {
    const v = await this.uploadingVersion(p, versionId);
    const files = await this.files(v);
    if (files.length === 0) throw badInput('Upload at least one file before finalizing');
    const open = files.filter((f) => f.status !== 'UPLOADED');
    if (open.length) throw conflict(`Uploads still in progress: ${open.map((f) => f.name).join(', ')} (complete or abort them first)`);
    const { count } = await this.db.datasetVersion.updateMany({
      where: { id: v.id, tenantId: v.tenantId, status: 'UPLOADING' },
      data: { status: 'PROCESSING', processingStartedAt: new Date() },
    });
    if (count === 0) throw conflict('The version was finalized concurrently');
    await recordAudit(this.db, { tenantId: v.tenantId, actor: actorOf(p), action: 'datasetVersion.finalize', targetType: 'DatasetVersion', targetId: v.id });
    this.processor.submit(v.id);
    return (await this.liveVersion(v.tenantId, v.id))!;
  }

  async manifest(v: DatasetVersion): Promise<Manifest | null> {
    if (v.status !== 'READY' || !v.manifestKey) return null;
    return readManifest(ingestStoreFrom(this.store), v.manifestKey);
  }

  async preview(v: DatasetVersion, limit: number): Promise<PreviewItem[]> {
    if (!Number.isInteger(limit) || limit < 0 || limit > 50) throw badInput('preview limit must be between 0 and 50');
    const m = await this.manifest(v);
    return m ? previewVersion(ingestStoreFrom(this.store), m, { limit }) : [];
  }

  /**
   * Soft delete (hidden at once, name freed), then purge: shards, blobs no other file references, and rows.
   * A purge interrupted by a crash is finished by purgeDeleted() at the next start.
   */
  async delete(p: Principal, id: string): Promise<boolean> {
    const t = requireTenant(p, 'MEMBER');
    const d = isUuid(id) ? await this.liveDataset(t.tenantId, id) : null;
    if (!d) throw notFound('Dataset', id);
    const inUse = await this.db.experiment.count({ where: { tenantId: t.tenantId, datasetVersion: { datasetId: d.id } } });
    if (inUse > 0) throw conflict(`The dataset is used by ${inUse} experiment(s); delete those first`);
    await this.db.$transaction(async (tx) => {
      await tx.dataset.update({ where: { id: d.id }, data: { deletedAt: new Date(), name: `${d.name}~deleted~${d.id}` } });
      await recordAudit(tx, { tenantId: t.tenantId, actor: actorOf(p), action: 'dataset.delete', targetType: 'Dataset', targetId: d.id });
    });
    await this.purge(d.id);
    return true;
  }

  async purge(datasetId: string): Promise<void> {
    const d = await this.db.dataset.findUnique({ where: { id: datasetId }, include: { versions: { include: { files: true } } } });
    if (!d || !d.deletedAt) return;
    for (const v of d.versions) {
      // A copy still running would write into the prefix deleted below (the reconciler would remove that later).
      if (this.cancelJob && v.status === 'PROCESSING' && v.processingJobId && v.processingJobId !== SUBMITTING) {
        await this.cancelJob(v.processingJobId).catch((err: unknown) => this.log.warn({ err, versionId: v.id }, 'could not cancel the processing job of a deleted dataset'));
      }
      for (const f of v.files) {
        if (f.status === 'UPLOADING' && f.uploadId) await this.store.abortMultipart(f.storageKey, f.uploadId).catch(() => undefined);
      }
      await this.store.deletePrefix(`${versionPrefix(d.tenantId, d.id, v.id)}/`);
    }
    const keys = new Set(d.versions.flatMap((v) => v.files.map((f) => f.storageKey)));
    await this.db.dataset.delete({ where: { id: d.id } }); // cascades to versions and files
    for (const key of keys) await this.uploads.releaseBlob(d.tenantId, key);
    const freed = d.versions.reduce((s, v) => s + v.shardBytes + v.files.reduce((a, f) => a + f.bytes, 0n), 0n);
    await this.db.usageRecord.create({ data: { tenantId: d.tenantId, kind: 'storage.delete', quantity: freed, ref: d.id } });
  }

  async purgeDeleted(): Promise<void> {
    for (const d of await this.db.dataset.findMany({ where: { deletedAt: { not: null } }, select: { id: true } })) {
      await this.purge(d.id).catch((err: unknown) => this.log.error({ err, datasetId: d.id }, 'dataset purge failed'));
    }
  }

  async storageUsage(p: Principal): Promise<{ usedBytes: bigint; quotaBytes: bigint }> {
    const t = requireTenant(p, 'READER');
    const q = await this.uploads.remainingQuota(t.tenantId);
    return { usedBytes: q.used, quotaBytes: q.quota };
  }
}
