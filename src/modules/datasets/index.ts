// Wires the dataset domain's upload service, processor, reconciler and service.
import type { Logger } from 'pino';
import type { Config } from '../../config';
import type { Db } from '../../db/client';
import type { ObjectStore } from '../../storage';
import { DatasetProcessor } from './processor';
import { DatasetReconciler } from './reconciler';
import { DatasetService } from './service';
import { UploadService } from './uploads';

export interface DatasetServiceDeps { db: Db; store: ObjectStore; log: Logger; cfg: Config['datasets'] }

export function createDatasetServices(deps: DatasetServiceDeps): DatasetService {
  const uploads = new UploadService(deps.db, deps.store, deps.cfg, deps.log);
  const processor = new DatasetProcessor(deps.db, deps.store, deps.log, undefined, { inline: deps.cfg.processing !== 'worker' });
  // The reconciler's grace window is the abandoned-upload window: an object nothing references is an orphan once it
  // is older than the longest an upload may legitimately sit between its steps.
  const reconciler: DatasetReconciler = new DatasetReconciler(
    deps.db,
    deps.store,
    { cleanupAbandoned: (now) => uploads.cleanupAbandoned(now), purgeDeleted: (): Promise<void> => service.purgeDeleted() },
    deps.cfg.abandonedUploadMs,
    deps.log,
  );
  const service: DatasetService = new DatasetService(deps.db, deps.store, uploads, processor, deps.log, reconciler);
  return service;
}
