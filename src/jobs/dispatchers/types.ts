/**
 * The contract between the run lifecycle (modules/runs) and whatever executes a trainer container.
 * Every dispatcher speaks this interface; which one runs is decided once by createDispatcher(config).
 */

export type DispatcherName = 'local' | 'aws-batch' | 'ecs' | 'kubernetes';

export const DISPATCHER_NAMES: readonly DispatcherName[] = ['local', 'aws-batch', 'ecs', 'kubernetes'];

export interface DispatchResources {
  /** Whole GPUs (0 = CPU only). */
  gpus: number;
  /** vCPUs; fractional values are allowed where the backend supports them (Kubernetes, ECS). */
  cpus: number;
  /** Memory limit in MiB. */
  memoryMb: number;
}

export interface DispatchRequest {
  runId: string;
  tenantId: string;
  /** 1-based attempt number; (runId, attempt) names one execution. */
  attempt: number;
  /** Container image. Batch and ECS take the image from their job/task definition and reject a different one. */
  image?: string;
  command: string[];
  /** Only the job-scoped token and the gateway URL: the trainer never receives database or cloud credentials. */
  env: Record<string, string>;
  resources: DispatchResources;
  /** Wall-clock limit for the attempt, enforced by the backend where it can (Batch, Kubernetes, local). */
  timeoutSeconds: number;
  /**
   * Array (sharded) job: start this many indexed copies of the same container under one externalId (1..10 000;
   * absent or 1 = one plain execution). Each copy reads its index and the count with arrayIndexFromEnv
   * (src/jobs/array-index.ts); every dispatcher sets PRETEXT_JOB_COUNT=<arraySize> for it. `timeoutSeconds` and
   * `resources` apply to each copy. describe() reports the whole set: SUCCEEDED once every copy succeeded, FAILED as
   * soon as the backend reports one failed (the reason names which), RUNNING/PENDING otherwise.
   */
  arraySize?: number;
}

export type DispatchState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'UNKNOWN';

export interface DispatchStatus {
  state: DispatchState;
  /** Human-readable cause for FAILED/UNKNOWN (and a scheduler hint for PENDING when the backend gives one). */
  reason?: string;
  exitCode?: number;
}

export interface Dispatcher {
  readonly name: DispatcherName;
  submit(req: DispatchRequest): Promise<{ externalId: string }>;
  /** Idempotent: cancelling a finished or unknown execution resolves. */
  cancel(externalId: string): Promise<void>;
  describe(externalId: string): Promise<DispatchStatus>;
}

/** Static credentials; omit them to use the SDK's default provider chain (instance/task role in AWS). */
export interface AwsCredentialsOption {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Options shared by the AWS SDK based dispatchers. */
export interface AwsClientOptions {
  region: string;
  /** Override the service endpoint (VPC endpoint, LocalStack, or the loopback recorder in tests). */
  endpoint?: string;
  credentials?: AwsCredentialsOption;
  /** SDK attempts per call including retries of throttling/5xx (SDK default 3). */
  maxAttempts?: number;
}

export interface LocalOutputLine {
  externalId: string;
  /** The copy's index within an array job (absent for a plain execution). */
  index?: number;
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface LocalDispatcherOptions {
  kind: 'local';
  /** Children running at once; further submissions wait in FIFO order. */
  maxConcurrent: number;
  /** Time between SIGTERM and SIGKILL on cancel or timeout (default 10 000 ms). */
  killGraceMs?: number;
  /** Working directory of the children (default: this process's cwd). */
  cwd?: string;
  /**
   * Variables every child receives beneath the request's env (for example PATH, HOME). The request's env wins.
   * Nothing else from the parent's environment leaks into the child.
   */
  baseEnv?: Record<string, string>;
  /** Each complete stdout/stderr line of every child. */
  onOutput?: (line: LocalOutputLine) => void;
  /**
   * Called once when an execution reaches SUCCEEDED or FAILED; for an array job once for the whole set, after its
   * last child has exited.
   */
  onExit?: (externalId: string, status: DispatchStatus) => void;
  /** How many finished executions describe() remembers (default 1000). */
  retainFinished?: number;
}

export interface AwsBatchDispatcherOptions extends AwsClientOptions {
  kind: 'aws-batch';
  /** Job queue name or ARN (the GPU queue: spot first, on-demand fallback). */
  jobQueue: string;
  /** Job definition name, name:revision or ARN; it fixes the image. */
  jobDefinition: string;
  /** The image the job definition runs; a request naming another image is rejected (Batch cannot override it). */
  image?: string;
}

export interface EcsDispatcherOptions extends AwsClientOptions {
  kind: 'ecs';
  cluster: string;
  /** Task definition family[:revision] or ARN; it fixes the image. */
  taskDefinition: string;
  /** The trainer container's name inside the task definition (overrides address it by name). */
  containerName: string;
  /** GPU capacity provider(s) backed by an Auto Scaling group of GPU instances. */
  capacityProviders: Array<{ name: string; weight?: number; base?: number }>;
  /** awsvpc networking; omit for bridge/host task definitions. */
  network?: { subnets: string[]; securityGroups?: string[]; assignPublicIp?: boolean };
  image?: string;
}

export type KubeConfigSource =
  /** The service account mounted into the pod the gateway/worker runs in. */
  | { source: 'in-cluster' }
  /** A kubeconfig file (context defaults to its current-context). */
  | { source: 'file'; path: string; context?: string }
  /**
   * One cluster given inline. The client refuses an http:// server unless `skipTLSVerify` is true: set it only for
   * loopback or test clusters.
   */
  | { source: 'inline'; server: string; token?: string; caData?: string; skipTLSVerify?: boolean };

export interface KubernetesDispatcherOptions {
  kind: 'kubernetes';
  kubeConfig: KubeConfigSource;
  namespace: string;
  /** Default image when a request names none. */
  image?: string;
  /** Seconds a finished Job (and its pods) is kept before the TTL controller removes it (default 3600). */
  ttlSecondsAfterFinished?: number;
  /** Schedules trainers on GPU nodes, e.g. { 'nvidia.com/gpu.present': 'true' }. */
  nodeSelector?: Record<string, string>;
  /** GPU node pools are usually tainted nvidia.com/gpu=present:NoSchedule. */
  tolerations?: Array<{ key: string; operator?: 'Exists' | 'Equal'; value?: string; effect?: string }>;
  serviceAccountName?: string;
  imagePullSecrets?: string[];
  /** Pods of one array job (Indexed Job) running at once (default: all of them). */
  maxParallel?: number;
}

export type DispatcherOptions =
  | LocalDispatcherOptions
  | AwsBatchDispatcherOptions
  | EcsDispatcherOptions
  | KubernetesDispatcherOptions;
