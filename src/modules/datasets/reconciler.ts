// Makes the object store and the dataset rows agree again after a crash. Every upload path writes the object before
// its row (tmp → blob → file row; multipart object → promoted blob → row update) and cleans up on ordinary failures,
// but a process killed between those steps leaves objects no row points at. One pass, run from the worker tick:
//   - abandoned multipart uploads (UPLOADING file rows idle past the window) are aborted and their rows deleted;
//   - objects under a tenant's dataset prefixes that nothing references and that are older than the grace window
//     are deleted: streamed-upload temporaries, multipart targets without an UPLOADING row, content-addressed blobs
//     no file row names, and shards of versions that are gone, FAILED or still UPLOADING;
//   - multipart uploads the store still holds for files that have no row are aborted (where the store lists them);
//   - purges of soft-deleted datasets that a crash interrupted are finished;
//   - the store adapter's own half-written temp files (local folder) are removed;
//   - versions stuck PROCESSING whose processing lease lapsed (their gateway died) are processed again.
// The grace window keeps it away from uploads in flight: an object is only an orphan once it is older than any
// upload step could take between writing it and recording it.
// A pass is bounded: it looks at no more than `objectsPerPass` objects, and the next pass resumes after the last key
// it saw (a cursor in key order); when the listing runs out, the next pass starts from the beginning again. So the
// cost of a pass does not grow with the bucket, and every object is still visited once per cycle of passes.
import type { Logger } from 'pino';
import type { Db } from '../../db/client';
import type { ObjectInfo, ObjectStore } from '../../storage';

/** The clean-ups the reconciler drives that live with the upload service and the dataset service. */
export interface ReconcilerHooks {
  cleanupAbandoned(now: Date): Promise<number>;
  purgeDeleted(): Promise<void>;
  /** Re-processes PROCESSING versions whose lease lapsed; returns how many. */
  recoverStaleProcessing?(now: Date): Promise<number>;
}

export interface ReconcilerOptions {
  /** Objects looked at per pass (default 10 000). */
  objectsPerPass?: number;
}

export interface ReconcileReport {
  abandonedUploads: number;
  tmpObjects: number;
  multipartObjects: number;
  blobs: number;
  shardObjects: number;
  multipartUploads: number;
  /** The store adapter's own half-written temp files (local folder). */
  storeTemporaries: number;
  /** PROCESSING versions taken over after their lease lapsed. */
  staleProcessing: number;
  /** Objects looked at. */
  scanned: number;
  /** Where this pass started and stopped in key order (null: the start / the end of the listing). */
  fromKey: string | null;
  toKey: string | null;
  /** True when this pass reached the end of the listing (the next one starts over). */
  wrapped: boolean;
}

type Orphan = keyof Pick<ReconcileReport, 'tmpObjects' | 'multipartObjects' | 'blobs' | 'shardObjects'>;

// tenants/<tenant>/<area>/…: the dataset domain's key layout (keys.ts).
const TMP = /^tenants\/([^/]+)\/tmp\/uploads\/[^/]+$/;
const MULTIPART = /^tenants\/([^/]+)\/uploads\/([0-9a-f-]{36})$/;
const BLOB = /^tenants\/([^/]+)\/blobs\/sha256\/[0-9a-f]{64}$/;
const SHARD = /^tenants\/([^/]+)\/datasets\/[^/]+\/versions\/([0-9a-f-]{36})\//;

const BATCH = 500;
const DEFAULT_OBJECTS_PER_PASS = 10_000;

export class DatasetReconciler {
  private readonly objectsPerPass: number;
  /** The last key the previous pass looked at (undefined: start from the beginning). */
  private cursor: string | undefined;
  /** The same for multipart uploads in progress. */
  private multipartCursor: { key: string; uploadId: string } | undefined;

  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
    private readonly hooks: ReconcilerHooks,
    private readonly graceMs: number,
    private readonly log: Logger,
    opts: ReconcilerOptions = {},
  ) {
    if (!(graceMs > 0)) throw new Error(`reconciler graceMs must be > 0, got ${graceMs}; use the abandoned-upload window.`);
    this.objectsPerPass = opts.objectsPerPass ?? DEFAULT_OBJECTS_PER_PASS;
    if (!(Number.isInteger(this.objectsPerPass) && this.objectsPerPass >= 1)) throw new Error(`reconciler objectsPerPass must be an integer ≥ 1, got ${opts.objectsPerPass}`);
  }

  /**
   * One bounded pass (see the top of the file). Safe to run concurrently with uploads and with another gateway's
   * pass; each gateway keeps its own cursor.
   */
  async run(now = new Date()): Promise<ReconcileReport> {
    const report: ReconcileReport = {
      abandonedUploads: 0,
      tmpObjects: 0,
      multipartObjects: 0,
      blobs: 0,
      shardObjects: 0,
      multipartUploads: 0,
      storeTemporaries: 0,
      staleProcessing: 0,
      scanned: 0,
      fromKey: this.cursor ?? null,
      toKey: null,
      wrapped: false,
    };
    report.abandonedUploads = await this.hooks.cleanupAbandoned(now);
    await this.hooks.purgeDeleted();
    report.staleProcessing = (await this.hooks.recoverStaleProcessing?.(now)) ?? 0;
    const cutoff = now.getTime() - this.graceMs;
    let batch: ObjectInfo[] = [];
    let last: string | undefined;
    let exhausted = true;
    for await (const o of this.store.list('tenants/', this.cursor ? { startAfter: this.cursor } : {})) {
      if (report.scanned >= this.objectsPerPass) {
        exhausted = false; // more to see: the next pass resumes after `last`
        break;
      }
      report.scanned += 1;
      last = o.key;
      if (o.lastModified.getTime() > cutoff) continue;
      batch.push(o);
      if (batch.length >= BATCH) {
        await this.sweep(batch, report);
        batch = [];
      }
    }
    if (batch.length) await this.sweep(batch, report);
    report.toKey = exhausted ? null : (last ?? null);
    report.wrapped = exhausted;
    this.cursor = exhausted ? undefined : last;
    report.multipartUploads = await this.abortUnrecordedMultiparts(cutoff);
    report.storeTemporaries = (await this.store.sweepTemporaries?.(this.graceMs)) ?? 0;
    const removed =
      report.abandonedUploads +
      report.tmpObjects +
      report.multipartObjects +
      report.blobs +
      report.shardObjects +
      report.multipartUploads +
      report.storeTemporaries;
    if (removed > 0 || report.staleProcessing > 0) this.log.info({ ...report }, 'dataset reconciler removed orphans');
    else this.log.debug({ ...report }, 'dataset reconciler pass: nothing to remove');
    return report;
  }

  /** Deletes the objects of one batch that no row references. */
  private async sweep(objects: ObjectInfo[], report: ReconcileReport): Promise<void> {
    const tmp: string[] = [];
    const multipart = new Map<string, string>(); // file id → key
    const blobs = new Map<string, string>(); // key → tenant
    const shards = new Map<string, string[]>(); // version id → keys
    for (const { key } of objects) {
      let m: RegExpExecArray | null;
      if (TMP.test(key)) tmp.push(key);
      else if ((m = MULTIPART.exec(key))) multipart.set(m[2]!, key);
      else if ((m = BLOB.exec(key))) blobs.set(key, m[1]!);
      else if ((m = SHARD.exec(key))) shards.set(m[2]!, [...(shards.get(m[2]!) ?? []), key]);
    }
    // A temporary is only ever alive for the length of one upload request.
    await this.remove(tmp, 'tmpObjects', report);

    if (multipart.size) {
      const open = await this.db.datasetFile.findMany({ where: { id: { in: [...multipart.keys()] }, status: 'UPLOADING' }, select: { id: true } });
      const live = new Set(open.map((f) => f.id));
      await this.remove([...multipart].filter(([id]) => !live.has(id)).map(([, key]) => key), 'multipartObjects', report);
    }

    if (blobs.size) {
      const named = await this.db.datasetFile.findMany({ where: { storageKey: { in: [...blobs.keys()] } }, select: { storageKey: true } });
      const referenced = new Set(named.map((f) => f.storageKey));
      // Re-checked one by one just before deleting: an upload may have recorded its row since the batch query.
      const orphans: string[] = [];
      for (const [key, tenantId] of blobs) {
        if (referenced.has(key)) continue;
        if ((await this.db.datasetFile.count({ where: { tenantId, storageKey: key } })) === 0) orphans.push(key);
      }
      await this.remove(orphans, 'blobs', report);
    }

    if (shards.size) {
      const versions = await this.db.datasetVersion.findMany({ where: { id: { in: [...shards.keys()] } }, select: { id: true, status: true } });
      const status = new Map(versions.map((v) => [v.id, v.status]));
      // READY versions own their shards; PROCESSING ones are being written (or will be rewritten by recovery).
      const dead = [...shards].filter(([id]) => {
        const s = status.get(id);
        return s === undefined || s === 'FAILED' || s === 'UPLOADING';
      });
      await this.remove(dead.flatMap(([, keys]) => keys), 'shardObjects', report);
    }
  }

  private async remove(keys: string[], kind: Orphan, report: ReconcileReport): Promise<void> {
    for (const key of keys) {
      await this.store.delete(key);
      report[kind] += 1;
    }
  }

  /**
   * Multipart uploads with no file row (a crash between CreateMultipartUpload and the row's insert). Bounded like the
   * object pass: at most objectsPerPass uploads looked at, checked against the rows BATCH at a time, and the next pass
   * resumes after the last one (a bucket with many uploads in progress is covered over several passes).
   */
  private async abortUnrecordedMultiparts(cutoff: number): Promise<number> {
    let n = 0;
    let seen = 0;
    let last: { key: string; uploadId: string } | undefined;
    let exhausted = true;
    let batch: { key: string; uploadId: string }[] = [];
    const sweep = async () => {
      const rows = await this.db.datasetFile.findMany({ where: { uploadId: { in: batch.map((u) => u.uploadId) } }, select: { uploadId: true } });
      const recorded = new Set(rows.map((r) => r.uploadId));
      for (const u of batch) {
        if (recorded.has(u.uploadId)) continue;
        await this.store.abortMultipart(u.key, u.uploadId);
        n += 1;
      }
      batch = [];
    };
    try {
      for await (const u of this.store.listMultipartUploads('tenants/', this.multipartCursor ? { after: this.multipartCursor } : {})) {
        if (seen >= this.objectsPerPass) {
          exhausted = false;
          break;
        }
        seen += 1;
        last = { key: u.key, uploadId: u.uploadId };
        if (!MULTIPART.test(u.key) || u.initiated.getTime() > cutoff) continue;
        batch.push(u);
        if (batch.length >= BATCH) await sweep();
      }
    } catch (err) {
      // Stores without ListMultipartUploads (s3rver) leave these to the bucket's lifecycle rule.
      const name = (err as { name?: string }).name;
      if (name === 'NotImplemented' || name === 'MethodNotAllowed') return n;
      throw err;
    }
    if (batch.length) await sweep();
    this.multipartCursor = exhausted ? undefined : last;
    return n;
  }
}
