// The serverless worker tick (src/gateway/lambda-worker.ts), invoked in-process as EventBridge would invoke the
// deployed function, against a real platform (real database, local object store, the local dispatcher running a
// real trainer child). With DATASET_PROCESSING=worker, finalize only marks a version PROCESSING (a request Lambda
// freezes once it answers); the tick processes it, dispatches the queued run and runs the reconciler.
import path from 'node:path';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createWorkerTickHandler } from '../../src/gateway/lambda-worker';
import { createDataset, createVersion, finalize, settledVersion, uploadFile } from '../helpers/datasets-api';
import { registerTrainedModel } from '../helpers/models';
import { startTestPlatform, type SeededTenant, type TestPlatform } from '../helpers/platform';
import { tinyTexts } from '../training/data/fixtures';

const event = { version: '0', id: 'tick', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '0', time: new Date().toISOString(), region: 'us-east-1', resources: [], detail: {} } as ScheduledEvent;

describe('serverless worker tick', () => {
  let t: TestPlatform;
  let tenant: SeededTenant;
  // Other test files share the database (CI): this platform's worker dispatches only this file's tenant's runs.
  const tenants: string[] = [];
  beforeAll(async () => {
    t = await startTestPlatform('http', { DATASET_PROCESSING: 'worker' }, { jobTenantScope: () => tenants });
    tenant = await t.seedTenant('tick');
    tenants.push(tenant.id);
  });
  afterAll(async () => {
    await t?.close();
  });

  test('finalize leaves the version PROCESSING; one tick makes it READY, dispatches the queued run and reconciles', async () => {
    const key = tenant.keys.ADMIN;
    const ds = await createDataset(t, key, 'TEXT');
    const v = await createVersion(t, key, ds);
    const lines = Array.from({ length: 40 }, (_, i) => `note ${i} about ${['cats', 'dogs', 'birds', 'fish'][i % 4]} and more words`).join('\n');
    expect((await uploadFile(t, key, v, 'notes.txt', `${lines}\n`)).status).toBe(200);
    expect((await finalize(t, key, v)).body.data?.finalizeDatasetVersion.status).toBe('PROCESSING');
    // Nothing processes it in the request path: after the processor goes idle it is still PROCESSING.
    expect((await settledVersion(t, key, v)).status).toBe('PROCESSING');

    const tick = createWorkerTickHandler(t.platform);
    const first = await tick(event, {} as Context);
    expect(first.datasetVersions).toBe(1);
    expect(first.embeddingSpaces).toBe(0); // this tenant's only (jobTenantScope)
    expect(first.reconciled).toBe(true);
    const ready = await settledVersion(t, key, v);
    expect(ready.status).toBe('READY');
    expect(ready.stats.rows).toBe(40);

    const created = await t.exec(
      `mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { run { id status } } }`,
      { i: { datasetVersionId: v, pretext: 'MASKED', encoder: { kind: 'transformer', dim: 8, layers: 1 }, hyperparameters: { batchSize: 8, steps: 2 } } },
      { key },
    );
    const run = created.body.data?.createExperiment.run as { id: string; status: string } | undefined;
    expect(created.body.errors).toBeUndefined();
    expect(run!.status).toBe('QUEUED');
    const second = await tick(event, {} as Context);
    expect(second.datasetVersions).toBe(0);
    expect(second.reconciled).toBe(false); // at most once per interval per warm container
    const after = await t.exec(`query($id: ID!) { run(id: $id) { status } }`, { id: run!.id }, { key });
    expect(['DISPATCHED', 'RUNNING', 'SUCCEEDED']).toContain(after.body.data?.run.status);
    await t.exec(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: run!.id }, { key });

    // An embedding space is built by the tick too, not by the request that created it.
    const texts = tinyTexts(16);
    await registerTrainedModel(t, tenant, { modality: 'TEXT', pretext: 'MASKED', rows: texts.rows, shape: texts.shape, name: 'tick-words' });
    const space = await t.exec(`mutation($i: CreateEmbeddingSpaceInput!) { createEmbeddingSpace(input: $i) { id status } }`, { i: { model: 'tick-words', datasetVersionId: v } }, { key });
    expect(space.body.errors).toBeUndefined();
    const spaceId = space.body.data!.createEmbeddingSpace.id as string;
    await t.platform.services.spaces.idle();
    const statusOf = async () => (await t.exec(`query($id: ID!) { embeddingSpace(id: $id) { status rows } }`, { id: spaceId }, { key })).body.data?.embeddingSpace;
    expect((await statusOf()).status).toBe('BUILDING');
    const third = await tick(event, {} as Context);
    expect(third.embeddingSpaces).toBe(1);
    expect(await statusOf()).toEqual({ status: 'READY', rows: 40 });
  });
});

describe('serverless worker tick with DATASET_PROCESSING=job (the CDK stack\'s setting)', () => {
  // The tick only submits the processing job (here: real local children running src/jobs/platform-main.ts) and, on
  // a later tick, merges its parts: the work itself never runs inside the function.
  let t: TestPlatform;
  let tenant: SeededTenant;
  const tenants: string[] = [];
  beforeAll(async () => {
    const command = JSON.stringify([process.execPath, '--import', 'tsx', path.resolve(__dirname, '../../src/jobs/platform-main.ts')]);
    t = await startTestPlatform('http', { DATASET_PROCESSING: 'job', PLATFORM_JOB_COMMAND: command, DATASET_JOB_BYTES_PER_PART: '200' }, { jobTenantScope: () => tenants });
    tenant = await t.seedTenant('tickjob');
    tenants.push(tenant.id);
  });
  afterAll(async () => {
    await t?.close();
  });

  test('a tick submits a two-copy job for the finalized version, a later tick makes it READY', async () => {
    const key = tenant.keys.ADMIN;
    const ds = await createDataset(t, key, 'TEXT');
    const v = await createVersion(t, key, ds);
    for (const f of [0, 1]) {
      const lines = Array.from({ length: 12 }, (_, i) => `file ${f} note ${i} about things`).join('\n');
      expect((await uploadFile(t, key, v, `notes-${f}.txt`, `${lines}\n`)).status).toBe(200);
    }
    await finalize(t, key, v);
    const tick = createWorkerTickHandler(t.platform);
    expect((await tick(event, {} as Context)).datasetVersions).toBe(1); // submitted
    const row = await t.platform.db.prisma.datasetVersion.findUniqueOrThrow({ where: { id: v } });
    expect(row.status).toBe('PROCESSING');
    expect(row.processingJobId).not.toBeNull();
    let status = 'PROCESSING';
    for (let i = 0; i < 300 && status === 'PROCESSING'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await tick(event, {} as Context);
      status = (await settledVersion(t, key, v)).status;
    }
    const ready = await settledVersion(t, key, v);
    expect(ready.status).toBe('READY');
    expect(ready.stats.rows).toBe(24);
    expect(ready.stats.shards).toBe(2); // one per copy
  });
});
