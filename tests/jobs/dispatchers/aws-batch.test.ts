/**
 * AWS Batch dispatcher. The SDK is REAL (@aws-sdk/client-batch, signing with fake static credentials, region
 * us-east-1); the endpoint is a loopback recorder (helpers/recorder.ts) that records each REST-JSON request and
 * answers with the service's JSON shapes. Nothing is stubbed inside the client, for plain and array jobs alike.
 */
import { AwsBatchDispatcher, DispatchError } from '../../../src/jobs/dispatchers';
import { FAKE_CREDENTIALS, startRecorder, type Recorder, type RecorderResponse } from './helpers/recorder';
import { makeRequest } from './helpers/request';

const QUEUE = 'arn:aws:batch:us-east-1:123456789012:job-queue/pretext-gpu';
const DEFINITION = 'pretext-trainer';

function batchJob(over: Record<string, unknown>) {
  return {
    jobArn: 'arn:aws:batch:us-east-1:123456789012:job/4c7e5d2a-0000-4000-8000-000000000001',
    jobName: 'pretext-run_01HZX4K9Q7-1',
    jobId: '4c7e5d2a-0000-4000-8000-000000000001',
    jobQueue: QUEUE,
    jobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/pretext-trainer:3',
    createdAt: 1_790_000_000_000,
    dependsOn: [],
    container: { image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/pretext-trainer:latest', vcpus: 4, memory: 16384 },
    ...over,
  };
}

describe('AwsBatchDispatcher against a loopback Batch endpoint', () => {
  let rec: Recorder;
  let answers: Record<string, RecorderResponse>;
  let d: AwsBatchDispatcher;

  beforeAll(async () => {
    rec = await startRecorder((r) => answers[r.path] ?? { status: 404, body: { message: `no route ${r.path}` } });
  });
  afterAll(() => rec.close());
  beforeEach(() => {
    rec.requests.length = 0;
    answers = {};
    d = new AwsBatchDispatcher({
      kind: 'aws-batch', region: 'us-east-1', endpoint: rec.url, credentials: FAKE_CREDENTIALS, maxAttempts: 1,
      jobQueue: QUEUE, jobDefinition: DEFINITION,
    });
  });

  it('submits one job with command, env, GPU/VCPU/MEMORY requirements, timeout and tags', async () => {
    answers['/v1/submitjob'] = { body: { jobArn: 'arn:aws:batch:us-east-1:123456789012:job/abc', jobName: 'x', jobId: 'abc-123' } };
    const req = makeRequest({ resources: { gpus: 2, cpus: 8, memoryMb: 30000 }, timeoutSeconds: 5400 });
    await expect(d.submit(req)).resolves.toEqual({ externalId: 'abc-123' });

    expect(rec.requests).toHaveLength(1);
    const r = rec.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/v1/submitjob');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/batch\/aws4_request/);
    expect(r.body).toEqual({
      // The run id has '_' and upper case: sanitised, with a hash of the exact id keeping names unique.
      jobName: expect.stringMatching(/^pretext-run-01hzx4k9q7-[a-z0-9]+-1$/),
      jobQueue: QUEUE,
      jobDefinition: DEFINITION,
      containerOverrides: {
        command: ['node', 'dist/src/training/main.js'],
        environment: [
          { name: 'PRETEXT_JOB_TOKEN', value: 'jt_secret_123' },
          { name: 'PRETEXT_GATEWAY_URL', value: 'https://api.pretext.example/graphql' },
        ],
        resourceRequirements: [
          { type: 'VCPU', value: '8' },
          { type: 'MEMORY', value: '30000' },
          { type: 'GPU', value: '2' },
        ],
      },
      timeout: { attemptDurationSeconds: 5400 },
      retryStrategy: { attempts: 1 },
      tags: { 'pretext:run-id': 'run_01HZX4K9Q7', 'pretext:tenant-id': 'tenant_acme', 'pretext:attempt': '1' },
      propagateTags: true,
    });
    expect(r.body.jobName.length).toBeLessThanOrEqual(128);
  });

  it('omits the GPU requirement for CPU jobs and raises short timeouts to the 60 s Batch minimum', async () => {
    answers['/v1/submitjob'] = { body: { jobArn: 'arn', jobName: 'x', jobId: 'cpu-1' } };
    await d.submit(makeRequest({ resources: { gpus: 0, cpus: 2, memoryMb: 4096 }, timeoutSeconds: 10 }));
    const body = rec.requests[0]!.body;
    expect(body.containerOverrides.resourceRequirements).toEqual([
      { type: 'VCPU', value: '2' },
      { type: 'MEMORY', value: '4096' },
    ]);
    expect(body.timeout).toEqual({ attemptDurationSeconds: 60 });
  });

  it('rejects requests Batch cannot express before calling the API', async () => {
    await expect(d.submit(makeRequest({ image: 'someone/else:1' }))).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/cannot override the image/) });
    await expect(d.submit(makeRequest({ resources: { gpus: 1, cpus: 1.5, memoryMb: 1024 } }))).rejects.toThrow(/whole vCPUs/);
    expect(rec.requests).toHaveLength(0);
  });

  it('terminates on cancel', async () => {
    answers['/v1/terminatejob'] = { body: {} };
    await d.cancel('abc-123');
    expect(rec.requests[0]!.path).toBe('/v1/terminatejob');
    expect(rec.requests[0]!.body).toEqual({ jobId: 'abc-123', reason: 'Cancelled by Pretext' });
  });

  it.each([
    ['SUBMITTED', {}, { state: 'PENDING' }],
    ['RUNNABLE', { statusReason: 'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT' }, { state: 'PENDING', reason: 'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT' }],
    ['STARTING', {}, { state: 'PENDING' }],
    ['RUNNING', { startedAt: 1_790_000_100_000 }, { state: 'RUNNING' }],
    ['SUCCEEDED', { container: { exitCode: 0 }, stoppedAt: 1_790_000_900_000 }, { state: 'SUCCEEDED', exitCode: 0 }],
    [
      'FAILED',
      { statusReason: 'Essential container in task exited', container: { exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' } },
      { state: 'FAILED', reason: 'Essential container in task exited', exitCode: 137 },
    ],
    [
      'FAILED',
      { statusReason: 'Job attempt duration exceeded timeout', attempts: [{ container: { exitCode: 143 }, statusReason: 'timeout' }] },
      { state: 'FAILED', reason: 'Job attempt duration exceeded timeout', exitCode: 143 },
    ],
  ])('describes status %s %j', async (status, extra, expected) => {
    answers['/v1/describejobs'] = { body: { jobs: [batchJob({ status, ...extra })] } };
    await expect(d.describe('4c7e5d2a-0000-4000-8000-000000000001')).resolves.toEqual(expected);
    expect(rec.requests[0]!.body).toEqual({ jobs: ['4c7e5d2a-0000-4000-8000-000000000001'] });
  });

  it('describes a job Batch no longer knows as UNKNOWN', async () => {
    answers['/v1/describejobs'] = { body: { jobs: [] } };
    const s = await d.describe('gone');
    expect(s.state).toBe('UNKNOWN');
    expect(s.reason).toMatch(/no job gone/);
  });

  it.each([
    [500, 'ServerException', true],
    [429, 'TooManyRequestsException', true],
    [503, 'ServiceUnavailable', true],
    [400, 'ClientException', false],
    [403, 'AccessDeniedException', false],
  ])('maps HTTP %d %s to retryable=%s', async (status, type, retryable) => {
    answers['/v1/submitjob'] = { status, headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazonaws.batch.v20160810/` }, body: { message: `simulated ${type}` } };
    const err = await d.submit(makeRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DispatchError);
    expect(err).toMatchObject({ dispatcher: 'aws-batch', retryable, statusCode: status, code: type });
    expect((err as Error).message).toContain(`simulated ${type}`);
  });

  it('submits an array job: arrayProperties.size and PRETEXT_JOB_COUNT for the children', async () => {
    answers['/v1/submitjob'] = { body: { jobArn: 'arn', jobName: 'x', jobId: 'parent-1' } };
    await expect(d.submit(makeRequest({ arraySize: 8 }))).resolves.toEqual({ externalId: 'parent-1' });
    const body = rec.requests[0]!.body;
    expect(body.arrayProperties).toEqual({ size: 8 });
    // Batch sets AWS_BATCH_JOB_ARRAY_INDEX per child itself; the count is ours to pass.
    expect(body.containerOverrides.environment).toEqual([
      { name: 'PRETEXT_JOB_TOKEN', value: 'jt_secret_123' },
      { name: 'PRETEXT_GATEWAY_URL', value: 'https://api.pretext.example/graphql' },
      { name: 'PRETEXT_JOB_COUNT', value: '8' },
    ]);
  });

  it('submits arraySize 1 as a plain job: no arrayProperties (Batch refuses size 1), no PRETEXT_JOB_COUNT', async () => {
    answers['/v1/submitjob'] = { body: { jobArn: 'arn', jobName: 'x', jobId: 'plain-1' } };
    await d.submit(makeRequest({ arraySize: 1 }));
    const body = rec.requests[0]!.body;
    expect(body).not.toHaveProperty('arrayProperties');
    expect(body.containerOverrides.environment.map((e: { name: string }) => e.name)).toEqual(['PRETEXT_JOB_TOKEN', 'PRETEXT_GATEWAY_URL']);
  });

  it('rejects an arraySize Batch cannot run before calling the API', async () => {
    await expect(d.submit(makeRequest({ arraySize: 10_001 }))).rejects.toMatchObject({ code: 'InvalidRequest', message: expect.stringMatching(/arraySize must be an integer from 1 to 10000/) });
    expect(rec.requests).toHaveLength(0);
  });

  it.each([
    [
      'RUNNING',
      { arrayProperties: { size: 8, statusSummary: { SUBMITTED: 0, PENDING: 0, RUNNABLE: 2, STARTING: 0, RUNNING: 3, SUCCEEDED: 3, FAILED: 0 } } },
      { state: 'RUNNING', reason: '3 of 8 succeeded, 3 running, 2 waiting' },
    ],
    [
      'RUNNING',
      { arrayProperties: { size: 8, statusSummary: { SUBMITTED: 0, PENDING: 0, RUNNABLE: 0, STARTING: 0, RUNNING: 4, SUCCEEDED: 3, FAILED: 1 } } },
      { state: 'RUNNING', reason: '1 of 8 children failed, 3 of 8 succeeded, 4 running' },
    ],
    [
      'FAILED',
      { arrayProperties: { size: 8, statusSummary: { SUBMITTED: 0, PENDING: 0, RUNNABLE: 0, STARTING: 0, RUNNING: 0, SUCCEEDED: 5, FAILED: 3 } } },
      { state: 'FAILED', reason: '3 of 8 children failed, 5 of 8 succeeded' },
    ],
    [
      'FAILED',
      { statusReason: 'Array Child Job failed', arrayProperties: { size: 4, statusSummary: { SUCCEEDED: 3, FAILED: 1 } } },
      { state: 'FAILED', reason: '1 of 4 children failed, 3 of 4 succeeded (Array Child Job failed)' },
    ],
    [
      'SUCCEEDED',
      { arrayProperties: { size: 4, statusSummary: { SUBMITTED: 0, PENDING: 0, RUNNABLE: 0, STARTING: 0, RUNNING: 0, SUCCEEDED: 4, FAILED: 0 } } },
      { state: 'SUCCEEDED' },
    ],
    ['PENDING', { arrayProperties: { size: 4, statusSummary: { PENDING: 4 } } }, { state: 'PENDING' }],
  ])('describes an array parent in %s from its statusSummary %j', async (status, extra, expected) => {
    // A parent has no container of its own.
    answers['/v1/describejobs'] = { body: { jobs: [batchJob({ status, container: undefined, ...extra })] } };
    await expect(d.describe('4c7e5d2a-0000-4000-8000-000000000001')).resolves.toEqual(expected);
  });

  it('maps an unreachable endpoint to a retryable error', async () => {
    const down = new AwsBatchDispatcher({
      kind: 'aws-batch', region: 'us-east-1', endpoint: 'http://127.0.0.1:1', credentials: FAKE_CREDENTIALS, maxAttempts: 1,
      jobQueue: QUEUE, jobDefinition: DEFINITION,
    });
    await expect(down.describe('x')).rejects.toMatchObject({ name: 'DispatchError', retryable: true, code: 'ECONNREFUSED' });
  });
});
