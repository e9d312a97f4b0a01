// Builds every domain service from the adapters. The gateway and the CLI reach the domain only through these.
import type { Db } from '../db/client';
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
import { InferenceRuntime } from '../inference';
import { createRunServices, type JobsDeps, type RunServices } from './runs';
import { RateBucketRepository, type BucketKind } from './limits/repository';
import { RateLimitService, type RateLimitDefaults } from './limits/service';
import { UsageService } from './usage/service';

export interface Services {
  auth: AuthService;
  tenants: TenantService;
  apiKeys: ApiKeyService;
  datasets: DatasetService;
  models: ModelService;
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
  rateLimits: RateLimitDefaults;
  /** Every rate-limit decision (the gateway's Prometheus counters). */
  observeRateLimit?: (kind: BucketKind, allowed: boolean, cost: number) => void;
}

export function createServices(deps: ServiceDeps): Services {
  const inference = new InferenceRuntime();
  const keyCache = new ApiKeyCache();
  const keyRepo = new ApiKeyRepository(deps.db);
  const tenantRepo = new TenantRepository(deps.db);
  const limits = new RateLimitService(deps.db, new RateBucketRepository(deps.db), deps.rateLimits, deps.observeRateLimit);
  const models = new ModelService(deps.db, deps.store, inference, deps.log, limits);
  const datasets = createDatasetServices({ db: deps.db, store: deps.store, log: deps.log, cfg: deps.datasets });
  return {
    limits,
    usage: new UsageService(deps.db, (p) => datasets.storageUsage(p), () => models.flushUsage()),
    auth: new AuthService(keyRepo, deps.operatorKeyHash, deps.log, keyCache),
    tenants: new TenantService(deps.db, tenantRepo, keyRepo),
    apiKeys: new ApiKeyService(deps.db, keyRepo, keyCache),
    inference,
    models,
    datasets,
    ...(({ lifecycle, ...rest }) => ({ ...rest, runLifecycle: lifecycle }))(createRunServices({ db: deps.db, store: deps.store, log: deps.log, jobs: deps.jobs, resolveModel: (t, ref) => models.resolve(t, ref) })),
  };
}
