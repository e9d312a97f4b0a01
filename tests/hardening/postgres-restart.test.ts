// Fault: Postgres restarted under a running training job. The database is a throwaway server of this test's own
// (support/postgres-process.ts; the shared one is never touched), stopped with `pg_ctl -m fast` (every session is
// terminated, as on a restart or a failover) while the real trainer child is mid-run, kept down for a few seconds
// and started again. While it is down the gateway answers typed errors; afterwards the same run (the same attempt:
// the trainer's reports retry with backoff) reaches SUCCEEDED with its model registered and its ONNX artifact stored,
// and the gateway and its worker serve normally again.
import { startOwnPostgres, type OwnPostgres } from './support/postgres-process';
import { CREATE, experimentInput, readySequenceVersion, startJobPlatform, waitForMidRun, waitForRun, type JobPlatform } from '../jobs/helpers';

jest.setTimeout(150_000);

const inCi = /^(1|true)$/i.test(process.env.CI ?? '');
const terminal = (r: Record<string, any>) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(r.status);
const DOWN_MS = 4000;

let pg: OwnPostgres | undefined;
let unavailable: string | undefined;

beforeAll(async () => {
  const started = await startOwnPostgres();
  if ('unavailable' in started) unavailable = started.unavailable;
  else pg = started;
}, 90_000);
afterAll(async () => {
  await pg?.close();
});

it('Postgres restarted while a run trains: typed errors while it is down, then the run finishes and everything serves again', async () => {
  if (!pg) {
    const message = `cannot start an own Postgres server for the restart test: ${unavailable}`;
    if (inCi) throw new Error(`${message}; CI=true does not allow skipping it (install the Postgres server binaries or set PG_BIN).`);
    console.warn(`${message}; skipped (under CI=true this fails).`);
    return;
  }
  let t: JobPlatform | undefined;
  try {
    t = await startJobPlatform({ database: { kind: 'postgres', url: pg.url, poolSize: 5 } });
    const tenant = await t.seedTenant('pgrestart');
    const versionId = await readySequenceVersion(t, tenant);
    const created = await t.exec(CREATE, { input: experimentInput(versionId, { steps: 48, checkpointEvery: 8 }) }, { key: tenant.keys.MEMBER });
    expect(created.body.errors).toBeUndefined();
    const id = created.body.data!.createExperiment.run.id as string;
    const before = await waitForMidRun(t, id, 1);

    // The fault: every session is terminated, the server is gone for DOWN_MS.
    await pg.stop('fast');
    const downAt = Date.now();
    const whileDown: string[] = [];
    while (Date.now() - downAt < DOWN_MS) {
      const res = await t.exec(`{ datasets(first: 1) { nodes { id } } }`, {}, { key: tenant.keys.READER }).catch((err: Error) => ({ status: 0, body: { errors: [{ message: err.message, extensions: { code: 'FETCH_FAILED' } }] } }));
      whileDown.push(`${res.status}:${res.body.errors?.map((e) => e.extensions?.code).join(',') ?? 'ok'}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    await pg.start();
    const downMs = Date.now() - downAt;

    const done = await waitForRun(t, tenant.keys.READER, id, terminal, 120_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('SUCCEEDED');
    expect(done.model).not.toBeNull();
    expect(await t.platform.store.head(done.model.onnxKey)).not.toBeNull();
    expect(await t.platform.db.prisma.modelVersion.count({ where: { runId: id } })).toBe(1);
    expect(new Set(done.metrics.map((m: { step: number }) => m.step)).size).toBe(48);

    // While down: typed, retryable errors only (UNAVAILABLE, never INTERNAL, a hung or a dropped request).
    expect(whileDown.length).toBeGreaterThan(2);
    for (const w of whileDown) expect(w).toMatch(/^\d{3}:UNAVAILABLE$/);
    // And afterwards the gateway serves again, and the worker dispatches a new run to the end.
    const list = await t.exec(`{ datasets(first: 5) { nodes { id } } }`, {}, { key: tenant.keys.READER });
    expect(list.body.errors).toBeUndefined();
    const again = await t.exec(CREATE, { input: experimentInput(versionId, { steps: 4, checkpointEvery: 4 }) }, { key: tenant.keys.MEMBER });
    const second = await waitForRun(t, tenant.keys.READER, again.body.data!.createExperiment.run.id, terminal, 90_000);
    expect(second.status).toBe('SUCCEEDED');
    // eslint-disable-next-line no-console
    console.log(
      `[faults] Postgres restart (pg_ctl -m fast) at step ${before.step}/48 of run attempt 1, down ${downMs} ms; ` +
        `gateway answers while down: ${[...new Set(whileDown)].join(' ')} over ${whileDown.length} requests; ` +
        `run finished ${done.status} on attempt ${done.attempt}, ${done.metrics.length} loss points, model registered; a new run afterwards ${second.status}`,
    );
  } finally {
    await t?.close();
  }
});
