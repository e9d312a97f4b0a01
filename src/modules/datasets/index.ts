// Wires the dataset domain's upload service, processor, reconciler and service.
import type { Logger } from 'pino';
import type { Config } from '../../config';
import type { Db } from '../../db/client';
import type { ObjectStore } from '../../storage';
import { DatasetProcessor } from './processor';
import { DatasetReconciler } from './reconciler';
import { DatasetService } from './service';
import { UploadService } from './uploads';

export interface DatasetServiceDeps {
  db: Db;
  store: ObjectStore;
  log: Logger;
  cfg: Config['datasets'];
  /** Recovery passes handle only these tenants' versions (a dedicated pool; tests sharing a database). */
  tenantScope?: () => readonly string[] | null;
  /** DATASET_PROCESSING=job: cancels a processing job (a purge stops the job of a version being processed). */
  cancelJob?: (externalId: string) => Promise<void>;
}

export function createDatasetServices(deps: DatasetServiceDeps): DatasetService {
  const uploads = new UploadService(deps.db, deps.store, deps.cfg, deps.log);
  // The processing lease lapses after the abandoned-upload window, at most 10 minutes: a version stuck PROCESSING
  // by a dead gateway is taken over by another one's reconciler pass within about that long.
  const processor = new DatasetProcessor(
    deps.db, deps.store, deps.log,
    { baseDelayMs: 500, maxDelayMs: 10_000, maxRetries: 120, leaseMs: Math.min(deps.cfg.abandonedUploadMs, 600_000) },
    { inline: deps.cfg.processing === 'inline', ...(deps.tenantScope ? { tenantScope: deps.tenantScope } : {}) },
  );
  // The reconciler's grace window is the abandoned-upload window: an object nothing references is an orphan once it
  // is older than the longest an upload may legitimately sit between its steps.
  const reconciler: DatasetReconciler = new DatasetReconciler(
    deps.db,
    deps.store,
    {
      cleanupAbandoned: (now) => uploads.cleanupAbandoned(now),
      purgeDeleted: (): Promise<void> => service.purgeDeleted(),
      // With processing jobs a version's liveness is its job's (ProcessingJobs); the lease is not renewed then.
      ...(deps.cfg.processing === 'job' ? {} : { recoverStaleProcessing: (now: Date) => processor.recoverStale(now) }),
    },
    deps.cfg.abandonedUploadMs,
    deps.log,
    { objectsPerPass: deps.cfg.reconcileObjectsPerPass },
  );
  const service: DatasetService = new DatasetService(deps.db, deps.store, uploads, processor, deps.log, reconciler, deps.cancelJob);
  return service;
}
