// Builds every domain service from the adapters. The gateway and the CLI reach the domain only through these.
import type { Db } from '../db/client';
import { unscoped } from '../db/scope';
import type { Logger } from '../logger';
import type { ObjectStore } from '../storage';
import { ApiKeyCache } from './apikeys/cache';
import { ApiKeyService } from './apikeys/service';
import { AuthService } from './auth/service';
import { TenantService } from './tenants/service';
import { createDatasetServices, type DatasetServiceDeps } from './datasets';
import type { DatasetService } from './datasets/service';
import { ModelArtifacts } from './models/artifacts';
import { ModelRegistry } from './models/registry';
import { ModelServing } from './models/serving';
import { EmbeddingSpaces } from './models/spaces';
import { InferenceUsage } from './models/usage';
import { ProjectionService } from './models/projection';
import { DatasetRowsService } from './datasets/rows';
import { ProcessingJobs } from './datasets/processing-jobs';
import { SpaceJobs } from './models/space-jobs';
import type { Config } from '../config';
import type { Dispatcher } from '../jobs/dispatchers';
import { InferenceRuntime } from '../inference';
import { createRunServices, type JobsDeps, type RunServices } from './runs';
import { PostgresBuckets, type BucketKind } from './limits/buckets';
import { RateLimitService, type RateLimitDefaults } from './limits/service';
import { LeasedBuckets } from './limits/lease';
import { UsageService } from './usage/service';

export interface Services {
  auth: AuthService;
  tenants: TenantService;
  apiKeys: ApiKeyService;
  datasets: DatasetService;
  /** The model registry: models, versions, aliases, reference resolution. */
  models: ModelRegistry;
  /** embed / predict over the inference runtime. */
  serving: ModelServing;
  /** Embedding spaces and similarity search. */
  spaces: EmbeddingSpaces;
  /** Inference usage, summed in memory and flushed every few seconds. */
  inferenceUsage: InferenceUsage;
  /** Embedding-map projections and the embedding-space list (the console). */
  projections: ProjectionService;
  /** Dataset rows by index (the console's map hover). */
  datasetRows: DatasetRowsService;
  /** DATASET_PROCESSING=job: the worker tick's pass that dispatches and merges processing jobs; null otherwise. */
  processingJobs: ProcessingJobs | null;
  /** DATASET_PROCESSING=job: the same for embedding-space builds; null otherwise. */
  spaceJobs: SpaceJobs | null;
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
  /** The object store's settings, handed to platform jobs (DATASET_PROCESSING=job). */
  storage?: Config['storage'];
  /** Where platform jobs go (default: the trainers' dispatcher, deps.jobs.dispatcher). */
  platformDispatcher?: Dispatcher;
  jobs: JobsDeps;
  /** The inference runtime's pool and batching (config.inference); default: on the event loop, default batching. */
  inference?: { workers: number; intraOpThreads?: number; maxBatchSize: number; maxWaitMs: number };
  rateLimits: RateLimitDefaults;
  /** Every rate-limit decision (the gateway's Prometheus counters). */
  observeRateLimit?: (kind: BucketKind, allowed: boolean, cost: number) => void;
}

function platformJobs(deps: ServiceDeps): { processingJobs: ProcessingJobs; spaceJobs: SpaceJobs } | null {
  if (deps.datasets.processing !== 'job') return null;
  if (!deps.storage) throw new Error('DATASET_PROCESSING=job needs the object store settings (ServiceDeps.storage) to hand to the jobs');
  const dispatcher = deps.platformDispatcher ?? deps.jobs.dispatcher;
  const common = {
    job: deps.datasets.job,
    storage: deps.storage,
    maxAttempts: deps.jobs.config.maxAttempts,
    ...(deps.jobs.tenantScope ? { tenantScope: deps.jobs.tenantScope } : {}),
  };
  return {
    processingJobs: new ProcessingJobs(deps.db, deps.store, dispatcher, deps.log, common),
    spaceJobs: new SpaceJobs(deps.db, deps.store, dispatcher, deps.log, { ...common, rowsPerPart: deps.datasets.job.spaceRowsPerPart }),
  };
}

export function createServices(deps: ServiceDeps): Services {
  const inf = deps.inference;
  const inference = new InferenceRuntime(
    inf ? { workers: inf.workers, ...(inf.intraOpThreads ? { intraOpThreads: inf.intraOpThreads } : {}), batch: { maxBatchSize: inf.maxBatchSize, maxWaitMs: inf.maxWaitMs } } : {},
  );
  const keyCache = new ApiKeyCache();
  const limits = new RateLimitService(deps.db, new LeasedBuckets(new PostgresBuckets(deps.db)), deps.rateLimits, deps.observeRateLimit);
  const models = new ModelRegistry(deps.db);
  const artifacts = new ModelArtifacts(deps.store);
  const inferenceUsage = new InferenceUsage(deps.db, deps.log);
  const serving = new ModelServing(models, artifacts, inference, inferenceUsage, limits);
  const spaces = new EmbeddingSpaces(deps.db, deps.store, models, artifacts, serving, inference, deps.log, deps.datasets.processing === 'inline', deps.jobs.tenantScope);
  const jobs = platformJobs(deps);
  const datasets = createDatasetServices({
    db: deps.db, store: deps.store, log: deps.log, cfg: deps.datasets, ...(deps.jobs.tenantScope ? { tenantScope: deps.jobs.tenantScope } : {}),
    ...(jobs ? { cancelJob: (id: string) => (deps.platformDispatcher ?? deps.jobs.dispatcher).cancel(id) } : {}),
  });
  return {
    limits,
    // The flush writes every tenant's pending usage: it must not run in the calling tenant's RLS scope.
    usage: new UsageService(deps.db, (p) => datasets.storageUsage(p), () => unscoped(() => inferenceUsage.flush())),
    auth: new AuthService(deps.db, deps.operatorKeyHash, deps.log, keyCache),
    tenants: new TenantService(deps.db),
    apiKeys: new ApiKeyService(deps.db, keyCache),
    inference,
    models,
    serving,
    spaces,
    inferenceUsage,
    datasets,
    projections: new ProjectionService(deps.db, deps.store),
    datasetRows: new DatasetRowsService(datasets, deps.store),
    processingJobs: jobs?.processingJobs ?? null,
    spaceJobs: jobs?.spaceJobs ?? null,
    ...(({ lifecycle, ...rest }) => ({ ...rest, runLifecycle: lifecycle }))(createRunServices({ db: deps.db, store: deps.store, log: deps.log, jobs: deps.jobs, resolveModel: (t, ref) => models.resolve(t, ref) })),
  };
}
