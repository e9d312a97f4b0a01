/**
 * ECS dispatcher. The SDK is REAL (@aws-sdk/client-ecs, signing with fake static credentials, region us-east-1);
 * the endpoint is a loopback recorder (helpers/recorder.ts) that records each JSON 1.1 request
 * (`X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Action>`) and answers with the service's JSON shapes.
 */
import { DispatchError, EcsDispatcher } from '../../../src/jobs/dispatchers';
import { FAKE_CREDENTIALS, startRecorder, type Recorder, type RecorderResponse } from './helpers/recorder';
import { makeRequest } from './helpers/request';

const CLUSTER = 'pretext';
const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/pretext/0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';

function task(over: Record<string, unknown>) {
  return {
    taskArn: TASK_ARN,
    clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/pretext',
    taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/pretext-trainer:7',
    capacityProviderName: 'pretext-gpu-spot',
    desiredStatus: 'RUNNING',
    lastStatus: 'PROVISIONING',
    createdAt: 1_790_000_000.123,
    containers: [{ name: 'trainer', containerArn: 'arn:aws:ecs:us-east-1:123456789012:container/pretext/c1', lastStatus: 'PENDING' }],
    tags: [{ key: 'pretext:timeout-seconds', value: '3600' }],
    ...over,
  };
}

describe('EcsDispatcher against a loopback ECS endpoint', () => {
  let rec: Recorder;
  let answers: Record<string, RecorderResponse>;
  let now: number;
  let d: EcsDispatcher;

  beforeAll(async () => {
    rec = await startRecorder((r) => {
      const action = String(r.headers['x-amz-target'] ?? '').replace(TARGET_PREFIX, '');
      return answers[action] ?? { status: 400, body: { __type: 'UnknownOperationException', message: action } };
    });
  });
  afterAll(() => rec.close());
  beforeEach(() => {
    rec.requests.length = 0;
    answers = {};
    now = 1_790_000_100_000;
    d = new EcsDispatcher(
      {
        kind: 'ecs', region: 'us-east-1', endpoint: rec.url, credentials: FAKE_CREDENTIALS, maxAttempts: 1,
        cluster: CLUSTER, taskDefinition: 'pretext-trainer', containerName: 'trainer',
        capacityProviders: [{ name: 'pretext-gpu-spot', weight: 3 }, { name: 'pretext-gpu-ondemand', weight: 1, base: 0 }],
        network: { subnets: ['subnet-0a', 'subnet-0b'], securityGroups: ['sg-0trainer'] },
      },
      () => now,
    );
  });

  it('runs one task on the GPU capacity providers with container overrides incl. the GPU requirement', async () => {
    answers.RunTask = { body: { tasks: [task({})], failures: [] } };
    await expect(d.submit(makeRequest({ resources: { gpus: 1, cpus: 4, memoryMb: 15000 }, timeoutSeconds: 3600 }))).resolves.toEqual({ externalId: TASK_ARN });

    expect(rec.requests).toHaveLength(1);
    const r = rec.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/');
    expect(r.headers['x-amz-target']).toBe('AmazonEC2ContainerServiceV20141113.RunTask');
    expect(r.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(r.headers.authorization).toMatch(/Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/ecs\/aws4_request/);
    expect(r.body).toEqual({
      cluster: CLUSTER,
      taskDefinition: 'pretext-trainer',
      count: 1,
      capacityProviderStrategy: [
        { capacityProvider: 'pretext-gpu-spot', weight: 3 },
        { capacityProvider: 'pretext-gpu-ondemand', weight: 1, base: 0 },
      ],
      overrides: {
        containerOverrides: [
          {
            name: 'trainer',
            command: ['node', 'dist/src/training/main.js'],
            environment: [
              { name: 'PRETEXT_JOB_TOKEN', value: 'jt_secret_123' },
              { name: 'PRETEXT_GATEWAY_URL', value: 'https://api.pretext.example/graphql' },
            ],
            cpu: 4096,
            memory: 15000,
            resourceRequirements: [{ type: 'GPU', value: '1' }],
          },
        ],
      },
      networkConfiguration: {
        awsvpcConfiguration: { subnets: ['subnet-0a', 'subnet-0b'], securityGroups: ['sg-0trainer'], assignPublicIp: 'DISABLED' },
      },
      clientToken: expect.stringMatching(/^pretext-run-01hzx4k9q7-[a-z0-9]+-1$/),
      startedBy: 'pretext',
      tags: [
        { key: 'pretext:run-id', value: 'run_01HZX4K9Q7' },
        { key: 'pretext:tenant-id', value: 'tenant_acme' },
        { key: 'pretext:attempt', value: '1' },
        { key: 'pretext:timeout-seconds', value: '3600' },
      ],
      propagateTags: 'TASK_DEFINITION',
      enableECSManagedTags: true,
    });
    expect(r.body.clientToken.length).toBeLessThanOrEqual(64);
  });

  it('turns a placement failure (200 with failures) into a DispatchError, retryable for capacity shortfalls', async () => {
    answers.RunTask = { body: { tasks: [], failures: [{ arn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/x', reason: 'RESOURCE:GPU' }] } };
    await expect(d.submit(makeRequest())).rejects.toMatchObject({ name: 'DispatchError', retryable: true, code: 'RESOURCE:GPU' });
  });

  it('stops the task on cancel', async () => {
    answers.StopTask = { body: { task: task({ lastStatus: 'RUNNING', desiredStatus: 'STOPPED' }) } };
    await d.cancel(TASK_ARN);
    expect(rec.requests[0]!.headers['x-amz-target']).toBe(`${TARGET_PREFIX}StopTask`);
    expect(rec.requests[0]!.body).toEqual({ cluster: CLUSTER, task: TASK_ARN, reason: 'Cancelled by Pretext' });
  });

  it('treats stopping a task ECS no longer knows as done', async () => {
    answers.StopTask = { status: 400, body: { __type: 'InvalidParameterException', message: 'The referenced task was not found.' } };
    await expect(d.cancel(TASK_ARN)).resolves.toBeUndefined();
  });

  it.each([
    ['PROVISIONING', {}, { state: 'PENDING' }],
    ['PENDING', {}, { state: 'PENDING' }],
    ['RUNNING', { startedAt: 1_790_000_050 }, { state: 'RUNNING' }],
    ['DEACTIVATING', { startedAt: 1_790_000_050, desiredStatus: 'STOPPED' }, { state: 'RUNNING' }],
    [
      'STOPPED',
      { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containers: [{ name: 'trainer', exitCode: 0, lastStatus: 'STOPPED' }] },
      { state: 'SUCCEEDED', exitCode: 0 },
    ],
    [
      'STOPPED',
      { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containers: [{ name: 'trainer', exitCode: 2, lastStatus: 'STOPPED' }] },
      { state: 'FAILED', reason: 'EssentialContainerExited: Essential container in task exited', exitCode: 2 },
    ],
    [
      'STOPPED',
      { stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.', containers: [{ name: 'trainer', lastStatus: 'STOPPED' }] },
      { state: 'FAILED', reason: 'SpotInterruption: Your Spot Task was interrupted.' },
    ],
    [
      'STOPPED',
      { stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError', containers: [{ name: 'trainer', lastStatus: 'STOPPED', reason: 'CannotPullContainerError: pull access denied' }] },
      { state: 'FAILED', reason: 'TaskFailedToStart: CannotPullContainerError: CannotPullContainerError: pull access denied' },
    ],
  ])('describes lastStatus %s %j', async (lastStatus, extra, expected) => {
    answers.DescribeTasks = { body: { tasks: [task({ lastStatus, ...extra })], failures: [] } };
    await expect(d.describe(TASK_ARN)).resolves.toEqual(expected);
    expect(rec.requests[0]!.body).toEqual({ cluster: CLUSTER, tasks: [TASK_ARN], include: ['TAGS'] });
  });

  it('stops a task running past its timeout tag and reports FAILED', async () => {
    answers.DescribeTasks = { body: { tasks: [task({ lastStatus: 'RUNNING', startedAt: 1_790_000_000, tags: [{ key: 'pretext:timeout-seconds', value: '60' }] })] } };
    answers.StopTask = { body: { task: task({ lastStatus: 'RUNNING', desiredStatus: 'STOPPED' }) } };
    now = 1_790_000_030_000; // 30 s in: within the limit
    await expect(d.describe(TASK_ARN)).resolves.toEqual({ state: 'RUNNING' });
    now = 1_790_000_061_000; // 61 s in
    await expect(d.describe(TASK_ARN)).resolves.toEqual({ state: 'FAILED', reason: 'timed out after 60 s' });
    const actions = rec.requests.map((r) => String(r.headers['x-amz-target']).replace(TARGET_PREFIX, ''));
    expect(actions).toEqual(['DescribeTasks', 'DescribeTasks', 'StopTask']);
    expect(rec.requests[2]!.body.reason).toBe('Pretext: timed out after 60 s');
  });

  it('describes a missing task as UNKNOWN', async () => {
    answers.DescribeTasks = { body: { tasks: [], failures: [{ arn: TASK_ARN, reason: 'MISSING' }] } };
    await expect(d.describe(TASK_ARN)).resolves.toEqual({ state: 'UNKNOWN', reason: `ECS has no task ${TASK_ARN} (MISSING)` });
  });

  it.each([
    [500, 'ServerException', true],
    [400, 'ThrottlingException', true],
    [400, 'ClientException', false],
    [400, 'InvalidParameterException', false],
  ])('maps HTTP %d %s to retryable=%s', async (status, type, retryable) => {
    answers.RunTask = { status, body: { __type: type, message: `simulated ${type}` } };
    const err = await d.submit(makeRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DispatchError);
    expect(err).toMatchObject({ dispatcher: 'ecs', retryable, statusCode: status, code: type });
    expect((err as Error).message).toContain(`simulated ${type}`);
  });
});
