// Getting bytes into a dataset version: streamed GraphQL uploads and presigned multipart uploads. Either way the
// content ends up once per tenant under its sha256 (blobs/sha256/<hash>), temporary objects are removed on every
// failure path, and the storage quota is enforced before and while bytes arrive.
import crypto from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Config } from '../../config';
import type { Db, DatasetFile } from '../../db/client';
import { isUniqueViolation } from '../../db/errors';
import { AppError, badInput, conflict, ErrorCode, quotaExceeded } from '../../errors';
import { InvalidPartError, type ObjectStore } from '../../storage';
import { blobKey, multipartKey, tmpUploadKey } from './keys';

class LimitExceeded extends Error {}

/** Counts and hashes a stream as it passes, failing it once `limit` bytes are exceeded. */
function meter(limit: number): { stream: Transform; bytes: () => number; sha256: () => string } {
  let bytes = 0;
  const hash = crypto.createHash('sha256');
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > limit) return cb(new LimitExceeded(`more than ${limit} bytes`));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  let digest: string | undefined;
  return { stream, bytes: () => bytes, sha256: () => (digest ??= hash.digest('hex')) };
}

export interface StoredBlob { key: string; sha256: string; bytes: number }

export class UploadService {
  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
    private readonly cfg: Config['datasets'],
    private readonly log: Logger,
  ) {}

  /**
   * Bytes a tenant stores: each distinct uploaded blob once (identical files are stored once), in-flight multipart
   * uploads at their declared size (reserved), and every version's shards.
   */
  private async storageUsed(tenantId: string): Promise<bigint> {
    const [files] = await this.db.$queryRaw<Array<{ total: bigint | null }>>`
      SELECT COALESCE(SUM(bytes), 0)::bigint AS total FROM (
        SELECT DISTINCT ON (storage_key) bytes FROM dataset_files WHERE tenant_id = ${tenantId}::uuid
      ) f`;
    const [shards] = await this.db.$queryRaw<Array<{ total: bigint | null }>>`
      SELECT COALESCE(SUM(shard_bytes), 0)::bigint AS total FROM dataset_versions WHERE tenant_id = ${tenantId}::uuid`;
    return (files?.total ?? 0n) + (shards?.total ?? 0n);
  }

  /** Bytes the tenant may still store. */
  async remainingQuota(tenantId: string): Promise<{ used: bigint; quota: bigint; remaining: bigint }> {
    const tenant = await this.db.tenant.findUniqueOrThrow({ where: { id: tenantId } });
    const quota = tenant.storageQuotaBytes ?? this.cfg.defaultStorageQuotaBytes;
    const used = await this.storageUsed(tenantId);
    return { used, quota, remaining: quota > used ? quota - used : 0n };
  }

  /**
   * Moves a fully written temporary object to its content-addressed blob. The copy is made even when the blob
   * exists: it refreshes the blob's modification time, and the reconciler never deletes an unreferenced blob younger
   * than its grace window, so a blob this upload is about to reference cannot be swept before the row is written.
   */
  private async promote(tenantId: string, tmpKey: string, sha256: string): Promise<string> {
    const key = blobKey(tenantId, sha256);
    try {
      await this.store.copy(tmpKey, key);
    } finally {
      await this.store.delete(tmpKey);
    }
    return key;
  }

  /** Streams an upload into a blob within the size and quota limits. Nothing is left behind on failure. */
  async storeStream(tenantId: string, body: Readable): Promise<StoredBlob> {
    const { remaining } = await this.remainingQuota(tenantId);
    const limit = Math.min(this.cfg.maxUploadBytes, Number(remaining));
    const m = meter(limit);
    const tmp = tmpUploadKey(tenantId);
    body.on('error', (err) => m.stream.destroy(err));
    try {
      await this.store.put(tmp, body.pipe(m.stream));
    } catch (err) {
      // Drain what the client is still sending: the multipart request only completes (and gets its answer) once
      // its body has been read to the end.
      body.unpipe(m.stream);
      body.resume();
      await this.store.delete(tmp).catch(() => undefined);
      if (err instanceof LimitExceeded || (err as { cause?: unknown }).cause instanceof LimitExceeded) {
        if (limit < this.cfg.maxUploadBytes) {
          throw quotaExceeded(`Upload exceeds the tenant's remaining storage quota (${remaining} bytes left)`, { remainingBytes: remaining.toString() });
        }
        throw badInput(`Upload exceeds ${this.cfg.maxUploadBytes} bytes; use startMultipartUpload for large files`);
      }
      const status = (err as { status?: number }).status;
      if (status === 413) throw badInput(`Upload exceeds ${this.cfg.maxUploadBytes} bytes; use startMultipartUpload for large files`);
      throw err;
    }
    if (m.bytes() === 0) {
      await this.store.delete(tmp);
      throw badInput('The uploaded file is empty');
    }
    const sha256 = m.sha256();
    return { key: await this.promote(tenantId, tmp, sha256), sha256, bytes: m.bytes() };
  }

  /** Deletes a stored object when no file row references it any more. */
  async releaseBlob(tenantId: string, key: string): Promise<void> {
    // File rows of any live or deleted dataset count: a deleted dataset's purge releases its own blobs.
    if ((await this.db.datasetFile.count({ where: { tenantId, storageKey: key } })) === 0) await this.store.delete(key);
  }

  async recordFile(
    tenantId: string,
    versionId: string,
    name: string,
    blob: StoredBlob,
    contentType: string | null,
  ): Promise<DatasetFile> {
    try {
      return await this.db.$transaction(async (tx) => {
        const version = await tx.datasetVersion.findFirst({ where: { id: versionId, tenantId, dataset: { deletedAt: null } } });
        if (!version || version.status !== 'UPLOADING') throw conflict('The dataset version no longer accepts files');
        const row = await tx.datasetFile.create({
          data: { tenantId, versionId, name, bytes: BigInt(blob.bytes), sha256: blob.sha256, contentType, status: 'UPLOADED', storageKey: blob.key },
        });
        await tx.usageRecord.create({ data: { tenantId, kind: 'storage.upload', quantity: BigInt(blob.bytes), ref: row.id } });
        return row;
      });
    } catch (err) {
      // The blob may be shared with other files; release it only if nothing else points at it.
      await this.releaseBlob(tenantId, blob.key).catch((e: unknown) => this.log.warn({ err: e }, 'blob release failed'));
      if (isUniqueViolation(err)) throw conflict(`A file named "${name}" already exists in this version`);
      throw err;
    }
  }

  partPlan(bytes: number): { partSize: number; partCount: number } {
    // S3 allows at most 10 000 parts; grow the part size for very large files.
    const partSize = Math.max(this.cfg.multipartPartBytes, Math.ceil(bytes / 10_000));
    return { partSize, partCount: Math.max(1, Math.ceil(bytes / partSize)) };
  }

  async startMultipart(tenantId: string, versionId: string, input: { name: string; bytes: number; sha256?: string | null; contentType?: string | null }): Promise<DatasetFile> {
    if (!Number.isSafeInteger(input.bytes) || input.bytes < 1) throw badInput('bytes must be a positive integer');
    if (input.bytes > this.cfg.maxMultipartBytes) throw badInput(`Files are limited to ${this.cfg.maxMultipartBytes} bytes`);
    if (input.sha256 && !/^[0-9a-f]{64}$/i.test(input.sha256)) throw badInput('sha256 must be 64 hex characters');
    const { remaining } = await this.remainingQuota(tenantId);
    if (BigInt(input.bytes) > remaining) {
      throw quotaExceeded(`A ${input.bytes}-byte file exceeds the tenant's remaining storage quota (${remaining} bytes left)`, { remainingBytes: remaining.toString() });
    }
    const fileId = crypto.randomUUID();
    const key = multipartKey(tenantId, fileId);
    const uploadId = await this.store.createMultipart(key, input.contentType ?? undefined);
    try {
      return await this.db.$transaction(async (tx) => {
        const version = await tx.datasetVersion.findFirst({ where: { id: versionId, tenantId, dataset: { deletedAt: null } } });
        if (!version || version.status !== 'UPLOADING') throw conflict('The dataset version no longer accepts files');
        // Reserved at its declared size: counted against the quota while the upload is in flight.
        return tx.datasetFile.create({
          data: {
            id: fileId,
            tenantId,
            versionId,
            name: input.name,
            bytes: BigInt(input.bytes),
            sha256: input.sha256?.toLowerCase() ?? null,
            contentType: input.contentType ?? null,
            status: 'UPLOADING',
            storageKey: key,
            uploadId,
          },
        });
      });
    } catch (err) {
      await this.store.abortMultipart(key, uploadId).catch(() => undefined);
      if (isUniqueViolation(err)) throw conflict(`A file named "${input.name}" already exists in this version`);
      throw err;
    }
  }

  async partUrls(file: DatasetFile): Promise<{ uploaded: Array<{ partNumber: number; etag: string; bytes: number }>; missing: Array<{ partNumber: number; url: string }>; partSize: number; partCount: number; expiresAt: Date }> {
    if (file.status !== 'UPLOADING' || !file.uploadId) throw conflict('This file is not being uploaded');
    const { partSize, partCount } = this.partPlan(Number(file.bytes));
    const uploaded = await this.store.listParts(file.storageKey, file.uploadId).catch((err: unknown) => {
      // Stores without ListParts cannot report progress; the client re-sends every part.
      if ((err as { name?: string }).name === 'NotImplemented' || (err as { name?: string }).name === 'MethodNotAllowed') return [];
      throw err;
    });
    const have = new Set(uploaded.map((p) => p.partNumber));
    const ttl = this.cfg.uploadUrlTtlSeconds;
    const missing: Array<{ partNumber: number; url: string }> = [];
    for (let n = 1; n <= partCount; n++) {
      if (!have.has(n)) missing.push({ partNumber: n, url: await this.store.presignPart(file.storageKey, file.uploadId, n, ttl) });
    }
    return { uploaded, missing, partSize, partCount, expiresAt: new Date(Date.now() + ttl * 1000) };
  }

  async completeMultipart(file: DatasetFile, parts: Array<{ partNumber: number; etag: string }>): Promise<DatasetFile> {
    if (file.status !== 'UPLOADING' || !file.uploadId) throw conflict('This file is not being uploaded');
    const seen = new Set<number>();
    const problems = [];
    for (const [i, p] of parts.entries()) {
      if (seen.has(p.partNumber)) problems.push({ path: `parts.${i}.partNumber`, message: `part ${p.partNumber} is listed twice` });
      seen.add(p.partNumber);
      if (!Number.isInteger(p.partNumber) || p.partNumber < 1 || p.partNumber > 10_000) problems.push({ path: `parts.${i}.partNumber`, message: 'must be 1..10000' });
    }
    if (parts.length === 0) problems.push({ path: 'parts', message: 'at least one part is required' });
    if (problems.length) throw badInput('Invalid part list', problems);
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    try {
      await this.store.completeMultipart(file.storageKey, file.uploadId, sorted);
    } catch (err) {
      if (err instanceof InvalidPartError) throw badInput(`Multipart completion refused: ${err.message}`);
      throw err;
    }
    // The object now exists: from here on every failure must delete it.
    try {
      const head = await this.store.head(file.storageKey);
      if (!head || BigInt(head.bytes) !== file.bytes) {
        throw badInput(`The uploaded parts add up to ${head?.bytes ?? 0} bytes, but ${file.bytes} were declared`);
      }
      const hash = crypto.createHash('sha256');
      for await (const chunk of await this.store.get(file.storageKey)) hash.update(chunk as Buffer);
      const sha256 = hash.digest('hex');
      if (file.sha256 && file.sha256 !== sha256) throw badInput(`sha256 mismatch: declared ${file.sha256}, received ${sha256}`);
      const key = await this.promote(file.tenantId, file.storageKey, sha256);
      return await this.db.$transaction(async (tx) => {
        const row = await tx.datasetFile.update({ where: { id: file.id }, data: { status: 'UPLOADED', storageKey: key, sha256, uploadId: null } });
        await tx.usageRecord.create({ data: { tenantId: file.tenantId, kind: 'storage.upload', quantity: file.bytes, ref: file.id } });
        return row;
      });
    } catch (err) {
      await this.store.delete(file.storageKey).catch(() => undefined);
      await this.db.datasetFile.delete({ where: { id: file.id } }).catch(() => undefined);
      if (err instanceof AppError) throw err;
      throw new AppError(ErrorCode.INTERNAL, 'Could not finish the upload; the file was removed, upload it again');
    }
  }

  async abortMultipart(file: DatasetFile): Promise<void> {
    if (file.status !== 'UPLOADING' || !file.uploadId) throw conflict('This file is not being uploaded');
    await this.store.abortMultipart(file.storageKey, file.uploadId).catch((err: unknown) => {
      this.log.warn({ err, fileId: file.id }, 'abortMultipart failed; the bucket lifecycle rule removes the parts');
    });
    // A crash between CompleteMultipartUpload and the blob promotion leaves the assembled object at the upload's key.
    await this.store.delete(file.storageKey);
    await this.db.datasetFile.deleteMany({ where: { id: file.id } });
  }

  /** Aborts multipart uploads idle for longer than the configured window (all tenants). */
  async cleanupAbandoned(now = new Date()): Promise<number> {
    const stale = await this.db.datasetFile.findMany({
      where: { status: 'UPLOADING', createdAt: { lt: new Date(now.getTime() - this.cfg.abandonedUploadMs) } },
      take: 500,
    });
    for (const f of stale) await this.abortMultipart(f);
    if (stale.length) this.log.info({ count: stale.length }, 'aborted abandoned multipart uploads');
    return stale.length;
  }
}
