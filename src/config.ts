// All settings, parsed once at start-up from the environment. Every bad variable is reported at once, with what
// was expected, so an operator fixes a deployment in one go. Nothing else in src/ reads process.env.
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL');

const EnvSchema = z.object({
    // Stack traces reach clients only when NODE_ENV=development is set explicitly; an unset NODE_ENV is production.
    NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
    /** Schema introspection (GraphQL IDEs, codegen against a server). */
    GRAPHQL_INTROSPECTION: bool.default(true),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    /**
     * How long an idle keep-alive connection stays open. Longer than the idle timeouts of the proxies in front
     * (an AWS ALB's is 60 s), so the proxy, not the gateway, closes idle connections: when the gateway closes first,
     * a request the proxy (or a client) sends on that connection at the same moment fails with ECONNRESET / 502.
     * Node's own default is 5 s.
     */
    HTTP_KEEP_ALIVE_SECONDS: z.coerce.number().min(1).max(3600).default(65),
    /** Public base URL of the gateway (used in presigned local-storage URLs); defaults to http://HOST:PORT. */
    PRETEXT_PUBLIC_URL: z.url().optional(),
    PRETEXT_DATA_DIR: z.string().min(1).default('.pretext'),
    DATABASE_URL: postgresUrl.optional(),
    /**
     * Owner credentials for migrations (DDL) only; when set, DATABASE_URL is the runtime login role, which must not
     * own the tables (README "Security": `pretext db create-runtime-role`). Unset: DATABASE_URL does both.
     */
    DATABASE_MIGRATION_URL: postgresUrl.optional(),
    /**
     * With DATABASE_MIGRATION_URL: create (or update) DATABASE_URL's role at start-up, with DATABASE_URL's password,
     * as `pretext db create-runtime-role` does (what the CDK stack sets: both come from generated secrets).
     */
    DATABASE_ENSURE_RUNTIME_ROLE: bool.default(false),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(5),
    PRETEXT_ADMIN_KEY: z.string().min(32, 'must be at least 32 characters (use a random secret)').optional(),
    S3_BUCKET: z.string().min(3).optional(),
    S3_REGION: z.string().min(1).default('us-east-1'),
    S3_ENDPOINT: z.url().optional(),
    S3_FORCE_PATH_STYLE: bool.optional(),
    S3_ACCESS_KEY_ID: z.string().min(1).optional(),
    S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    /** HMAC secret for the local object store's presigned URLs; generated and kept under the data dir when unset. */
    PRETEXT_SIGNING_SECRET: z.string().min(32).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
    /**
     * Largest body of an inference request (embed / predict / similar queries, POST /v1/embeddings): 2048 inputs of up
     * to ~6 KB of base64 each (28×28 PNGs are 0.4–3 KB) fit. At least MAX_BODY_BYTES.
     */
    MAX_INFERENCE_BODY_BYTES: z.coerce.number().int().min(1024).default(16 * 2 ** 20),
    GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).max(50).default(12),
    GRAPHQL_MAX_COST: z.coerce.number().int().min(10).default(5000),
    GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(1).default(30),
    GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(100).default(5000),
    /** Worker threads per loaded model, each with its own onnxruntime session (0: run on the event loop); default one per core, at most 8. */
    PRETEXT_INFERENCE_WORKERS: z.coerce.number().int().min(0).max(64).optional(),
    /** onnxruntime threads per session; default: the cores divided among the workers. */
    PRETEXT_INFERENCE_THREADS: z.coerce.number().int().min(1).max(256).optional(),
    /** Most rows in one forward pass; concurrent requests are merged up to this. */
    PRETEXT_BATCH_MAX_SIZE: z.coerce.number().int().min(1).max(4096).default(64),
    /** How long the oldest queued row may wait for others to join its batch; 0 (default): no timer, a batch leaves at
     *  the end of the event-loop turn and grows while the inference slots are busy (docs/serving.md section 8). */
    PRETEXT_BATCH_MAX_WAIT_MS: z.coerce.number().min(0).max(1000).default(0),
    /** Depth of introspection queries (fragments flattened); the standard introspection query of IDEs is 15 deep. */
    GRAPHQL_MAX_INTROSPECTION_DEPTH: z.coerce.number().int().min(4).max(50).default(15),
    /** Largest file accepted through a GraphQL multipart upload; larger files use presigned multipart uploads. */
    MAX_UPLOAD_BYTES: z.coerce.number().int().min(1).default(256 * 2 ** 20),
    /** Largest file accepted through a presigned multipart upload. */
    MAX_MULTIPART_BYTES: z.coerce.number().int().min(1).default(100 * 2 ** 30),
    /** Part size offered to multipart clients (S3 needs ≥ 5 MiB for all parts but the last). */
    MULTIPART_PART_BYTES: z.coerce.number().int().min(5 * 2 ** 20).default(16 * 2 ** 20),
    UPLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(3600),
    /** Multipart uploads idle for longer are aborted and their parts deleted. */
    ABANDONED_UPLOAD_HOURS: z.coerce.number().min(0.0001).default(24),
    /**
     * `inline`: the process that finalizes a version also processes it (a long-lived server). `worker`: finalize only
     * marks it PROCESSING and the worker's tick processes it (serverless: a request Lambda freezes once it answers).
     */
    DATASET_PROCESSING: z.enum(['inline', 'worker', 'job']).default('inline'),
    /**
     * `job` only: each finalized version is processed by a job on the configured dispatcher (an AWS Batch array job, a
     * Kubernetes Indexed Job, local children), one copy per DATASET_JOB_BYTES_PER_PART of uploads, at most
     * DATASET_JOB_MAX_PARTS copies; the worker tick merges their parts (src/modules/datasets/processing-jobs.ts).
     */
    PLATFORM_JOB_COMMAND: z.string().min(2).optional(),
    DATASET_JOB_BYTES_PER_PART: z.coerce.number().int().min(1).default(512 * 2 ** 20),
    DATASET_JOB_MAX_PARTS: z.coerce.number().int().min(1).max(10_000).default(64),
    /** `job` only: embedding-space builds get one copy per this many rows (at most one per shard, DATASET_JOB_MAX_PARTS). */
    SPACE_JOB_ROWS_PER_PART: z.coerce.number().int().min(1).default(100_000),
    DATASET_JOB_CPUS: z.coerce.number().min(0.25).default(2),
    DATASET_JOB_MEMORY_MB: z.coerce.number().int().min(128).default(4096),
    DATASET_JOB_TIMEOUT_SECONDS: z.coerce.number().int().min(60).default(3600),
    /**
     * DISPATCHER=aws-batch with DATASET_PROCESSING=job: the CPU queue and job definition processing jobs go to. Not the
     * trainer's: its job role holds no permissions (trainers use presigned URLs), while a processing copy reads and
     * writes the bucket with its own role.
     */
    DATASET_JOB_QUEUE: z.string().min(1).optional(),
    DATASET_JOB_DEFINITION: z.string().min(1).optional(),
    /** Objects the dataset reconciler looks at per pass; the next pass resumes where this one stopped. */
    RECONCILE_OBJECTS_PER_PASS: z.coerce.number().int().min(1).default(10_000),
    /** Storage quota of tenants created without one. */
    DEFAULT_STORAGE_QUOTA_BYTES: z.coerce.number().int().min(0).default(10 * 2 ** 30),
    // --- Training jobs (queue worker, dispatcher, supervisor, per-tenant limits) ---
    /** Where trainer tasks run: child processes here, or GPU container tasks (settings below; see dispatcherProblems). */
    DISPATCHER: z.enum(['local', 'aws-batch', 'ecs', 'kubernetes']).default('local'),
    /** AWS dispatchers: region and (VPC / test) endpoint override of the Batch or ECS API. */
    DISPATCH_AWS_REGION: z.string().min(1).default('us-east-1'),
    DISPATCH_AWS_ENDPOINT: z.url().optional(),
    BATCH_JOB_QUEUE: z.string().min(1).optional(),
    BATCH_JOB_DEFINITION: z.string().min(1).optional(),
    ECS_CLUSTER: z.string().min(1).optional(),
    ECS_TASK_DEFINITION: z.string().min(1).optional(),
    ECS_CONTAINER_NAME: z.string().min(1).default('trainer'),
    /** Comma-separated GPU capacity provider names. */
    ECS_CAPACITY_PROVIDERS: z.string().min(1).optional(),
    /** Comma-separated subnet ids (awsvpc networking) and security groups. */
    ECS_SUBNETS: z.string().min(1).optional(),
    ECS_SECURITY_GROUPS: z.string().min(1).optional(),
    K8S_NAMESPACE: z.string().min(1).default('pretext'),
    /** A kubeconfig file; unset means the in-cluster service account. */
    K8S_KUBECONFIG: z.string().min(1).optional(),
    /** Trainer image (Kubernetes needs one; Batch/ECS take theirs from the job/task definition). */
    TRAINER_IMAGE: z.string().min(1).optional(),
    /** Trainer child processes the local dispatcher runs at once. */
    LOCAL_MAX_CONCURRENT: z.coerce.number().int().min(1).max(64).default(1),
    /**
     * GPUs the local dispatcher's host offers its trainer children (a GPU workstation). 0 (default): GPU runs are
     * refused at admission instead of queueing for a GPU that is not there.
     */
    LOCAL_GPUS: z.coerce.number().int().min(0).max(8).default(0),
    /** Command (JSON array of strings) the local dispatcher runs; default: node dist/src/training/main.js. */
    TRAINER_COMMAND: z.string().min(2).optional(),
    /** Run the queue worker and supervisor in this process (`pretext serve` turns it on). */
    RUN_WORKER: bool.default(false),
    WORKER_POLL_MS: z.coerce.number().int().min(10).default(1000),
    /** A RUNNING run whose last heartbeat is older than this is re-dispatched (resuming from its checkpoint). */
    RUN_HEARTBEAT_STALE_SECONDS: z.coerce.number().min(1).default(120),
    /** How often the trainer reports a heartbeat (passed to it in its spec). */
    RUN_HEARTBEAT_SECONDS: z.coerce.number().min(0.1).default(15),
    RUN_DEFAULT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(6 * 3600),
    RUN_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
    /** First retry delay; each further attempt doubles it. */
    RUN_RETRY_BASE_MS: z.coerce.number().int().min(0).default(5000),
    /** Platform default rate limits per tenant (setTenantLimits overrides them); 0 = unlimited. */
    RATE_LIMIT_REQUESTS_PER_MINUTE: z.coerce.number().int().min(0).default(1200),
    RATE_LIMIT_INFERENCE_INPUTS_PER_MINUTE: z.coerce.number().int().min(0).default(120_000),
    /** Per-tenant limits checked when an experiment is created. */
    TENANT_MAX_CONCURRENT_RUNS: z.coerce.number().int().min(1).default(4),
    /** GPU-minutes a tenant may use in a rolling 30 days. */
    TENANT_MAX_GPU_MINUTES: z.coerce.number().min(0).default(6000),
  });

/**
 * Rules that span variables. Checked on the raw environment, separately from the per-variable schema, so that
 * they are reported together with per-variable problems instead of only after those are fixed.
 */
function crossFieldProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const hasId = Boolean(env.S3_ACCESS_KEY_ID);
  const hasSecret = Boolean(env.S3_SECRET_ACCESS_KEY);
  if (hasId !== hasSecret) {
    problems.push(
      `${hasId ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'}: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together (or neither, to use the default AWS credential chain)`,
    );
  }
  // Toggle as a union: naming a bucket switches to S3; its other settings mean nothing without one.
  if (!env.S3_BUCKET && (env.S3_ENDPOINT || hasId)) problems.push('S3_BUCKET: required when S3_ENDPOINT or S3 credentials are set');
  // The embedded database has one role; separate migration credentials only mean something on a Postgres server.
  if (env.DATABASE_ENSURE_RUNTIME_ROLE && !env.DATABASE_MIGRATION_URL) problems.push('DATABASE_ENSURE_RUNTIME_ROLE: needs DATABASE_MIGRATION_URL (the owner creates the runtime role)');
  if (env.DATABASE_MIGRATION_URL && !env.DATABASE_URL) problems.push('DATABASE_URL: required when DATABASE_MIGRATION_URL is set (the runtime role\'s URL)');
  const body = Number(env.MAX_BODY_BYTES ?? 1_048_576);
  const inference = Number(env.MAX_INFERENCE_BODY_BYTES ?? 16 * 2 ** 20);
  if (Number.isFinite(body) && Number.isFinite(inference) && inference < body) {
    problems.push(`MAX_INFERENCE_BODY_BYTES: must be at least MAX_BODY_BYTES (${body}); got ${inference}`);
  }
  return problems;
}

export type StorageConfig =
  | { kind: 'local'; root: string }
  | {
      kind: 's3';
      bucket: string;
      region: string;
      endpoint?: string;
      forcePathStyle: boolean;
      credentials?: { accessKeyId: string; secretAccessKey: string };
    };

export type DatabaseConfig =
  /** `migrationUrl`: migrations run with it (the owner) and every runtime query with `url` (a non-owner role). */
  | { kind: 'postgres'; url: string; migrationUrl?: string; ensureRuntimeRole?: boolean; poolSize: number }
  | { kind: 'embedded'; dataDir: string; poolSize: number };

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  publicUrl?: string;
  /** Idle keep-alive timeout of the HTTP server, ms (HTTP_KEEP_ALIVE_SECONDS). */
  keepAliveMs: number;
  dataDir: string;
  database: DatabaseConfig;
  storage: StorageConfig;
  adminKey?: string;
  signingSecret?: string;
  logLevel: string;
  introspection: boolean;
  limits: {
    maxBodyBytes: number;
    maxInferenceBodyBytes: number;
    maxDepth: number;
    maxIntrospectionDepth: number;
    maxCost: number;
    maxAliases: number;
    maxTokens: number;
  };
  inference: { workers: number; intraOpThreads?: number; maxBatchSize: number; maxWaitMs: number };
  datasets: {
    maxUploadBytes: number;
    maxMultipartBytes: number;
    multipartPartBytes: number;
    uploadUrlTtlSeconds: number;
    abandonedUploadMs: number;
    reconcileObjectsPerPass: number;
    defaultStorageQuotaBytes: bigint;
    processing: 'inline' | 'worker' | 'job';
    /** DATASET_PROCESSING=job: how processing jobs are cut and what each copy gets. */
    job: {
      command: string[];
      bytesPerPart: number;
      maxParts: number;
      /** Embedding-space builds: rows per copy. */
      spaceRowsPerPart: number;
      cpus: number;
      memoryMb: number;
      timeoutSeconds: number;
      /** Where processing jobs go when not to the trainers' dispatcher (AWS Batch: their own queue and role). */
      dispatcher?: Extract<DispatcherSettings, { kind: 'aws-batch' }>;
    };
  };
  jobs: JobsConfig;
  rateLimits: { requestsPerMinute: number; inferenceInputsPerMinute: number };
}

const csv = (v: string | undefined): string[] => (v ? v.split(',').map((x) => x.trim()).filter(Boolean) : []);

/** Where trainer tasks run; the values each dispatcher needs (jobs/dispatchers builds the client from them). */
export type DispatcherSettings =
  | { kind: 'local' }
  | { kind: 'aws-batch'; region: string; endpoint?: string; jobQueue: string; jobDefinition: string; image?: string }
  | {
      kind: 'ecs';
      region: string;
      endpoint?: string;
      cluster: string;
      taskDefinition: string;
      containerName: string;
      capacityProviders: Array<{ name: string }>;
      network?: { subnets: string[]; securityGroups?: string[] };
      image?: string;
    }
  | { kind: 'kubernetes'; namespace: string; kubeConfig: { source: 'in-cluster' } | { source: 'file'; path: string }; image?: string };

/** A cloud dispatcher's required settings, checked with everything else so all problems are reported at once. */
function dispatcherProblems(env: NodeJS.ProcessEnv): string[] {
  // Trainers need the gateway's public URL from whoever dispatches them. In the serverless stack that is only the
  // worker tick (PRETEXT_WORKER_TICK); the request Lambda never dispatches and cannot be given its own API's URL (a
  // CloudFormation cycle). Outside Lambda (AWS_LAMBDA_FUNCTION_NAME is set by the Lambda runtime) every process may.
  const dispatches = env.AWS_LAMBDA_FUNCTION_NAME === undefined || env.PRETEXT_WORKER_TICK === 'true';
  const need = (names: string[], why: string) =>
    names.filter((n) => !env[n] && (n !== 'PRETEXT_PUBLIC_URL' || dispatches)).map((n) => `${n}: required when ${why}`);
  switch (env.DISPATCHER) {
    case 'aws-batch':
      return [
        ...need(['BATCH_JOB_QUEUE', 'BATCH_JOB_DEFINITION'], 'DISPATCHER=aws-batch'),
        ...need(['PRETEXT_PUBLIC_URL'], 'trainer tasks run outside this host (DISPATCHER=aws-batch)'),
        ...(env.DATASET_PROCESSING === 'job' ? need(['DATASET_JOB_QUEUE', 'DATASET_JOB_DEFINITION'], 'DATASET_PROCESSING=job with DISPATCHER=aws-batch (the trainer job role cannot read the bucket)') : []),
      ];
    case 'ecs':
      return [
        ...need(['ECS_CLUSTER', 'ECS_TASK_DEFINITION', 'ECS_CAPACITY_PROVIDERS'], 'DISPATCHER=ecs'),
        ...need(['PRETEXT_PUBLIC_URL'], 'trainer tasks run outside this host (DISPATCHER=ecs)'),
      ];
    case 'kubernetes':
      return [...need(['TRAINER_IMAGE'], 'DISPATCHER=kubernetes'), ...need(['PRETEXT_PUBLIC_URL'], 'trainer tasks run outside this host (DISPATCHER=kubernetes)')];
    default:
      return [];
  }
}

function dispatcherSettings(e: z.infer<typeof EnvSchema>): DispatcherSettings {
  const aws = { region: e.DISPATCH_AWS_REGION, ...(e.DISPATCH_AWS_ENDPOINT ? { endpoint: e.DISPATCH_AWS_ENDPOINT } : {}), ...(e.TRAINER_IMAGE ? { image: e.TRAINER_IMAGE } : {}) };
  switch (e.DISPATCHER) {
    case 'local':
      return { kind: 'local' };
    case 'aws-batch':
      return { kind: 'aws-batch', ...aws, jobQueue: e.BATCH_JOB_QUEUE!, jobDefinition: e.BATCH_JOB_DEFINITION! };
    case 'ecs': {
      const subnets = csv(e.ECS_SUBNETS);
      const groups = csv(e.ECS_SECURITY_GROUPS);
      return {
        kind: 'ecs',
        ...aws,
        cluster: e.ECS_CLUSTER!,
        taskDefinition: e.ECS_TASK_DEFINITION!,
        containerName: e.ECS_CONTAINER_NAME,
        capacityProviders: csv(e.ECS_CAPACITY_PROVIDERS).map((name) => ({ name })),
        ...(subnets.length ? { network: { subnets, ...(groups.length ? { securityGroups: groups } : {}) } } : {}),
      };
    }
    case 'kubernetes':
      return {
        kind: 'kubernetes',
        namespace: e.K8S_NAMESPACE,
        kubeConfig: e.K8S_KUBECONFIG ? { source: 'file', path: e.K8S_KUBECONFIG } : { source: 'in-cluster' },
        ...(e.TRAINER_IMAGE ? { image: e.TRAINER_IMAGE } : {}),
      };
  }
}

export interface JobsConfig {
  dispatcher: DispatcherSettings;
  localMaxConcurrent: number;
  /** argv of the trainer entrypoint for the local dispatcher. */
  trainerCommand: string[];
  worker: boolean;
  pollMs: number;
  heartbeatStaleSeconds: number;
  heartbeatSeconds: number;
  defaultTimeoutSeconds: number;
  maxAttempts: number;
  retryBaseMs: number;
  tenantMaxConcurrentRuns: number;
  tenantMaxGpuMinutes: number;
  /** GPUs one run may get from this deployment's dispatcher: LOCAL_GPUS for local, 8 for the cloud GPU queues. */
  maxRunGpus: number;
  /** PATH and HOME handed to local trainer children (nothing else of this process's environment). */
  trainerPath?: string;
  trainerHome?: string;
}

function parseCommand(raw: string | undefined, local: boolean, name = 'TRAINER_COMMAND', entry = 'training/main.js'): string[] | string {
  // Local: next to this file (dist/src/config.js → dist/src/training/main.js), wherever the process was started.
  // Containers: the trainer image's working directory holds the same build.
  if (raw === undefined) return local ? [process.execPath, path.join(__dirname, ...entry.split('/'))] : ['node', `dist/src/${entry}`];
  try {
    const v: unknown = JSON.parse(raw);
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && x.length > 0)) return v as string[];
  } catch {
    // fall through to the message below
  }
  return `${name}: must be a JSON array of non-empty strings, e.g. ["node","dist/src/${entry}"]`;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => {
          const name = i.path.join('.') || '(environment)';
          const value = typeof i.path[0] === 'string' ? env[i.path[0]] : undefined;
          // Secrets are not echoed; database URLs count as secrets (they carry passwords).
          return `${name}: ${i.message}${value !== undefined && !/SECRET|KEY|DATABASE_.*URL/.test(name) ? ` (got "${value}")` : ''}`;
        })),
    ...crossFieldProblems(env),
  ];
  problems.push(...dispatcherProblems(env));
  const trainerCommand = parseCommand(env.TRAINER_COMMAND, (env.DISPATCHER ?? 'local') === 'local');
  if (typeof trainerCommand === 'string') problems.push(trainerCommand);
  const platformJobCommand = parseCommand(env.PLATFORM_JOB_COMMAND, (env.DISPATCHER ?? 'local') === 'local', 'PLATFORM_JOB_COMMAND', 'jobs/platform-main.js');
  if (typeof platformJobCommand === 'string') problems.push(platformJobCommand);
  if (!parsed.success || problems.length || typeof trainerCommand === 'string' || typeof platformJobCommand === 'string') throw new ConfigError(problems);
  const e = parsed.data;
  const dataDir = path.resolve(e.PRETEXT_DATA_DIR);
  const storage: StorageConfig = e.S3_BUCKET
    ? {
        kind: 's3',
        bucket: e.S3_BUCKET,
        region: e.S3_REGION,
        ...(e.S3_ENDPOINT ? { endpoint: e.S3_ENDPOINT } : {}),
        // Custom endpoints (MinIO, s3rver) generally need path-style addressing; AWS itself does not.
        forcePathStyle: e.S3_FORCE_PATH_STYLE ?? e.S3_ENDPOINT !== undefined,
        ...(e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY
          ? { credentials: { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY } }
          : {}),
      }
    : { kind: 'local', root: path.join(dataDir, 'objects') };
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    ...(e.PRETEXT_PUBLIC_URL ? { publicUrl: e.PRETEXT_PUBLIC_URL.replace(/\/$/, '') } : {}),
    keepAliveMs: e.HTTP_KEEP_ALIVE_SECONDS * 1000,
    dataDir,
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL, ...(e.DATABASE_MIGRATION_URL ? { migrationUrl: e.DATABASE_MIGRATION_URL, ...(e.DATABASE_ENSURE_RUNTIME_ROLE ? { ensureRuntimeRole: true } : {}) } : {}), poolSize: e.DATABASE_POOL_SIZE }
      : { kind: 'embedded', dataDir: path.join(dataDir, 'pgdata'), poolSize: e.DATABASE_POOL_SIZE },
    storage,
    ...(e.PRETEXT_ADMIN_KEY ? { adminKey: e.PRETEXT_ADMIN_KEY } : {}),
    ...(e.PRETEXT_SIGNING_SECRET ? { signingSecret: e.PRETEXT_SIGNING_SECRET } : {}),
    logLevel: e.LOG_LEVEL,
    introspection: e.GRAPHQL_INTROSPECTION,
    limits: {
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxInferenceBodyBytes: e.MAX_INFERENCE_BODY_BYTES,
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxIntrospectionDepth: e.GRAPHQL_MAX_INTROSPECTION_DEPTH,
      maxCost: e.GRAPHQL_MAX_COST,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
    },
    inference: {
      // One single-threaded session per core measured best on the 2-core reference machine (docs/serving.md).
      workers: e.PRETEXT_INFERENCE_WORKERS ?? Math.min(8, os.availableParallelism()),
      ...(e.PRETEXT_INFERENCE_THREADS ? { intraOpThreads: e.PRETEXT_INFERENCE_THREADS } : {}),
      maxBatchSize: e.PRETEXT_BATCH_MAX_SIZE,
      maxWaitMs: e.PRETEXT_BATCH_MAX_WAIT_MS,
    },
    datasets: {
      maxUploadBytes: e.MAX_UPLOAD_BYTES,
      maxMultipartBytes: e.MAX_MULTIPART_BYTES,
      multipartPartBytes: e.MULTIPART_PART_BYTES,
      uploadUrlTtlSeconds: e.UPLOAD_URL_TTL_SECONDS,
      abandonedUploadMs: e.ABANDONED_UPLOAD_HOURS * 3600 * 1000,
      reconcileObjectsPerPass: e.RECONCILE_OBJECTS_PER_PASS,
      defaultStorageQuotaBytes: BigInt(e.DEFAULT_STORAGE_QUOTA_BYTES),
      processing: e.DATASET_PROCESSING,
      job: {
        command: platformJobCommand,
        bytesPerPart: e.DATASET_JOB_BYTES_PER_PART,
        maxParts: e.DATASET_JOB_MAX_PARTS,
        spaceRowsPerPart: e.SPACE_JOB_ROWS_PER_PART,
        cpus: e.DATASET_JOB_CPUS,
        memoryMb: e.DATASET_JOB_MEMORY_MB,
        timeoutSeconds: e.DATASET_JOB_TIMEOUT_SECONDS,
        ...(e.DISPATCHER === 'aws-batch' && e.DATASET_JOB_QUEUE && e.DATASET_JOB_DEFINITION
          ? {
              dispatcher: {
                kind: 'aws-batch' as const,
                region: e.DISPATCH_AWS_REGION,
                ...(e.DISPATCH_AWS_ENDPOINT ? { endpoint: e.DISPATCH_AWS_ENDPOINT } : {}),
                jobQueue: e.DATASET_JOB_QUEUE,
                jobDefinition: e.DATASET_JOB_DEFINITION,
              },
            }
          : {}),
      },
    },
    rateLimits: { requestsPerMinute: e.RATE_LIMIT_REQUESTS_PER_MINUTE, inferenceInputsPerMinute: e.RATE_LIMIT_INFERENCE_INPUTS_PER_MINUTE },
    jobs: {
      dispatcher: dispatcherSettings(e),
      localMaxConcurrent: e.LOCAL_MAX_CONCURRENT,
      trainerCommand,
      worker: e.RUN_WORKER,
      pollMs: e.WORKER_POLL_MS,
      heartbeatStaleSeconds: e.RUN_HEARTBEAT_STALE_SECONDS,
      heartbeatSeconds: e.RUN_HEARTBEAT_SECONDS,
      defaultTimeoutSeconds: e.RUN_DEFAULT_TIMEOUT_SECONDS,
      maxAttempts: e.RUN_MAX_ATTEMPTS,
      retryBaseMs: e.RUN_RETRY_BASE_MS,
      tenantMaxConcurrentRuns: e.TENANT_MAX_CONCURRENT_RUNS,
      tenantMaxGpuMinutes: e.TENANT_MAX_GPU_MINUTES,
      maxRunGpus: e.DISPATCHER === 'local' ? e.LOCAL_GPUS : 8,
      ...(env.PATH ? { trainerPath: env.PATH } : {}),
      ...(env.HOME ? { trainerHome: env.HOME } : {}),
    },
  };
}
