// Processing jobs on AWS Batch: the worker pass (src/modules/datasets/processing-jobs.ts) with the REAL Batch SDK
// (@aws-sdk/client-batch) pointed at a loopback endpoint that records each request and answers as Batch would
// (tests/jobs/dispatchers/helpers/recorder.ts; nothing inside the client is stubbed). The array children, which
// Batch would start as containers, are the real job entry (runPlatformJob) run here once per index with the
// environment Batch gives a child (AWS_BATCH_JOB_ARRAY_INDEX plus the submitted overrides). Real database, real
// local object store, uploads over real GraphQL.
import { AwsBatchDispatcher } from '../../src/jobs/dispatchers';
import { specKey } from '../../src/jobs/platform/spec';
import { runPlatformJob } from '../../src/jobs/platform-main';
import { versionPrefix } from '../../src/modules/datasets/keys';
import { ProcessingJobs } from '../../src/modules/datasets/processing-jobs';
import { createDataset, createVersion, finalize, keysUnder, uploadFile } from '../helpers/datasets-api';
import { startTestPlatform, type SeededTenant, type TestPlatform } from '../helpers/platform';
import { FAKE_CREDENTIALS, startRecorder, type Recorder, type RecorderResponse } from './dispatchers/helpers/recorder';

const QUEUE = 'arn:aws:batch:us-east-1:123456789012:job-queue/pretext-processing';
const DEFINITION = 'arn:aws:batch:us-east-1:123456789012:job-definition/pretext-processing:1';

describe('dataset processing jobs as AWS Batch array jobs (real SDK, loopback Batch)', () => {
  let t: TestPlatform;
  let tenant: SeededTenant;
  let rec: Recorder;
  let answers: Record<string, (body: any) => RecorderResponse>;
  const tenants: string[] = [];
  beforeAll(async () => {
    t = await startTestPlatform('http', { DATASET_PROCESSING: 'job', RUN_WORKER: 'false' }, { jobTenantScope: () => tenants });
    tenant = await t.seedTenant('pbatch');
    tenants.push(tenant.id);
    rec = await startRecorder((r) => answers[r.path]?.(r.body) ?? { status: 404, body: { message: `no route ${r.path}` } });
  });
  afterAll(async () => {
    await rec?.close();
    await t?.close();
  });

  test('submits one array job of a copy per file slice, follows it, runs again after a failed attempt, and merges the parts', async () => {
    const key = tenant.keys.ADMIN;
    const ds = await createDataset(t, key, 'TEXT');
    const v = await createVersion(t, key, ds);
    const lines = (f: number, n: number) => Array.from({ length: n }, (_, i) => `file ${f} line ${i} words here`).join('\n') + '\n';
    for (const f of [0, 1, 2]) expect((await uploadFile(t, key, v, `notes-${f}.txt`, lines(f, 10 + f * 5))).status).toBe(200);
    await finalize(t, key, v);

    const batch = new AwsBatchDispatcher({ kind: 'aws-batch', region: 'us-east-1', endpoint: rec.url, credentials: FAKE_CREDENTIALS, maxAttempts: 1, jobQueue: QUEUE, jobDefinition: DEFINITION });
    const cfg = t.platform.config;
    const jobs = new ProcessingJobs(t.platform.db.prisma, t.platform.store, batch, t.platform.log, {
      job: { ...cfg.datasets.job, bytesPerPart: 100, command: ['node', 'dist/src/jobs/platform-main.js'] },
      storage: cfg.storage,
      maxAttempts: 3,
      tenantScope: () => tenants,
    });
    let submitted = 0;
    let state = 'RUNNABLE';
    answers = {
      '/v1/submitjob': () => ({ body: { jobArn: `arn:aws:batch:us-east-1:123456789012:job/p-${++submitted}`, jobName: 'x', jobId: `p-${submitted}` } }),
      '/v1/describejobs': (body: { jobs: string[] }) => ({
        body: { jobs: body.jobs.map((jobId) => ({ jobId, jobName: 'x', jobQueue: QUEUE, jobDefinition: DEFINITION, status: state, createdAt: 1, arrayProperties: { size: 3 } })) },
      }),
    };

    expect((await jobs.pass()).submitted).toBe(1);
    const prefix = versionPrefix(tenant.id, ds, v);
    const submit = rec.requests.find((r) => r.path === '/v1/submitjob')!.body as any;
    expect(submit.jobQueue).toBe(QUEUE);
    expect(submit.jobDefinition).toBe(DEFINITION);
    expect(submit.arrayProperties).toEqual({ size: 3 });
    expect(submit.containerOverrides.command).toEqual(['node', 'dist/src/jobs/platform-main.js', 'process-version', specKey(prefix)]);
    const env = Object.fromEntries((submit.containerOverrides.environment as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
    // The store's settings and the copy count; never a database URL, and no static credentials (the job role has them).
    expect(Object.keys(env).sort()).toEqual(['PRETEXT_JOB_COUNT', 'PRETEXT_JOB_STORAGE']);
    expect(env.PRETEXT_JOB_COUNT).toBe('3');
    expect(submit.containerOverrides.resourceRequirements).toEqual(expect.arrayContaining([{ type: 'VCPU', value: '2' }, { type: 'MEMORY', value: '4096' }]));
    expect(submit.containerOverrides.resourceRequirements.some((r: { type: string }) => r.type === 'GPU')).toBe(false);

    expect((await jobs.pass()).running).toBe(1); // RUNNABLE = PENDING: nothing to do yet

    // Attempt 1 fails (a spot reclaim, say): its output is cleared and the version is submitted again.
    state = 'FAILED';
    expect((await jobs.pass()).retried).toBe(1);
    expect((await jobs.pass()).submitted).toBe(1);
    expect(submitted).toBe(2);
    const row = await t.platform.db.prisma.datasetVersion.findUniqueOrThrow({ where: { id: v } });
    expect(row).toMatchObject({ status: 'PROCESSING', processingJobId: 'p-2', processingAttempts: 2 });

    // Batch runs the three children of attempt 2: the real entry, once per AWS_BATCH_JOB_ARRAY_INDEX.
    for (const index of [0, 1, 2]) {
      const out = await runPlatformJob(['process-version', specKey(prefix)], { ...env, AWS_BATCH_JOB_ARRAY_INDEX: String(index) });
      expect(out).toMatch(new RegExp(`^part ${index + 1}/3 of version ${v}: 1 unit\\(s\\)`));
    }
    state = 'SUCCEEDED';
    expect((await jobs.pass()).ready).toBe(1);
    const ready = await t.platform.db.prisma.datasetVersion.findUniqueOrThrow({ where: { id: v } });
    expect(ready.status).toBe('READY');
    expect((ready.stats as { rows: number }).rows).toBe(45);
    const keys = await keysUnder(t, `${prefix}/`);
    expect(keys.filter((k) => k.endsWith('.arrow')).map((k) => k.replace(`${prefix}/`, '').replace(/\/shards\/.*/, ''))).toEqual(['parts/00000', 'parts/00001', 'parts/00002']);
    expect(keys.some((k) => k.endsWith('part.json') || k.includes('/job/'))).toBe(false);
  });
});
