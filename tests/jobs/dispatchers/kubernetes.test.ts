/**
 * Kubernetes dispatcher. The client is REAL (@kubernetes/client-node, loaded the way the adapter loads it; see
 * loadKubernetesClient) with a KubeConfig built in code; the API server is a loopback recorder
 * (helpers/recorder.ts) over plain http that records each REST request and answers with Kubernetes JSON shapes.
 * Nothing is stubbed inside the client, for plain and Indexed (array) Jobs alike.
 */
import { DispatchError, KubernetesDispatcher, kubernetesJobStatus } from '../../../src/jobs/dispatchers';
import { startRecorder, type RecordedRequest, type Recorder, type RecorderResponse } from './helpers/recorder';
import { makeRequest } from './helpers/request';

const NS = 'pretext-training';
const JOBS = `/apis/batch/v1/namespaces/${NS}/jobs`;

function status(code: number, reason: string, message: string) {
  return { status: code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code } };
}

function job(name: string, jobStatus: Record<string, unknown>) {
  return {
    kind: 'Job', apiVersion: 'batch/v1',
    metadata: { name, namespace: NS, uid: '5b9c1a2e-1111-4222-8333-444455556666', resourceVersion: '812', creationTimestamp: '2026-11-27T10:00:00Z' },
    spec: { backoffLimit: 0, template: { spec: { containers: [{ name: 'trainer', image: 'x' }], restartPolicy: 'Never' } } },
    status: jobStatus,
  };
}

describe('KubernetesDispatcher against a loopback API server', () => {
  let rec: Recorder;
  let route: (r: RecordedRequest) => RecorderResponse;
  let d: KubernetesDispatcher;

  beforeAll(async () => {
    rec = await startRecorder((r) => route(r));
  });
  afterAll(() => rec.close());
  beforeEach(() => {
    rec.requests.length = 0;
    route = () => status(404, 'NotFound', 'no route');
    d = new KubernetesDispatcher({
      kind: 'kubernetes',
      kubeConfig: { source: 'inline', server: rec.url, token: 'sa-token-abc', skipTLSVerify: true },
      namespace: NS,
      image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/pretext-trainer:1.4.0',
      ttlSecondsAfterFinished: 600,
      nodeSelector: { 'nvidia.com/gpu.present': 'true' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    });
  });

  it('creates a batch/v1 Job with GPU limits, no retries, deadline, TTL and run/tenant labels', async () => {
    route = (r) => (r.method === 'POST' && r.path === JOBS ? { status: 201, body: { ...r.body, status: {} } } : status(404, 'NotFound', r.path));
    const req = makeRequest({ runId: 'run-7f3a', tenantId: 'tenant-acme', attempt: 2, resources: { gpus: 2, cpus: 7.5, memoryMb: 30000 }, timeoutSeconds: 5400 });
    await expect(d.submit(req)).resolves.toEqual({ externalId: `${NS}/pretext-run-7f3a-2` });

    expect(rec.requests).toHaveLength(1);
    const r = rec.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe(JOBS);
    expect(r.headers.authorization).toBe('Bearer sa-token-abc');
    const labels = {
      'app.kubernetes.io/name': 'pretext-trainer',
      'app.kubernetes.io/managed-by': 'pretext',
      'pretext.dev/run-id': 'run-7f3a',
      'pretext.dev/tenant-id': 'tenant-acme',
      'pretext.dev/attempt': '2',
    };
    expect(r.body).toEqual({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pretext-run-7f3a-2', namespace: NS, labels, annotations: { 'pretext.dev/run-id': 'run-7f3a', 'pretext.dev/tenant-id': 'tenant-acme' } },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: 5400,
        ttlSecondsAfterFinished: 600,
        template: {
          metadata: { labels, annotations: { 'pretext.dev/run-id': 'run-7f3a', 'pretext.dev/tenant-id': 'tenant-acme' } },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            nodeSelector: { 'nvidia.com/gpu.present': 'true' },
            tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
            containers: [
              {
                name: 'trainer',
                image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/pretext-trainer:1.4.0',
                args: ['node', 'dist/src/training/main.js'],
                env: [
                  { name: 'PRETEXT_JOB_TOKEN', value: 'jt_secret_123' },
                  { name: 'PRETEXT_GATEWAY_URL', value: 'https://api.pretext.example/graphql' },
                ],
                resources: {
                  requests: { cpu: '7.5', memory: '30000Mi' },
                  limits: { cpu: '7.5', memory: '30000Mi', 'nvidia.com/gpu': '2' },
                },
              },
            ],
          },
        },
      },
    });
  });

  it('keeps label values valid for awkward ids and uses the request image when given', async () => {
    route = (r) => ({ status: 201, body: r.body });
    const { externalId } = await d.submit(makeRequest({ runId: 'Run/With Spaces_' + 'x'.repeat(80), image: 'ghcr.io/acme/trainer:dev' }));
    expect(externalId).toMatch(new RegExp(`^${NS}/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`));
    const body = rec.requests[0]!.body;
    expect(body.metadata.labels['pretext.dev/run-id']).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
    expect(body.metadata.annotations['pretext.dev/run-id']).toBe('Run/With Spaces_' + 'x'.repeat(80));
    expect(body.spec.template.spec.containers[0].image).toBe('ghcr.io/acme/trainer:dev');
    expect(body.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
  });

  it('leaves nvidia.com/gpu out for CPU-only jobs', async () => {
    route = (r) => ({ status: 201, body: r.body });
    await d.submit(makeRequest({ resources: { gpus: 0, cpus: 2, memoryMb: 2048 } }));
    expect(rec.requests[0]!.body.spec.template.spec.containers[0].resources.limits).toEqual({ cpu: '2', memory: '2048Mi' });
  });

  it('treats 409 AlreadyExists as the same attempt submitted before', async () => {
    route = () => status(409, 'AlreadyExists', 'jobs.batch "pretext-run-7f3a-1" already exists');
    await expect(d.submit(makeRequest({ runId: 'run-7f3a' }))).resolves.toEqual({ externalId: `${NS}/pretext-run-7f3a-1` });
  });

  it('deletes with propagationPolicy Background on cancel and ignores a Job already gone', async () => {
    route = (r) => (r.method === 'DELETE' ? { status: 200, body: { kind: 'Status', apiVersion: 'v1', status: 'Success' } } : status(404, 'NotFound', ''));
    await d.cancel(`${NS}/pretext-run-7f3a-1`);
    const r = rec.requests[0]!;
    expect(r.method).toBe('DELETE');
    expect(r.path).toBe(`${JOBS}/pretext-run-7f3a-1`);
    // The client may send the policy as a query parameter or in a DeleteOptions body; either reaches the API server.
    const policy = r.query.get('propagationPolicy') ?? r.body?.propagationPolicy;
    expect(policy).toBe('Background');

    route = () => status(404, 'NotFound', 'jobs.batch "pretext-run-7f3a-1" not found');
    await expect(d.cancel(`${NS}/pretext-run-7f3a-1`)).resolves.toBeUndefined();
  });

  it.each([
    ['just created', {}, { state: 'PENDING' }],
    ['pod pending', { active: 1, ready: 0, startTime: '2026-11-27T10:00:01Z' }, { state: 'PENDING' }],
    ['pod running', { active: 1, ready: 1, startTime: '2026-11-27T10:00:01Z' }, { state: 'RUNNING' }],
    ['pre-1.24 cluster', { active: 1 }, { state: 'RUNNING' }],
  ])('describes a Job (%s)', async (_label, jobStatus, expected) => {
    route = (r) => (r.method === 'GET' && r.path === `${JOBS}/pretext-run-7f3a-1` ? { body: job('pretext-run-7f3a-1', jobStatus) } : status(404, 'NotFound', r.path));
    await expect(d.describe(`${NS}/pretext-run-7f3a-1`)).resolves.toEqual(expected);
    expect(rec.requests).toHaveLength(1); // no pod lookup until the Job has finished
  });

  it.each([
    [
      'complete',
      { succeeded: 1, conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'True', lastTransitionTime: '2026-11-27T11:00:00Z' }] },
      0,
      { state: 'SUCCEEDED', exitCode: 0 },
    ],
    [
      'failed',
      { failed: 1, conditions: [{ type: 'FailureTarget', status: 'True' }, { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] },
      137,
      { state: 'FAILED', reason: 'BackoffLimitExceeded: Job has reached the specified backoff limit', exitCode: 137 },
    ],
    [
      'deadline',
      { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }] },
      undefined,
      { state: 'FAILED', reason: 'DeadlineExceeded: Job was active longer than specified deadline' },
    ],
  ])('describes a finished Job (%s) with the trainer exit code from its pod', async (_label, jobStatus, exitCode, expected) => {
    const name = 'pretext-run-7f3a-1';
    route = (r) => {
      if (r.path === `${JOBS}/${name}`) return { body: job(name, jobStatus) };
      if (r.path === `/api/v1/namespaces/${NS}/pods`) {
        const terminated = exitCode === undefined ? undefined : { exitCode, reason: exitCode === 0 ? 'Completed' : 'OOMKilled', startedAt: '2026-11-27T10:00:05Z', finishedAt: '2026-11-27T11:00:00Z' };
        return {
          body: {
            kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '900' },
            items: [{ metadata: { name: `${name}-x7k2p`, namespace: NS, labels: { 'job-name': name } }, status: { phase: exitCode === 0 ? 'Succeeded' : 'Failed', containerStatuses: [{ name: 'trainer', image: 'x', imageID: '', ready: false, restartCount: 0, state: terminated ? { terminated } : {} }] } }],
          },
        };
      }
      return status(404, 'NotFound', r.path);
    };
    await expect(d.describe(`${NS}/${name}`)).resolves.toEqual(expected);
    expect(rec.requests[1]!.path).toBe(`/api/v1/namespaces/${NS}/pods`);
    expect(rec.requests[1]!.query.get('labelSelector')).toBe(`job-name=${name}`);
  });

  it('creates an Indexed Job for an array request: completions, parallelism, no per-index retries, PRETEXT_JOB_COUNT', async () => {
    route = (r) => ({ status: 201, body: r.body });
    const capped = new KubernetesDispatcher({
      kind: 'kubernetes', namespace: NS, image: 'x', maxParallel: 4, kubeConfig: { source: 'inline', server: rec.url, skipTLSVerify: true },
    });
    await expect(capped.submit(makeRequest({ runId: 'run-7f3a', arraySize: 6 }))).resolves.toEqual({ externalId: `${NS}/pretext-run-7f3a-1` });
    const spec = rec.requests[0]!.body.spec;
    expect(spec).toMatchObject({
      completionMode: 'Indexed',
      completions: 6,
      parallelism: 4,
      backoffLimitPerIndex: 0,
      maxFailedIndexes: 0,
      backoffLimit: 0,
      activeDeadlineSeconds: 7200,
    });
    // Kubernetes sets JOB_COMPLETION_INDEX in each pod; the count is ours to pass.
    expect(spec.template.spec.containers[0].env).toEqual([
      { name: 'PRETEXT_JOB_TOKEN', value: 'jt_secret_123' },
      { name: 'PRETEXT_GATEWAY_URL', value: 'https://api.pretext.example/graphql' },
      { name: 'PRETEXT_JOB_COUNT', value: '6' },
    ]);
    expect(spec.template.spec.restartPolicy).toBe('Never'); // required by backoffLimitPerIndex

    // Without maxParallel every index runs at once; arraySize 1 stays a plain Job.
    await d.submit(makeRequest({ runId: 'run-b', arraySize: 3 }));
    expect(rec.requests[1]!.body.spec).toMatchObject({ completionMode: 'Indexed', completions: 3, parallelism: 3 });
    await d.submit(makeRequest({ runId: 'run-c', arraySize: 1 }));
    const plain = rec.requests[2]!.body.spec;
    for (const k of ['completionMode', 'completions', 'parallelism', 'backoffLimitPerIndex', 'maxFailedIndexes']) expect(plain).not.toHaveProperty(k);
    expect(plain.template.spec.containers[0].env.map((e: { name: string }) => e.name)).toEqual(['PRETEXT_JOB_TOKEN', 'PRETEXT_GATEWAY_URL']);

    expect(() => new KubernetesDispatcher({ kind: 'kubernetes', namespace: NS, maxParallel: 0, kubeConfig: { source: 'in-cluster' } })).toThrow(/maxParallel must be an integer >= 1/);
  });

  it.each([
    ['some indexes running', { active: 3, ready: 3, succeeded: 3, completedIndexes: '0-2' }, { state: 'RUNNING' }],
    [
      'Complete with every index',
      { succeeded: 6, completedIndexes: '0-5', conditions: [{ type: 'Complete', status: 'True' }] },
      { state: 'SUCCEEDED' },
    ],
    [
      'Complete but short of completions',
      { succeeded: 4, failed: 2, failedIndexes: '1,4', conditions: [{ type: 'Complete', status: 'True' }] },
      { state: 'FAILED', reason: 'failed indexes 1,4 of 6: only 4 of 6 succeeded' },
    ],
    [
      'Failed with failed indexes',
      { succeeded: 2, failed: 1, failedIndexes: '3', conditions: [{ type: 'Failed', status: 'True', reason: 'MaxFailedIndexesExceeded', message: 'Job has exceeded the specified maximal number of failed indexes' }] },
      { state: 'FAILED', reason: 'failed indexes 3 of 6: MaxFailedIndexesExceeded: Job has exceeded the specified maximal number of failed indexes' },
    ],
  ])('kubernetesJobStatus of an Indexed Job (%s)', (_label, jobStatus, expected) => {
    // The JSON shape from the wire (creationTimestamp a string): the client's type says Date once deserialised.
    const j = job('pretext-run-7f3a-1', jobStatus);
    const indexed = { ...j, spec: { ...j.spec, completionMode: 'Indexed', completions: 6 } } as unknown as Parameters<typeof kubernetesJobStatus>[0];
    expect(kubernetesJobStatus(indexed)).toEqual(expected);
  });

  it('describes a failed Indexed Job with the exit code of a failed pod', async () => {
    const name = 'pretext-run-7f3a-1';
    const pod = (index: number, exitCode: number) => ({
      metadata: { name: `${name}-${index}-abcde`, namespace: NS, labels: { 'job-name': name }, annotations: { 'batch.kubernetes.io/job-completion-index': String(index) } },
      status: { phase: exitCode === 0 ? 'Succeeded' : 'Failed', containerStatuses: [{ name: 'trainer', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode } } }] },
    });
    route = (r) => {
      if (r.path === `${JOBS}/${name}`) {
        const j = job(name, { succeeded: 1, failed: 1, failedIndexes: '1', conditions: [{ type: 'Failed', status: 'True', reason: 'MaxFailedIndexesExceeded' }] });
        return { body: { ...j, spec: { ...j.spec, completionMode: 'Indexed', completions: 2 } } };
      }
      if (r.path === `/api/v1/namespaces/${NS}/pods`) return { body: { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [pod(0, 0), pod(1, 3)] } };
      return status(404, 'NotFound', r.path);
    };
    await expect(d.describe(`${NS}/${name}`)).resolves.toEqual({ state: 'FAILED', reason: 'failed indexes 1 of 2: MaxFailedIndexesExceeded', exitCode: 3 });
  });

  it('describes a Job that no longer exists as UNKNOWN', async () => {
    route = () => status(404, 'NotFound', 'jobs.batch "pretext-old-1" not found');
    await expect(d.describe(`${NS}/pretext-old-1`)).resolves.toEqual({ state: 'UNKNOWN', reason: `Kubernetes has no Job ${NS}/pretext-old-1` });
  });

  it.each([
    [500, 'InternalError', true],
    [503, 'ServiceUnavailable', true],
    [429, 'TooManyRequests', true],
    [422, 'Invalid', false],
    [403, 'Forbidden', false],
  ])('maps HTTP %d %s to retryable=%s', async (code, reason, retryable) => {
    route = () => status(code, reason, `simulated ${reason}`);
    const err = await d.submit(makeRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DispatchError);
    expect(err).toMatchObject({ dispatcher: 'kubernetes', retryable, statusCode: code, code: reason });
    expect((err as Error).message).toContain(`simulated ${reason}`);
  });

  it('maps an unreachable API server to a retryable error', async () => {
    const down = new KubernetesDispatcher({ kind: 'kubernetes', namespace: NS, image: 'x', kubeConfig: { source: 'inline', server: 'http://127.0.0.1:1', skipTLSVerify: true } });
    await expect(down.describe(`${NS}/pretext-run-1`)).rejects.toMatchObject({ name: 'DispatchError', retryable: true, code: 'ECONNREFUSED' });
  });

  it('reports plain http without skipTLSVerify as a configuration error, not a transient one', async () => {
    const insecure = new KubernetesDispatcher({ kind: 'kubernetes', namespace: NS, image: 'x', kubeConfig: { source: 'inline', server: rec.url } });
    await expect(insecure.describe(`${NS}/pretext-run-1`)).rejects.toMatchObject({ name: 'DispatchError', retryable: false, message: expect.stringMatching(/HTTP protocol is not allowed/) });
    expect(rec.requests).toHaveLength(0);
  });

  it('rejects malformed external ids and a request without any image', async () => {
    await expect(d.describe('no-slash')).rejects.toThrow(/Should be <namespace>\/<job name>/);
    const noImage = new KubernetesDispatcher({ kind: 'kubernetes', namespace: NS, kubeConfig: { source: 'inline', server: rec.url, skipTLSVerify: true } });
    await expect(noImage.submit(makeRequest())).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/No image/) });
    expect(() => new KubernetesDispatcher({ kind: 'kubernetes', namespace: NS, kubeConfig: { source: 'env' } as never })).toThrow(
      'Unsupported kubeConfig.source: "env". Should be one of: in-cluster, file, inline.',
    );
    expect(rec.requests).toHaveLength(0);
  });
});
