/**
 * ECS dispatcher. The SDK is REAL (@aws-sdk/client-ecs, signing with fake static credentials, region us-east-1);
 * the endpoint is a loopback recorder (helpers/recorder.ts) that records each JSON 1.1 request
 * (`X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Action>`) and answers with the service's JSON shapes. Nothing is
 * stubbed inside the client, for plain tasks and array jobs alike.
 */
import { DispatchError, EcsDispatcher } from '../../../src/jobs/dispatchers';
import { FAKE_CREDENTIALS, startRecorder, type RecordedRequest, type Recorder, type RecorderResponse } from './helpers/recorder';
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

/**
 * Array jobs on ECS: RunTask has no per-task index, so the dispatcher runs one task per index itself. Same real SDK
 * and loopback recorder as above; the recorder answers per request (each task's ARN derives from its index env).
 */
describe('EcsDispatcher array jobs against a loopback ECS endpoint', () => {
  let rec: Recorder;
  let now: number;
  let d: EcsDispatcher;
  /** lastStatus/stop fields per task ARN, answered by DescribeTasks. */
  let tasks: Map<string, Record<string, unknown>>;
  /** RunTask answers an error for this index (the k-th call fails). */
  let failIndex: number | undefined;

  const arnOf = (i: number) => `arn:aws:ecs:us-east-1:123456789012:task/pretext/${String(i).padStart(32, 'a')}`;
  const action = (r: RecordedRequest) => String(r.headers['x-amz-target'] ?? '').replace(TARGET_PREFIX, '');
  const calls = (name: string) => rec.requests.filter((r) => action(r) === name);
  const envOf = (r: RecordedRequest) => Object.fromEntries((r.body.overrides.containerOverrides[0].environment as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));

  beforeAll(async () => {
    rec = await startRecorder((r) => {
      switch (action(r)) {
        case 'RunTask': {
          const index = Number(envOf(r).PRETEXT_JOB_INDEX);
          if (index === failIndex) return { status: 400, body: { __type: 'ClientException', message: `simulated failure at index ${index}` } };
          return { body: { tasks: [task({ taskArn: arnOf(index) })], failures: [] } };
        }
        case 'DescribeTasks': {
          const asked = r.body.tasks as string[];
          return {
            body: {
              tasks: asked.filter((a) => tasks.has(a)).map((a) => task({ taskArn: a, ...tasks.get(a) })),
              failures: asked.filter((a) => !tasks.has(a)).map((a) => ({ arn: a, reason: 'MISSING' })),
            },
          };
        }
        case 'StopTask':
          return { body: { task: task({ taskArn: r.body.task, desiredStatus: 'STOPPED' }) } };
        default:
          return { status: 400, body: { __type: 'UnknownOperationException', message: action(r) } };
      }
    });
  });
  afterAll(() => rec.close());
  beforeEach(() => {
    rec.requests.length = 0;
    tasks = new Map();
    failIndex = undefined;
    now = 1_790_000_100_000;
    d = new EcsDispatcher(
      {
        kind: 'ecs', region: 'us-east-1', endpoint: rec.url, credentials: FAKE_CREDENTIALS, maxAttempts: 1,
        cluster: CLUSTER, taskDefinition: 'pretext-trainer', containerName: 'trainer', capacityProviders: [{ name: 'pretext-gpu-spot' }],
      },
      () => now,
    );
  });

  const succeeded = { lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', containers: [{ name: 'trainer', exitCode: 0 }] };
  const running = { lastStatus: 'RUNNING', startedAt: 1_790_000_050 };

  it('starts one task per index with PRETEXT_JOB_INDEX/PRETEXT_JOB_COUNT and encodes all ARNs in the externalId', async () => {
    const { externalId } = await d.submit(makeRequest({ arraySize: 3 }));
    expect(externalId).toBe([arnOf(0), arnOf(1), arnOf(2)].join(','));
    const runs = calls('RunTask');
    expect(runs).toHaveLength(3);
    const byIndex = runs.map((r) => ({ env: envOf(r), body: r.body })).sort((a, b) => Number(a.env.PRETEXT_JOB_INDEX) - Number(b.env.PRETEXT_JOB_INDEX));
    byIndex.forEach(({ env, body }, i) => {
      expect(body.count).toBe(1);
      expect(env).toEqual({
        PRETEXT_JOB_TOKEN: 'jt_secret_123',
        PRETEXT_GATEWAY_URL: 'https://api.pretext.example/graphql',
        PRETEXT_JOB_INDEX: String(i),
        PRETEXT_JOB_COUNT: '3',
      });
      expect(body.tags).toContainEqual({ key: 'pretext:array-index', value: String(i) });
      // Each index has its own idempotency token, or ECS would hand back one task for all of them.
      expect(body.clientToken).toMatch(new RegExp(`-1-i${i}$`));
      expect(body.clientToken.length).toBeLessThanOrEqual(64);
    });
  });

  it('describes the set: PENDING, RUNNING with progress, SUCCEEDED when every task succeeded', async () => {
    const id = [arnOf(0), arnOf(1), arnOf(2)].join(',');
    for (let i = 0; i < 3; i++) tasks.set(arnOf(i), { lastStatus: 'PROVISIONING' });
    await expect(d.describe(id)).resolves.toEqual({ state: 'PENDING' });
    tasks.set(arnOf(0), succeeded);
    tasks.set(arnOf(1), running);
    await expect(d.describe(id)).resolves.toEqual({ state: 'RUNNING', reason: '1 of 3 succeeded, 1 running, 1 pending' });
    for (let i = 0; i < 3; i++) tasks.set(arnOf(i), succeeded);
    await expect(d.describe(id)).resolves.toEqual({ state: 'SUCCEEDED', exitCode: 0 });
    expect(calls('DescribeTasks').map((r) => r.body.tasks)).toEqual([[arnOf(0), arnOf(1), arnOf(2)], [arnOf(0), arnOf(1), arnOf(2)], [arnOf(0), arnOf(1), arnOf(2)]]);
    expect(calls('StopTask')).toHaveLength(0);
  });

  it('reports FAILED naming the failed index and stops the rest of the set', async () => {
    const id = [arnOf(0), arnOf(1), arnOf(2)].join(',');
    tasks.set(arnOf(0), succeeded);
    tasks.set(arnOf(1), { lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containers: [{ name: 'trainer', exitCode: 2 }] });
    tasks.set(arnOf(2), running);
    await expect(d.describe(id)).resolves.toEqual({ state: 'FAILED', reason: 'index 1 of 3 failed: EssentialContainerExited: Essential container in task exited', exitCode: 2 });
    expect(calls('StopTask').map((r) => r.body)).toEqual([{ cluster: CLUSTER, task: arnOf(2), reason: 'Pretext: another index of the array job failed' }]);

    // Once stopped, the sibling is not mistaken for the cause.
    tasks.set(arnOf(2), { lastStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'Pretext: another index of the array job failed', containers: [{ name: 'trainer', exitCode: 143 }] });
    await expect(d.describe(id)).resolves.toMatchObject({ state: 'FAILED', reason: expect.stringMatching(/^index 1 of 3 failed/) });
  });

  it('batches DescribeTasks 100 tasks a call', async () => {
    const arns = Array.from({ length: 250 }, (_, i) => arnOf(i));
    for (const a of arns) tasks.set(a, succeeded);
    await expect(d.describe(arns.join(','))).resolves.toEqual({ state: 'SUCCEEDED', exitCode: 0 });
    const sizes = calls('DescribeTasks').map((r) => (r.body.tasks as string[]).length).sort((a, b) => b - a);
    expect(sizes).toEqual([100, 100, 50]);
  });

  it('stops the tasks already started when a RunTask part way fails, then throws the typed error', async () => {
    failIndex = 3;
    const err = await d.submit(makeRequest({ arraySize: 30 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DispatchError);
    expect(err).toMatchObject({ dispatcher: 'ecs', retryable: false, code: 'ClientException', statusCode: 400 });
    expect((err as Error).message).toMatch(/array submission failed at index 3 of 30: .*simulated failure at index 3.*; stopped the \d+ tasks already started/);
    const startedIndexes = calls('RunTask').map((r) => Number(envOf(r).PRETEXT_JOB_INDEX)).filter((i) => i !== 3);
    expect(startedIndexes).toEqual(expect.arrayContaining([0, 1, 2]));
    // A few calls were in flight (bounded concurrency), but no new index starts once one failed.
    expect(calls('RunTask').length).toBeLessThan(30);
    const stopped = calls('StopTask').map((r) => r.body.task as string);
    expect(stopped.sort()).toEqual(startedIndexes.map(arnOf).sort());
    expect(calls('StopTask')[0]!.body.reason).toBe('Pretext: the array submission failed');
  });

  it('cancel stops every task of the set', async () => {
    await d.cancel([arnOf(0), arnOf(1), arnOf(2)].join(','));
    expect(calls('StopTask').map((r) => r.body.task).sort()).toEqual([arnOf(0), arnOf(1), arnOf(2)]);
    expect(calls('StopTask').every((r) => r.body.reason === 'Cancelled by Pretext')).toBe(true);
  });

  it('a plain request (arraySize 1) is one RunTask without index env, exactly as before', async () => {
    const { externalId } = await d.submit(makeRequest({ arraySize: 1 }));
    expect(externalId).not.toContain(',');
    const runs = calls('RunTask');
    expect(runs).toHaveLength(1);
    expect(Object.keys(envOf(runs[0]!))).toEqual(['PRETEXT_JOB_TOKEN', 'PRETEXT_GATEWAY_URL']);
    expect(runs[0]!.body.clientToken).toMatch(/-1$/);
  });
});
