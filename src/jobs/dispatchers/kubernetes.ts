// The only file that loads @kubernetes/client-node.
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import type * as K8s from '@kubernetes/client-node';
import { arrayEnv, arraySizeOf } from './array';
import { DispatchError, isRetryable } from './errors';
import type { Dispatcher, DispatchRequest, DispatchStatus, KubernetesDispatcherOptions } from './types';
import { executionName, validateRequest } from './validate';

type K8sModule = typeof K8s;

const CONTAINER_NAME = 'trainer';
const DEFAULT_TTL_SECONDS = 3600;

let clientModule: Promise<K8sModule> | undefined;

/**
 * Loads @kubernetes/client-node, which is ESM-only since 1.0, from this CommonJS project.
 *
 * - Plain Node ≥ 20.19 (the engines floor): `require()` of an ES module is built in, so the compiled dist/ just
 *   requires it.
 * - Under Jest (CommonJS mode, no --experimental-vm-modules) Jest's own require refuses ES modules and Jest also
 *   intercepts `module.createRequire` and `process.getBuiltinModule`. The fallback compiles a one-line `import()`
 *   with vm's USE_MAIN_CONTEXT_DEFAULT_LOADER, so Node's real ESM loader loads the package in the main context.
 *   (Node prints an ExperimentalWarning for that flag; it is only reached when require() cannot load ESM.)
 *
 * Version note: client-node 2.x depends on undici 8, which needs Node ≥ 22.19 (it crashes on load under Node 20),
 * so the project pins 1.4.0 (node-fetch based) while Node 20 is supported.
 */
export function loadKubernetesClient(): Promise<K8sModule> {
  clientModule ??= (async () => {
    try {
      return require('@kubernetes/client-node') as K8sModule;
    } catch (err) {
      if (!/ES Module|ERR_REQUIRE_ESM|Cannot use import statement/i.test(String((err as Error)?.message ?? err))) throw err;
      const url = pathToFileURL(require.resolve('@kubernetes/client-node')).href;
      const script = new vm.Script('(u) => import(u)', {
        importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
      });
      const importer = script.runInThisContext() as (u: string) => Promise<K8sModule>;
      return importer(url);
    }
  })();
  clientModule.catch(() => (clientModule = undefined)); // let a later call try again
  return clientModule;
}

interface Clients {
  batch: K8s.BatchV1Api;
  core: K8s.CoreV1Api;
}

/**
 * Runs each attempt as a batch/v1 Job: one pod, `restartPolicy: Never`, `backoffLimit: 0` (the run supervisor owns
 * retries), `activeDeadlineSeconds` as the time limit and `ttlSecondsAfterFinished` so finished Jobs clean
 * themselves up. GPUs are requested as the `nvidia.com/gpu` extended resource (NVIDIA device plugin).
 * externalId = `<namespace>/<job name>`.
 *
 * An array request (arraySize = N > 1) is one Indexed Job: `completions: N`, `parallelism: min(N, maxParallel)`,
 * each pod gets JOB_COMPLETION_INDEX from Kubernetes (and PRETEXT_JOB_COUNT from us). `backoffLimitPerIndex: 0` and
 * `maxFailedIndexes: 0` (Kubernetes ≥ 1.29) make the first failed index fail the Job, which then stops the other
 * pods, and let the Job name its failed indexes in `status.failedIndexes`.
 */
export class KubernetesDispatcher implements Dispatcher {
  readonly name = 'kubernetes' as const;
  private clients: Promise<Clients> | undefined;

  constructor(private readonly opts: KubernetesDispatcherOptions) {
    if (!opts.namespace) throw new Error('kubernetes dispatcher: namespace is required (e.g. "pretext-training").');
    const src = (opts.kubeConfig as { source?: string } | undefined)?.source;
    if (src !== 'in-cluster' && src !== 'file' && src !== 'inline') {
      throw new Error(`kubernetes dispatcher: Unsupported kubeConfig.source: "${String(src)}". Should be one of: in-cluster, file, inline.`);
    }
    const ttl = opts.ttlSecondsAfterFinished;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 0)) {
      throw new Error(`kubernetes dispatcher: ttlSecondsAfterFinished must be an integer >= 0, got ${ttl}.`);
    }
    const par = opts.maxParallel;
    if (par !== undefined && (!Number.isInteger(par) || par < 1)) {
      throw new Error(`kubernetes dispatcher: maxParallel must be an integer >= 1, got ${par}.`);
    }
  }

  async submit(req: DispatchRequest): Promise<{ externalId: string }> {
    validateRequest('kubernetes', req);
    const image = req.image ?? this.opts.image;
    if (!image) {
      throw new DispatchError('kubernetes', 'No image: set `image` on the request or in the kubernetes dispatcher options.', { retryable: false, code: 'InvalidRequest' });
    }
    const { batch } = await this.getClients();
    const name = executionName(req, 63);
    const namespace = this.opts.namespace;
    const externalId = `${namespace}/${name}`;
    try {
      await batch.createNamespacedJob({ namespace, body: this.jobManifest(req, name, image) });
    } catch (err) {
      const e = toDispatchError('createNamespacedJob', err);
      // The same attempt was created before and its answer lost: that Job is this submission.
      if (e.statusCode === 409) return { externalId };
      throw e;
    }
    return { externalId };
  }

  async cancel(externalId: string): Promise<void> {
    const { namespace, name } = parseExternalId(externalId);
    const { batch } = await this.getClients();
    try {
      // Background: the Job goes now and the garbage collector removes its pods (SIGTERM, grace period, SIGKILL).
      await batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' });
    } catch (err) {
      const e = toDispatchError('deleteNamespacedJob', err);
      if (e.statusCode === 404) return;
      throw e;
    }
  }

  async describe(externalId: string): Promise<DispatchStatus> {
    const { namespace, name } = parseExternalId(externalId);
    const { batch, core } = await this.getClients();
    let job: K8s.V1Job;
    try {
      job = await batch.readNamespacedJob({ name, namespace });
    } catch (err) {
      const e = toDispatchError('readNamespacedJob', err);
      // Gone after ttlSecondsAfterFinished, or deleted by cancel.
      if (e.statusCode === 404) return { state: 'UNKNOWN', reason: `Kubernetes has no Job ${externalId}` };
      throw e;
    }
    const status = kubernetesJobStatus(job);
    if (status.state !== 'SUCCEEDED' && status.state !== 'FAILED') return status;
    // The Job object carries no exit code; its pods do (for an Indexed Job that failed, a failed pod's).
    try {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` });
      const exitCode = trainerExitCode(pods, status.state === 'FAILED');
      return exitCode === undefined ? status : { ...status, exitCode };
    } catch (err) {
      throw toDispatchError('listNamespacedPod', err);
    }
  }

  /** The Job this dispatcher submits (exported shape for review; see tests). */
  jobManifest(req: DispatchRequest, name: string, image: string): K8s.V1Job {
    const labels = {
      'app.kubernetes.io/name': 'pretext-trainer',
      'app.kubernetes.io/managed-by': 'pretext',
      'pretext.dev/run-id': labelValue(req.runId),
      'pretext.dev/tenant-id': labelValue(req.tenantId),
      'pretext.dev/attempt': String(req.attempt),
    };
    // Label values are restricted (63 chars, [A-Za-z0-9._-]); annotations keep the exact ids.
    const annotations = { 'pretext.dev/run-id': req.runId, 'pretext.dev/tenant-id': req.tenantId };
    const { gpus, cpus, memoryMb } = req.resources;
    const quantities: Record<string, string> = { cpu: String(cpus), memory: `${memoryMb}Mi` };
    const limits = gpus > 0 ? { ...quantities, 'nvidia.com/gpu': String(gpus) } : quantities;
    const size = arraySizeOf(req);
    const indexed: Partial<K8s.V1JobSpec> =
      size > 1
        ? {
            completionMode: 'Indexed',
            completions: size,
            parallelism: Math.min(size, this.opts.maxParallel ?? size),
            // No retry of an index (the run supervisor owns retries) and the first failed index fails the whole Job.
            backoffLimitPerIndex: 0,
            maxFailedIndexes: 0,
          }
        : {};
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, namespace: this.opts.namespace, labels, annotations },
      spec: {
        // Kept for arrays too: an API server older than 1.29 drops the per-index fields, and the default
        // backoffLimit (6) would then retry pods behind the supervisor's back. With both set, the first failure
        // fails the Job either way.
        backoffLimit: 0,
        ...indexed,
        activeDeadlineSeconds: req.timeoutSeconds,
        ttlSecondsAfterFinished: this.opts.ttlSecondsAfterFinished ?? DEFAULT_TTL_SECONDS,
        template: {
          metadata: { labels, annotations },
          spec: {
            restartPolicy: 'Never',
            // The trainer talks only to the gateway (job token) and S3 (presigned URLs), never to the Kubernetes API.
            automountServiceAccountToken: false,
            ...(this.opts.serviceAccountName ? { serviceAccountName: this.opts.serviceAccountName } : {}),
            ...(this.opts.nodeSelector ? { nodeSelector: this.opts.nodeSelector } : {}),
            ...(this.opts.tolerations ? { tolerations: this.opts.tolerations } : {}),
            ...(this.opts.imagePullSecrets ? { imagePullSecrets: this.opts.imagePullSecrets.map((n) => ({ name: n })) } : {}),
            containers: [
              {
                name: CONTAINER_NAME,
                image,
                // `args` (Docker CMD), not `command` (ENTRYPOINT): Batch and ECS overrides replace CMD too, so the image's
                // init entrypoint (tini, forwarding SIGTERM to node) stays in place on every backend.
                args: req.command,
                env: Object.entries(arrayEnv(req)).map(([n, value]) => ({ name: n, value })),
                // requests = limits: Guaranteed QoS, so a busy node does not evict a long training run first.
                resources: { requests: quantities, limits },
              },
            ],
          },
        },
      },
    };
  }

  private getClients(): Promise<Clients> {
    this.clients ??= (async () => {
      const k8s = await loadKubernetesClient();
      const kc = new k8s.KubeConfig();
      const src = this.opts.kubeConfig;
      switch (src.source) {
        case 'in-cluster':
          kc.loadFromCluster();
          break;
        case 'file':
          kc.loadFromFile(src.path);
          if (src.context) kc.setCurrentContext(src.context);
          break;
        case 'inline':
          kc.loadFromOptions({
            clusters: [{ name: 'pretext', server: src.server, skipTLSVerify: src.skipTLSVerify ?? false, ...(src.caData ? { caData: src.caData } : {}) }],
            users: [{ name: 'pretext', ...(src.token ? { token: src.token } : {}) }],
            contexts: [{ name: 'pretext', cluster: 'pretext', user: 'pretext', namespace: this.opts.namespace }],
            currentContext: 'pretext',
          });
          break;
      }
      return { batch: kc.makeApiClient(k8s.BatchV1Api), core: kc.makeApiClient(k8s.CoreV1Api) };
    })();
    this.clients.catch(() => (this.clients = undefined));
    return this.clients;
  }
}

/**
 * Job status → dispatcher state (conditions first; then active/ready pods). SUCCEEDED needs the Complete condition
 * and `succeeded >= completions` (an Indexed Job without maxFailedIndexes can complete with failed indexes).
 * A failure names the failed indexes when the Job lists them (`status.failedIndexes`, e.g. "1,3-5").
 */
export function kubernetesJobStatus(job: K8s.V1Job): DispatchStatus {
  const s = job.status ?? {};
  const completions = job.spec?.completions ?? 1;
  const cond = (type: string) => s.conditions?.find((c) => c.type === type && c.status === 'True');
  const failedIndexes = s.failedIndexes ? `failed indexes ${s.failedIndexes} of ${completions}` : undefined;
  const failed = cond('Failed');
  if (failed) {
    const reason = [failedIndexes, failed.reason, failed.message].filter(Boolean).join(': ');
    return { state: 'FAILED', reason: reason || 'Job failed' };
  }
  if (cond('Complete')) {
    if ((s.succeeded ?? 0) >= completions) return { state: 'SUCCEEDED' };
    return { state: 'FAILED', reason: `${failedIndexes ?? 'Job complete'}: only ${s.succeeded ?? 0} of ${completions} succeeded` };
  }
  if ((s.active ?? 0) > 0) {
    // `ready` (Kubernetes ≥ 1.24) separates pods still pending (scheduling, image pull) from running ones.
    return s.ready === undefined || s.ready > 0 ? { state: 'RUNNING' } : { state: 'PENDING' };
  }
  return { state: 'PENDING' };
}

/** The trainer's exit code from the Job's pods; with `preferFailure`, a non-zero one if any pod has one. */
function trainerExitCode(pods: K8s.V1PodList, preferFailure: boolean): number | undefined {
  let first: number | undefined;
  for (const pod of pods.items ?? []) {
    const statuses = pod.status?.containerStatuses ?? [];
    const c = statuses.find((x) => x.name === CONTAINER_NAME) ?? statuses[0];
    const code = c?.state?.terminated?.exitCode ?? c?.lastState?.terminated?.exitCode;
    if (code === undefined) continue;
    if (!preferFailure || code !== 0) return code;
    first ??= code;
  }
  return first;
}

function parseExternalId(externalId: string): { namespace: string; name: string } {
  const m = /^([a-z0-9-]{1,63})\/([a-z0-9-]{1,63})$/.exec(externalId);
  if (!m) {
    throw new DispatchError('kubernetes', `Malformed Kubernetes externalId "${externalId}". Should be <namespace>/<job name>.`, { retryable: false, code: 'InvalidRequest' });
  }
  return { namespace: m[1]!, name: m[2]! };
}

function labelValue(v: string): string {
  return v.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** ApiException (HTTP status in `code`) or a transport error (string `code`, e.g. ECONNREFUSED). */
function toDispatchError(action: string, err: unknown): DispatchError {
  if (err instanceof DispatchError) return err;
  const e = (err ?? {}) as { code?: unknown; body?: unknown; message?: string };
  const statusCode = typeof e.code === 'number' ? e.code : undefined;
  const body = typeof e.body === 'string' ? safeJson(e.body) : e.body;
  const k8sReason = (body as { reason?: string } | undefined)?.reason;
  const k8sMessage = (body as { message?: string } | undefined)?.message;
  const code = typeof e.code === 'string' ? e.code : k8sReason;
  const detail = k8sMessage ?? e.message ?? String(err);
  return new DispatchError(
    'kubernetes',
    `kubernetes ${action} failed${statusCode ? ` (HTTP ${statusCode})` : ''}: ${code ? `${code}: ` : ''}${detail}`,
    {
      retryable: isRetryable(statusCode, code),
      ...(code !== undefined ? { code } : {}),
      ...(statusCode !== undefined ? { statusCode } : {}),
      cause: err,
    },
  );
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
