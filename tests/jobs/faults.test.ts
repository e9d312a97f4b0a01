// End to end and fault tests with real trainer child processes (local dispatcher → src/training/main.ts talking to
// the gateway with its job token): a run to a registered model, kill -9 mid-run, cancel in every live state, run
// timeout. One platform for the file keeps it fast; each test has its own experiment.
import { eta, renderProgress, sparkline } from '../../src/cli/commands/runs';
import { LocalDispatcher } from '../../src/jobs/dispatchers';
import { createDataset, createVersion, finalize, settledVersion, uploadFile } from '../helpers/datasets-api';
import { tinySequenceJsonl } from '../helpers/datasets';
import type { SeededTenant, TestPlatform } from '../helpers/platform';
import { CREATE, experimentInput, getRun, readySequenceVersion, startJobPlatform, waitForMidRun, waitForRun, type JobPlatform } from './helpers';
import { runCli } from '../helpers/cli';

jest.setTimeout(150_000);

let t: JobPlatform;
let tenant: SeededTenant;
let versionId: string;

beforeAll(async () => {
  t = await startJobPlatform({ env: { TENANT_MAX_CONCURRENT_RUNS: '20' } });
  tenant = await t.seedTenant('faults');
  versionId = await readySequenceVersion(t, tenant);
});
afterAll(async () => {
  await t?.close();
});

const terminal = (r: Record<string, any>) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(r.status);

async function create(extra: Parameters<typeof experimentInput>[1] = {}): Promise<string> {
  const res = await t.exec(CREATE, { input: experimentInput(versionId, extra) }, { key: tenant.keys.MEMBER });
  if (!res.body.data) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.createExperiment.run.id as string;
}

// Through GraphQL alone: create an experiment, watch it train in a real child process, get a registered model.
it('through GraphQL alone: upload a dataset, train a queued run to SUCCEEDED, get exactly one registered model', async () => {
  // The dataset goes through the dataset API (upload → finalize → READY), not the test helper.
  const api = t as unknown as TestPlatform;
  const datasetId = await createDataset(api, tenant.keys.MEMBER, 'SEQUENCE');
  const uploadedVersion = await createVersion(api, tenant.keys.MEMBER, datasetId, { sequence: { length: 16, features: 2 } });
  expect((await uploadFile(api, tenant.keys.MEMBER, uploadedVersion, 'waves.jsonl', tinySequenceJsonl(48, 16, 7))).body.errors).toBeUndefined();
  expect((await finalize(api, tenant.keys.MEMBER, uploadedVersion)).body.errors).toBeUndefined();
  expect((await settledVersion(api, tenant.keys.MEMBER, uploadedVersion)).status).toBe('READY');
  const created = await t.exec(CREATE, { input: experimentInput(uploadedVersion, { steps: 8, checkpointEvery: 4 }) }, { key: tenant.keys.MEMBER });
  expect(created.body.errors).toBeUndefined();
  const { run, experiment } = created.body.data!.createExperiment;
  expect(run.status).toBe('QUEUED');

  const done = await waitForRun(t, tenant.keys.READER, run.id, (r) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(r.status));
  expect(done.error).toBeNull();
  expect(done.status).toBe('SUCCEEDED');
  expect(done.progress).toBe(1);
  expect(done.step).toBe(8);
  expect(done.totalSteps).toBe(8);
  expect(done.attempt).toBe(1);
  expect(done.dispatcher).toBe('local');
  expect(done.checkpointStep).toBe(8);
  expect(done.metrics.map((m: { step: number }) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  for (const m of done.metrics) expect(Number.isFinite(m.value)).toBe(true);
  expect(done.model).toMatchObject({ name: experiment.name, version: 1, embeddingDim: 16 });
  expect(done.model.onnxKey).toBe(`tenants/${tenant.id}/runs/${run.id}/model/model.onnx`);
  expect(await t.platform.store.head(done.model.onnxKey)).not.toBeNull();
  expect(await t.platform.db.prisma.modelVersion.count({ where: { runId: run.id } })).toBe(1);
});

/** Runs the real `pretext` program against this server and returns what it printed on stdout. */
const cli = (key: string, ...args: string[]): Promise<string> => runCli(t.url!, key, ...args);

it('CLI: pretext train queues a run; runs watch --json prints its final state; runs list / show see it', async () => {
  const created = JSON.parse(
    await cli(tenant.keys.MEMBER, 'train', '--dataset-version', versionId, '--pretext', 'masked', '--encoder', 'sequence', '--dim', '16', '--layers', '1', '--batch-size', '8', '--steps', '4', '--checkpoint-every', '2', '--json'),
  );
  expect(created.run.status).toBe('QUEUED');
  const final = JSON.parse(await cli(tenant.keys.READER, 'runs', 'watch', created.run.id, '--interval', '200', '--json'));
  expect(final).toMatchObject({ id: created.run.id, status: 'SUCCEEDED', step: 4, totalSteps: 4, progress: 1 });
  expect(final.metrics.map((m: { step: number }) => m.step)).toEqual([1, 2, 3, 4]);
  expect(final.model.name).toBe(created.experiment.name);
  const listed = JSON.parse(await cli(tenant.keys.READER, 'runs', 'list', '--status', 'succeeded', '--json'));
  expect(listed.map((r: { id: string }) => r.id)).toContain(created.run.id);
  const human = await cli(tenant.keys.READER, 'runs', 'show', created.run.id);
  expect(human).toContain('100%');
  expect(human).toContain('SUCCEEDED');
  expect(human).toContain(`step 4/4`);
  // The watch line's pieces: a falling loss draws a falling sparkline; the ETA follows the observed pace.
  expect(sparkline([4, 3, 2, 1])).toBe('█▆▃▁');
  expect(eta([{ at: 0, step: 0 }, { at: 2000, step: 10 }], 20)).toBeCloseTo(2);
  expect(renderProgress({ id: 'r', status: 'RUNNING', progress: 0.5, attempt: 1, step: 10, totalSteps: 20, error: null, startedAt: null, metrics: [{ step: 1, value: 2 }, { step: 2, value: 1 }] }, [{ at: 0, step: 0 }, { at: 2000, step: 10 }], 10)).toBe(
    '[█████░░░░░]  50%  RUNNING    step 10/20  attempt 1  loss 1.0000 █▁  ETA 0:02',
  );
});

it('kill -9 of the trainer mid-run: the next attempt resumes from the last checkpoint, succeeds and registers one model', async () => {
  const id = await create({ steps: 40, checkpointEvery: 4 });
  const before = await waitForMidRun(t, id, 8);
  process.kill(before.pid, 'SIGKILL');

  const done = await waitForRun(t, tenant.keys.READER, id, terminal);
  expect(done.error).toBeNull();
  expect(done.status).toBe('SUCCEEDED');
  expect(done.attempt).toBe(2);
  const resumed = done.logs.find((l: { message: string; attempt: number }) => l.attempt === 2 && /resuming from checkpoint step (\d+)/.test(l.message));
  expect(resumed).toBeDefined();
  const from = Number(/step (\d+)/.exec(resumed.message)![1]);
  expect(from).toBeGreaterThanOrEqual(before.checkpointStep);
  // Only steps after that checkpoint were trained again: attempt 2's first loss is step from+1.
  const rows = await t.platform.db.prisma.metricPoint.findMany({ where: { runId: id, name: 'loss', attempt: 2 }, orderBy: { step: 'asc' } });
  expect(rows[0]!.step).toBe(from + 1);
  expect(rows[rows.length - 1]!.step).toBe(40);
  expect(await t.platform.db.prisma.modelVersion.count({ where: { runId: id } })).toBe(1);
  expect(done.model.version).toBeGreaterThanOrEqual(1);
});

describe('cancel in every live state', () => {
  it('QUEUED and DISPATCHED (worker paused, dispatch driven by hand)', async () => {
    const worker = t.platform.jobs.worker();
    await worker.stop();
    try {
      const queued = await create();
      expect((await getRun(t, tenant.keys.READER, queued)).status).toBe('QUEUED');
      const c1 = await t.exec(`mutation($id: ID!) { cancelRun(id: $id) { status error } }`, { id: queued }, { key: tenant.keys.MEMBER });
      expect(c1.body.data.cancelRun.status).toBe('CANCELLED');
      // A cancelled run is never dispatched.
      expect(await t.platform.services.runLifecycle.dispatchOne(queued)).toBe(false);

      const dispatched = await create();
      expect(await t.platform.services.runLifecycle.dispatchOne(dispatched)).toBe(true);
      const row = await t.platform.db.prisma.run.findUniqueOrThrow({ where: { id: dispatched } });
      expect(row.status).toBe('DISPATCHED');
      const c2 = await t.exec(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: dispatched }, { key: tenant.keys.MEMBER });
      expect(c2.body.data.cancelRun.status).toBe('CANCELLED');
      const exit = await (t.platform.jobs.dispatcher as LocalDispatcher).waitForExit(row.externalId!);
      expect(exit).toMatchObject({ state: 'FAILED', reason: expect.stringMatching(/cancel/) });
      const after = await t.platform.db.prisma.run.findUniqueOrThrow({ where: { id: dispatched } });
      expect(after.status).toBe('CANCELLED');
      expect(after.tokenHash).toBeNull();
    } finally {
      worker.start();
    }
  });

  it('RUNNING: the task is stopped and the run stays CANCELLED; retryRun queues it again', async () => {
    const id = await create({ steps: 200, checkpointEvery: 4 });
    const running = await waitForRun(t, tenant.keys.READER, id, (r) => r.status === 'RUNNING' && r.step >= 1);
    const c = await t.exec(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id }, { key: tenant.keys.MEMBER });
    expect(c.body.data.cancelRun.status).toBe('CANCELLED');
    const exit = await (t.platform.jobs.dispatcher as LocalDispatcher).waitForExit(running.externalId);
    expect(exit.state).toBe('FAILED');
    const after = await getRun(t, tenant.keys.READER, id);
    expect(after.status).toBe('CANCELLED');
    expect(after.model).toBeNull();

    const again = await t.exec(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id }, { key: tenant.keys.MEMBER });
    expect(again.body.data.cancelRun.status).toBe('CANCELLED');
    const retried = await t.exec(`mutation($id: ID!) { retryRun(id: $id) { status error } }`, { id }, { key: tenant.keys.MEMBER });
    expect(retried.body.data.retryRun).toEqual({ status: 'QUEUED', error: null });
    await waitForRun(t, tenant.keys.READER, id, (r) => r.status === 'RUNNING');
    const c2 = await t.exec(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id }, { key: tenant.keys.MEMBER });
    expect(c2.body.data.cancelRun.status).toBe('CANCELLED');
  });
});

it('a run past its timeout is FAILED with the reason, not retried', async () => {
  const id = await create({ steps: 5000, checkpointEvery: 1000, resources: { timeoutSeconds: 3, maxAttempts: 3 } });
  const done = await waitForRun(t, tenant.keys.READER, id, terminal);
  expect(done.status).toBe('FAILED');
  expect(done.error).toMatch(/timed out after 3 s/);
  expect(done.model).toBeNull();
});
