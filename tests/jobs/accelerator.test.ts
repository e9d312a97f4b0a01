// The explicit accelerator, through real runs: the local dispatcher starts the real trainer (src/training/main.ts)
// as a child process. A GPU run whose trainer has no GPU engine FAILS with the reason (once: it is not retried)
// instead of training on wasm; a CPU run trains as before and its device report (probe matmul, device, memory,
// engines tried) reaches the run (GraphQL Run.device, `pretext runs show`). Admission refuses GPU runs on a
// deployment whose dispatcher has no GPU.
import { runCli } from '../helpers/cli';
import { registerFineTunableModel } from '../helpers/models';
import { codes, type SeededTenant, type TestPlatform } from '../helpers/platform';
import { CREATE, readySequenceVersion, startJobPlatform, waitForRun, type JobPlatform } from './helpers';

// Generous: on a loaded 2-core machine a trainer child takes tens of seconds just to start.
jest.setTimeout(600_000);

const DEVICE = `query($id: ID!) {
  run(id: $id) { id status attempt error backend accelerator
    device { accelerator backend engine device vendor memoryBytes memorySource maxBufferBytes probe { size milliseconds maxAbsError } tried { backend ok reason } attempt } }
}`;

const input = (versionId: string, over: Record<string, unknown> = {}) => ({
  datasetVersionId: versionId,
  pretext: 'MASKED',
  encoder: { kind: 'sequence', dim: 16, layers: 1 },
  hyperparameters: { batchSize: 8, steps: 3, checkpointEvery: 3, seed: 1 },
  resources: { timeoutSeconds: 300, maxAttempts: 3 },
  ...over,
});

const terminal = (r: Record<string, any>) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(r.status);

describe('on a host that offers GPUs to the local dispatcher (LOCAL_GPUS=1) but has no GPU engine', () => {
  let t: JobPlatform;
  let tenant: SeededTenant;
  let versionId: string;
  beforeAll(async () => {
    t = await startJobPlatform({ env: { LOCAL_GPUS: '1', TENANT_MAX_CONCURRENT_RUNS: '10' } });
    tenant = await t.seedTenant('accel');
    versionId = await readySequenceVersion(t, tenant);
  });
  afterAll(async () => {
    await t?.close();
  });

  const create = async (over: Record<string, unknown>) => {
    const res = await t.exec(CREATE, { input: input(versionId, over) }, { key: tenant.keys.MEMBER });
    if (!res.body.data) throw new Error(JSON.stringify(res.body.errors));
    return res.body.data.createExperiment.run.id as string;
  };
  const device = async (id: string) => (await t.exec(DEVICE, { id }, { key: tenant.keys.READER })).body.data!.run;

  it('a GPU run fails at trainer start with the reason, once, without falling back to wasm', async () => {
    const id = await create({ accelerator: 'GPU' });
    const cfg = (await t.platform.db.prisma.run.findUniqueOrThrow({ where: { id } })).config as { resources: { gpus: number }; accelerator: string };
    expect(cfg).toMatchObject({ accelerator: 'GPU', resources: { gpus: 1 } }); // the dispatcher's request follows it
    const done = await waitForRun(t, tenant.keys.READER, id, terminal, 400_000);
    expect(done.status).toBe('FAILED');
    expect(done.attempt).toBe(1); // deterministic: not retried
    expect(done.error).toContain('accelerator GPU was requested but no GPU engine could start on this trainer');
    expect(done.error).toMatch(/webgpu: /);
    expect(done.error).toMatch(/tensorflow-gpu: /);
    expect(done.error).toContain('does not fall back to a CPU engine');
    expect(done.metrics).toEqual([]); // it never trained a step
    const d = await device(id);
    expect(d).toMatchObject({ accelerator: 'GPU', device: null, backend: null });
    // The trainer's log says the same, for `runs show`.
    expect(done.logs.some((l: { level: string; message: string }) => l.level === 'error' && l.message.includes('GpuUnavailableError'))).toBe(true);
  });

  it('a CPU run trains as before and reports its device: Run.device, Run.backend, pretext runs show', async () => {
    const id = await create({});
    const done = await waitForRun(t, tenant.keys.READER, id, terminal, 400_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('SUCCEEDED');
    expect(done.step).toBe(3);
    const r = await device(id);
    expect(r.accelerator).toBe('CPU');
    expect(r.backend).toBe(r.device.backend);
    expect(['wasm', 'tensorflow', 'cpu']).toContain(r.device.backend);
    expect(r.device).toMatchObject({ accelerator: 'CPU', memorySource: 'os.totalmem', maxBufferBytes: null, attempt: 1, probe: { size: 128 } });
    expect(r.device.memoryBytes).toBeGreaterThan(2 ** 28);
    expect(r.device.probe.maxAbsError).toBeLessThan(1e-3);
    expect(r.device.probe.milliseconds).toBeGreaterThan(0);
    expect(r.device.engine).toMatch(/^@tensorflow\/tfjs-/);
    // CPU runs never try a GPU engine; the last engine tried is the one taken.
    expect(r.device.tried.map((x: { backend: string }) => x.backend)).not.toContain('webgpu');
    expect(r.device.tried.at(-1)).toEqual({ backend: r.device.backend, ok: true, reason: null });
    const shown = await runCli(t.url, tenant.keys.READER, 'runs', 'show', id);
    expect(shown).toContain(`accelerator: CPU on ${r.device.device} via ${r.device.engine}`);
    expect(shown).toMatch(/probe 128² matmul [\d.]+ ms/);
  });

  it('rejects contradictions: GPUs for a CPU run, a pinned CPU backend for a GPU run', async () => {
    const cpuWithGpus = await t.exec(CREATE, { input: input(versionId, { accelerator: 'CPU', resources: { gpus: 1 } }) }, { key: tenant.keys.MEMBER });
    expect(codes(cpuWithGpus)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(cpuWithGpus.body.errors![0]!.extensions)).toContain('must be 0 for accelerator CPU');
    const pinned = await t.exec(CREATE, { input: input(versionId, { accelerator: 'GPU', hyperparameters: { batchSize: 8, steps: 2, backend: 'wasm' } }) }, { key: tenant.keys.MEMBER });
    expect(codes(pinned)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(pinned.body.errors![0]!.extensions)).toContain('input.hyperparameters.backend');
    const none = await t.exec(CREATE, { input: input(versionId, { accelerator: 'GPU', resources: { gpus: 0 } }) }, { key: tenant.keys.MEMBER });
    expect(JSON.stringify(none.body.errors![0]!.extensions)).toContain('must be at least 1 for accelerator GPU');
    const many = await t.exec(CREATE, { input: input(versionId, { accelerator: 'GPU', resources: { gpus: 2 } }) }, { key: tenant.keys.MEMBER });
    expect(JSON.stringify(many.body.errors![0]!.extensions)).toContain('offers at most 1 GPU(s) per run');
  });
});

describe('on a deployment whose local dispatcher has no GPU (the default)', () => {
  let t: JobPlatform;
  let tenant: SeededTenant;
  beforeAll(async () => {
    t = await startJobPlatform({ env: { RUN_WORKER: 'false' } });
    tenant = await t.seedTenant('nogpu');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a GPU experiment and fine-tune at admission, naming the accelerator and the fix; nothing is queued', async () => {
    const versionId = await readySequenceVersion(t, tenant);
    const res = await t.exec(CREATE, { input: input(versionId, { accelerator: 'GPU' }) }, { key: tenant.keys.MEMBER });
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    const problems = res.body.errors![0]!.extensions!.problems as Array<{ path: string; message: string }>;
    expect(problems).toEqual([{ path: 'input.accelerator', message: expect.stringContaining('its local dispatcher has no GPU (set LOCAL_GPUS on a GPU host') }]);
    // The old way of asking for a GPU (resources.gpus without an accelerator) means GPU, and is refused the same way.
    const old = await t.exec(CREATE, { input: input(versionId, { resources: { gpus: 1 } }) }, { key: tenant.keys.MEMBER });
    expect((old.body.errors![0]!.extensions!.problems as Array<{ path: string }>).map((p) => p.path)).toEqual(['input.accelerator']);
    const base = await registerFineTunableModel(t as unknown as TestPlatform, tenant);
    const FT = `mutation($i: CreateFineTuneInput!) { createFineTune(input: $i) { id accelerator } }`;
    const ft = await t.exec(FT, { i: { model: base.versionId, datasetVersionId: base.datasetVersionId, task: 'CLASSIFICATION', mode: 'LINEAR_PROBE', accelerator: 'GPU' } }, { key: tenant.keys.MEMBER });
    expect(codes(ft)).toEqual(['BAD_USER_INPUT']);
    expect((ft.body.errors![0]!.extensions!.problems as Array<{ path: string }>).map((p) => p.path)).toEqual(['input.accelerator']);
    // The same fine-tune on CPU is admitted (queued; this platform runs no worker).
    const cpu = await t.exec(FT, { i: { model: base.versionId, datasetVersionId: base.datasetVersionId, task: 'CLASSIFICATION', mode: 'LINEAR_PROBE' } }, { key: tenant.keys.MEMBER });
    expect(cpu.body.errors).toBeUndefined();
    expect(cpu.body.data.createFineTune.accelerator).toBe('CPU');
    await t.platform.db.prisma.run.deleteMany({ where: { id: cpu.body.data.createFineTune.id } });
    expect(await t.platform.db.prisma.run.count({ where: { tenantId: tenant.id } })).toBe(0);
  });
});
