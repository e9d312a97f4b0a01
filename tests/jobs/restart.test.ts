// Fault test that needs its own gateways: a restart while a run is in flight (close the platform, start a new one
// on the same database and object store).
import { CREATE, experimentInput, readySequenceVersion, startJobPlatform, waitForMidRun, waitForRun, type JobPlatform } from './helpers';

jest.setTimeout(150_000);

const terminal = (r: Record<string, any>) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(r.status);

it('the gateway restarted while a run is in flight: nothing is lost, the run resumes and registers one model', async () => {
  let first: JobPlatform | undefined = await startJobPlatform();
  let second: JobPlatform | undefined;
  try {
    const tenant = await first.seedTenant('restart');
    const versionId = await readySequenceVersion(first, tenant);
    const created = await first.exec(CREATE, { input: experimentInput(versionId, { steps: 24, checkpointEvery: 4 }) }, { key: tenant.keys.MEMBER });
    const id = created.body.data!.createExperiment.run.id as string;
    const before = await waitForMidRun(first, id, 4);
    const { dataDir, operatorKey, tenants } = first;
    await first.stop(); // kills the trainer child with the gateway, as a crash or redeploy would
    first = undefined;

    second = await startJobPlatform({ reuse: { dataDir, operatorKey, tenants } });
    const done = await waitForRun(second, tenant.keys.READER, id, terminal);
    expect(done.error).toBeNull();
    expect(done.status).toBe('SUCCEEDED');
    expect(done.attempt).toBe(2);
    const resumed = done.logs.find((l: { message: string; attempt: number }) => l.attempt === 2 && /resuming from checkpoint step/.test(l.message));
    expect(resumed).toBeDefined();
    expect(Number(/step (\d+)/.exec(resumed.message)![1])).toBeGreaterThanOrEqual(before.checkpointStep);
    // The loss series has every step 1..24 (steps after the checkpoint appear once per attempt that ran them).
    expect(new Set(done.metrics.map((m: { step: number }) => m.step)).size).toBe(24);
    expect(await second.platform.db.prisma.modelVersion.count({ where: { runId: id } })).toBe(1);
    expect(await second.platform.store.head(done.model.onnxKey)).not.toBeNull();
  } finally {
    await first?.close();
    await second?.close();
  }
});
