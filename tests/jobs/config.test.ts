// The dispatcher is chosen by configuration: each cloud dispatcher's settings are validated with everything else,
// and a platform configured for AWS Batch submits a queued run through the real Batch client (to a loopback
// endpoint that answers like the service), handing the task only the gateway URL, run id and job token.
import { ConfigError, loadConfig } from '../../src/config';
import { AwsBatchDispatcher } from '../../src/jobs/dispatchers';
import { createReadyDatasetVersion, tinySequenceJsonl } from '../helpers/datasets';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { FAKE_CREDENTIALS, startRecorder, type Recorder } from './dispatchers/helpers/recorder';

jest.setTimeout(60_000);

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('dispatcher configuration', () => {
  it('defaults to the local dispatcher running the built trainer entrypoint', () => {
    const c = loadConfig({});
    expect(c.jobs.dispatcher).toEqual({ kind: 'local' });
    expect(c.jobs.trainerCommand[1]).toMatch(/training[/\\]main\.js$/);
    expect(c.jobs.worker).toBe(false);
  });

  it('reports every missing setting of a cloud dispatcher at once', () => {
    expect(problems({ DISPATCHER: 'aws-batch' })).toEqual([
      'BATCH_JOB_QUEUE: required when DISPATCHER=aws-batch',
      'BATCH_JOB_DEFINITION: required when DISPATCHER=aws-batch',
      'PRETEXT_PUBLIC_URL: required when trainer tasks run outside this host (DISPATCHER=aws-batch)',
    ]);
    expect(problems({ DISPATCHER: 'ecs', PRETEXT_PUBLIC_URL: 'https://api.example' })).toEqual([
      'ECS_CLUSTER: required when DISPATCHER=ecs',
      'ECS_TASK_DEFINITION: required when DISPATCHER=ecs',
      'ECS_CAPACITY_PROVIDERS: required when DISPATCHER=ecs',
    ]);
    expect(problems({ DISPATCHER: 'slurm' })[0]).toMatch(/^DISPATCHER: /);
    expect(problems({ TRAINER_COMMAND: 'node main.js' })).toEqual(['TRAINER_COMMAND: must be a JSON array of non-empty strings, e.g. ["node","dist/src/training/main.js"]']);
  });

  it('builds ECS and Kubernetes settings from the environment', () => {
    const ecs = loadConfig({
      DISPATCHER: 'ecs', PRETEXT_PUBLIC_URL: 'https://api.example', ECS_CLUSTER: 'gpu', ECS_TASK_DEFINITION: 'trainer:3',
      ECS_CAPACITY_PROVIDERS: 'g5-spot, g5-ondemand', ECS_SUBNETS: 'subnet-1,subnet-2', ECS_SECURITY_GROUPS: 'sg-1',
    });
    expect(ecs.jobs.dispatcher).toEqual({
      kind: 'ecs', region: 'us-east-1', cluster: 'gpu', taskDefinition: 'trainer:3', containerName: 'trainer',
      capacityProviders: [{ name: 'g5-spot' }, { name: 'g5-ondemand' }], network: { subnets: ['subnet-1', 'subnet-2'], securityGroups: ['sg-1'] },
    });
    expect(ecs.jobs.trainerCommand).toEqual(['node', 'dist/src/training/main.js']);
    const k8s = loadConfig({ DISPATCHER: 'kubernetes', PRETEXT_PUBLIC_URL: 'https://api.example', TRAINER_IMAGE: 'ghcr.io/x/trainer:1' });
    expect(k8s.jobs.dispatcher).toEqual({ kind: 'kubernetes', namespace: 'pretext', kubeConfig: { source: 'in-cluster' }, image: 'ghcr.io/x/trainer:1' });
  });
});

describe('a platform configured with DISPATCHER=aws-batch', () => {
  let rec: Recorder;
  let t: TestPlatform;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  beforeAll(async () => {
    // The SDK's default credential chain reads these (the config never carries AWS secrets).
    process.env.AWS_ACCESS_KEY_ID = FAKE_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = FAKE_CREDENTIALS.secretAccessKey;
    rec = await startRecorder((r) =>
      r.path === '/v1/submitjob' ? { body: { jobArn: 'arn:aws:batch:us-east-1:123456789012:job/j-1', jobName: r.body.jobName, jobId: 'j-1' } } : { status: 404, body: {} },
    );
    t = await startTestPlatform('http', {
      DISPATCHER: 'aws-batch', DISPATCH_AWS_ENDPOINT: rec.url, BATCH_JOB_QUEUE: 'gpu-queue', BATCH_JOB_DEFINITION: 'trainer:7',
      PRETEXT_PUBLIC_URL: 'https://gateway.pretext.example',
    });
  });
  afterAll(async () => {
    await t?.close();
    await rec?.close();
    for (const [k, v] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('submits the queued run to the job queue with only the gateway URL, run id and job token', async () => {
    expect(t.platform.jobs.dispatcher).toBeInstanceOf(AwsBatchDispatcher);
    const tenant = await t.seedTenant('batch');
    const v = await createReadyDatasetVersion(t.platform, tenant.id, [{ name: 'waves.jsonl', content: tinySequenceJsonl(24, 8) }], { modality: 'SEQUENCE', length: 8, features: 2 });
    const created = await t.exec(
      `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { run { id } } }`,
      { input: { datasetVersionId: v.versionId, pretext: 'MASKED', encoder: { kind: 'sequence', dim: 8, layers: 1 }, hyperparameters: { batchSize: 4, steps: 2 }, resources: { gpus: 1, cpus: 4, memoryMb: 8192 } } },
      { key: tenant.keys.MEMBER },
    );
    const runId = created.body.data!.createExperiment.run.id as string;
    expect(await t.platform.services.runLifecycle.dispatchOne(runId)).toBe(true);
    const run = await t.platform.db.prisma.run.findUniqueOrThrow({ where: { id: runId } });
    expect(run).toMatchObject({ status: 'DISPATCHED', dispatcher: 'aws-batch', externalId: 'j-1', attempt: 1 });
    const submit = rec.requests.find((r) => r.path === '/v1/submitjob')!;
    expect(submit.body.jobQueue).toBe('gpu-queue');
    expect(submit.body.jobDefinition).toBe('trainer:7');
    expect(submit.body.containerOverrides.command).toEqual(['node', 'dist/src/training/main.js']);
    const env = Object.fromEntries((submit.body.containerOverrides.environment as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
    expect(Object.keys(env).sort()).toEqual(['PRETEXT_GATEWAY_URL', 'PRETEXT_JOB_TOKEN', 'PRETEXT_RUN_ID']);
    expect(env.PRETEXT_GATEWAY_URL).toBe('https://gateway.pretext.example');
    expect(env.PRETEXT_RUN_ID).toBe(runId);
    expect(env.PRETEXT_JOB_TOKEN).toMatch(/^ptj_/);
    expect(submit.body.containerOverrides.resourceRequirements).toEqual(expect.arrayContaining([{ type: 'GPU', value: '1' }]));
  });
});
