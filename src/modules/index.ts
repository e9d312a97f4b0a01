// Builds every domain service from the adapters. The gateway and the CLI reach the domain only through these.
import type { Db } from '../db/client';
import { unscoped } from '../db/scope';
import type { Logger } from '../logger';
import type { ObjectStore } from '../storage';
import { ApiKeyCache } from './apikeys/cache';
import { ApiKeyRepository } from './apikeys/repository';
import { ApiKeyService } from './apikeys/service';
import { AuthService } from './auth/service';
import { TenantRepository } from './tenants/repository';
import { TenantService } from './tenants/service';
import { createDatasetServices, type DatasetServiceDeps } from './datasets';
import type { DatasetService } from './datasets/service';
import { ModelService } from './models/service';
import { ProjectionService } from './models/projection';
import { DatasetRowsService } from './datasets/rows';
import { InferenceRuntime } from '../inference';
import { createRunServices, type JobsDeps, type RunServices } from './runs';
import { RateBucketRepository, type BucketKind } from './limits/repository';
import { RateLimitService, type RateLimitDefaults } from './limits/service';
import { LeasedBuckets } from './limits/lease';
import { UsageService } from './usage/service';

export interface Services {
  auth: AuthService;
  tenants: TenantService;
  apiKeys: ApiKeyService;
  datasets: DatasetService;
  models: ModelService;
  /** Embedding-map projections and the embedding-space list (the console). */
  projections: ProjectionService;
  /** Dataset rows by index (the console's map hover). */
  datasetRows: DatasetRowsService;
  inference: InferenceRuntime;
  experiments: RunServices['experiments'];
  runs: RunServices['runs'];
  finetunes: RunServices['finetunes'];
  trainer: RunServices['trainer'];
  runLifecycle: RunServices['lifecycle'];
  limits: RateLimitService;
  usage: UsageService;
}

export interface ServiceDeps {
  db: Db;
  store: ObjectStore;
  log: Logger;
  operatorKeyHash: string | null;
  datasets: DatasetServiceDeps['cfg'];
  jobs: JobsDeps;
  /** The inference runtime's pool and batching (config.inference); default: on the event loop, default batching. */
  inference?: { workers: number; intraOpThreads?: number; maxBatchSize: number; maxWaitMs: number };
  rateLimits: RateLimitDefaults;
  /** Every rate-limit decision (the gateway's Prometheus counters). */
  observeRateLimit?: (kind: BucketKind, allowed: boolean, cost: number) => void;
}

export function createServices(deps: ServiceDeps): Services {
  const inf = deps.inference;
  const inference = new InferenceRuntime(
    inf ? { workers: inf.workers, ...(inf.intraOpThreads ? { intraOpThreads: inf.intraOpThreads } : {}), batch: { maxBatchSize: inf.maxBatchSize, maxWaitMs: inf.maxWaitMs } } : {},
  );
  const keyCache = new ApiKeyCache();
  const keyRepo = new ApiKeyRepository(deps.db);
  const tenantRepo = new TenantRepository(deps.db);
  const limits = new RateLimitService(deps.db, new LeasedBuckets(new RateBucketRepository(deps.db)), deps.rateLimits, deps.observeRateLimit);
  const models = new ModelService(deps.db, deps.store, inference, deps.log, limits);
  const datasets = createDatasetServices({ db: deps.db, store: deps.store, log: deps.log, cfg: deps.datasets });
  return {
    limits,
    // flushUsage writes every tenant's pending usage: it must not run in the calling tenant's RLS scope.
    usage: new UsageService(deps.db, (p) => datasets.storageUsage(p), () => unscoped(() => models.flushUsage())),
    auth: new AuthService(keyRepo, deps.operatorKeyHash, deps.log, keyCache),
    tenants: new TenantService(deps.db, tenantRepo, keyRepo),
    apiKeys: new ApiKeyService(deps.db, keyRepo, keyCache),
    inference,
    models,
    datasets,
    projections: new ProjectionService(deps.db, deps.store),
    datasetRows: new DatasetRowsService(datasets, deps.store),
    ...(({ lifecycle, ...rest }) => ({ ...rest, runLifecycle: lifecycle }))(createRunServices({ db: deps.db, store: deps.store, log: deps.log, jobs: deps.jobs, resolveModel: (t, ref) => models.resolve(t, ref) })),
  };
}
