// Experiments and runs without trainer processes: validation and quotas at creation, the state machine's race
// guard, fair queue order, the trainer API's token scope and idempotent completion, and dispatch-error retries
// against a real AWS Batch client talking to a loopback endpoint that answers 500 / 400.
import { AwsBatchDispatcher, LocalDispatcher } from '../../../src/jobs/dispatchers';
import { nextDueRuns, retryDelayMs } from '../../../src/jobs/queue';
import { hashJobToken, mintJobToken, parseJobToken } from '../../../src/jobs/tokens';
import { RunLifecycle } from '../../../src/modules/runs/lifecycle';
import { allowedNext, InvalidTransitionError, transition } from '../../../src/modules/runs/state';
import { createReadyDatasetVersion, tinySequenceJsonl } from '../../helpers/datasets';
import { registerFineTunableModel } from '../../helpers/models';
import { decodeWeights } from '../../../src/models/weights-file';
import { defaultRecipe } from '../../../src/models/recipes';
import { codes, startTestPlatform, type SeededTenant, type TestPlatform } from '../../helpers/platform';
import { FAKE_CREDENTIALS, startRecorder, type Recorder } from '../../jobs/dispatchers/helpers/recorder';

jest.setTimeout(60_000);

let t: TestPlatform;
let a: SeededTenant;
let b: SeededTenant;
let versionA: string;
let versionB: string;

const CREATE = `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { experiment { id name } run { id status } } }`;
const input = (versionId: string, over: Record<string, unknown> = {}) => ({
  datasetVersionId: versionId,
  pretext: 'MASKED',
  encoder: { kind: 'sequence', dim: 8, layers: 1 },
  hyperparameters: { batchSize: 4, steps: 2 },
  ...over,
});
const seqVersion = (tenantId: string) =>
  createReadyDatasetVersion(t.platform, tenantId, [{ name: 'waves.jsonl', content: tinySequenceJsonl(24, 8) }], { modality: 'SEQUENCE', length: 8, features: 2 });

beforeAll(async () => {
  t = await startTestPlatform('http', { TENANT_MAX_CONCURRENT_RUNS: '3', TENANT_MAX_GPU_MINUTES: '0', LOCAL_GPUS: '1' });
  a = await t.seedTenant('runs-a');
  b = await t.seedTenant('runs-b');
  versionA = (await seqVersion(a.id)).versionId;
  versionB = (await seqVersion(b.id)).versionId;
});
afterAll(async () => {
  await t?.close();
});

async function createRun(tenant: SeededTenant, versionId: string, over: Record<string, unknown> = {}): Promise<string> {
  const r = await t.exec(CREATE, { input: input(versionId, over) }, { key: tenant.keys.MEMBER });
  if (!r.body.data) throw new Error(JSON.stringify(r.body.errors));
  return r.body.data.createExperiment.run.id as string;
}
/** The REST trainer API as a trainer task calls it, with its job token. */
const api = (path: string, token: string, body?: unknown) =>
  fetch(`${t.url}/internal/trainer${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const cancel = (tenant: SeededTenant, id: string) => t.exec(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id }, { key: tenant.keys.MEMBER });

describe('createExperiment validation', () => {
  it('lists the valid encoders for the pretext × modality', async () => {
    const r = await t.exec(CREATE, { input: input(versionA, { encoder: { kind: 'cnn' } }) }, { key: a.keys.MEMBER });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.body.errors![0]!.message).toBe('Unsupported encoder: "cnn" for MASKED on SEQUENCE. Should be one of: sequence.');
  });

  it('rejects bad hyperparameters and resources with how to fix them', async () => {
    const r = await t.exec(CREATE, { input: input(versionA, { hyperparameters: { batchSize: 0 }, resources: { memoryMb: 1 } }) }, { key: a.keys.MEMBER });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    const problems = r.body.errors![0]!.extensions!.problems as Array<{ path: string; message: string }>;
    expect(problems.map((p) => p.path).sort()).toEqual(['input.hyperparameters', 'input.resources.memoryMb']);
    expect(problems.find((p) => p.path === 'input.hyperparameters')!.message).toMatch(/batchSize must be an integer ≥ 1; got 0/);
      const proj = await t.exec(CREATE, { input: input(versionA, { pretext: 'CONTRASTIVE', hyperparameters: { projectionDim: 0, spatialEmbedding: true } }) }, { key: a.keys.MEMBER });
    expect(codes(proj)).toEqual(['BAD_USER_INPUT']);
    expect(proj.body.errors![0]!.message).toMatch(/projectionDim must be a positive integer; got 0/);
  });

  it("another tenant's dataset version is NOT_FOUND; a version that is not READY is BAD_USER_INPUT; READER may not create", async () => {
    expect(codes(await t.exec(CREATE, { input: input(versionB) }, { key: a.keys.MEMBER }))).toEqual(['NOT_FOUND']);
    const v = await t.platform.db.prisma.datasetVersion.findUniqueOrThrow({ where: { id: versionA } });
    const pending = await t.platform.db.prisma.datasetVersion.create({ data: { tenantId: a.id, datasetId: v.datasetId, version: 2, status: 'PROCESSING', shape: v.shape as object } });
    expect(codes(await t.exec(CREATE, { input: input(pending.id) }, { key: a.keys.MEMBER }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.exec(CREATE, { input: input(versionA) }, { key: a.keys.READER }))).toEqual(['FORBIDDEN']);
  });

  it('QUOTA_EXCEEDED past the concurrent-run limit and for GPU runs once GPU-minutes are used up', async () => {
    const tenant = await t.seedTenant('quota');
    const v = (await seqVersion(tenant.id)).versionId;
    const gpu = await t.exec(CREATE, { input: input(v, { resources: { gpus: 1 } }) }, { key: tenant.keys.MEMBER });
    expect(codes(gpu)).toEqual(['QUOTA_EXCEEDED']); // limit 0 GPU-minutes in this platform
    const ids = [await createRun(tenant, v), await createRun(tenant, v), await createRun(tenant, v)];
    const over = await t.exec(CREATE, { input: input(v) }, { key: tenant.keys.MEMBER });
    expect(codes(over)).toEqual(['QUOTA_EXCEEDED']);
    expect(over.body.errors![0]!.extensions).toMatchObject({ limit: 3, used: 3 });
    await cancel(tenant, ids[0]!);
    expect(codes(await t.exec(CREATE, { input: input(v) }, { key: tenant.keys.MEMBER }))).toEqual([]);
  });
});

describe('createExperiment default recipe', () => {
  it('naming only the data and the pretext trains the platform recipe; explicit hyperparameters still win', async () => {
    const tenant = await t.seedTenant('recipe');
    const v = (await seqVersion(tenant.id)).versionId;
    const r = await t.exec(CREATE, { input: { datasetVersionId: v, pretext: 'CONTRASTIVE', hyperparameters: { steps: 3, temperature: null } } }, { key: tenant.keys.MEMBER });
    expect(r.body.errors).toBeUndefined();
    const run = await t.platform.db.prisma.run.findUniqueOrThrow({ where: { id: r.body.data!.createExperiment.run.id } });
    const recipe = defaultRecipe('SEQUENCE', 'CONTRASTIVE');
    expect((run.config as { train: Record<string, unknown> }).train).toMatchObject({
      encoder: recipe.encoder, dim: recipe.dim, batchSize: recipe.batchSize, learningRate: recipe.learningRate, workers: 'auto',
      steps: 3, task: { ...recipe.task },
    });
    // With an encoder named, the plain defaults apply (no recipe fields are filled in).
    const plain = await t.exec(CREATE, { input: input(v) }, { key: tenant.keys.MEMBER });
    const plainRun = await t.platform.db.prisma.run.findUniqueOrThrow({ where: { id: plain.body.data!.createExperiment.run.id } });
    expect((plainRun.config as { train: Record<string, unknown> }).train).toMatchObject({ encoder: 'sequence', dim: 8, batchSize: 4 });
    expect((plainRun.config as { train: Record<string, unknown> }).train.workers).toBeUndefined();
  });

  it('a dataset of audio clips (a sequence shape with a sampleRate) gets the audio recipe', async () => {
    const tenant = await t.seedTenant('recipe-audio');
    const clip = (i: number) => JSON.stringify({ sequence: Array.from({ length: 400 }, (_, k) => [Math.sin(k * (i + 1) * 0.05) * 0.5]), label: i % 2 ? 'a' : 'b' });
    const content = `${Array.from({ length: 8 }, (_, i) => clip(i)).join('\n')}\n`;
    const v = await createReadyDatasetVersion(t.platform, tenant.id, [{ name: 'clips.jsonl', content }], { modality: 'SEQUENCE', length: 400, features: 1, sampleRate: 8000 });
    const r = await t.exec(CREATE, { input: { datasetVersionId: v.versionId, pretext: 'CONTRASTIVE' } }, { key: tenant.keys.MEMBER });
    expect(r.body.errors).toBeUndefined();
    const run = await t.platform.db.prisma.run.findUniqueOrThrow({ where: { id: r.body.data!.createExperiment.run.id } });
    const audio = defaultRecipe('SEQUENCE', 'CONTRASTIVE', { audio: true });
    expect(audio.batchSize).toBeLessThan(defaultRecipe('SEQUENCE', 'CONTRASTIVE').batchSize);
    expect((run.config as { train: Record<string, unknown> }).train).toMatchObject({
      encoder: audio.encoder, dim: audio.dim, batchSize: audio.batchSize, steps: audio.steps, learningRate: audio.learningRate, workers: 'auto',
    });
  });
});

describe('createExperiment evaluation dataset', () => {
  it('must be the caller’s own READY version of the same modality and row shape', async () => {
    const own = (over: Record<string, unknown>) => t.exec(CREATE, { input: input(versionA, over) }, { key: a.keys.MEMBER });
    expect(codes(await own({ evaluationDatasetVersionId: versionB }))).toEqual(['NOT_FOUND']);
    const wide = await createReadyDatasetVersion(t.platform, a.id, [{ name: 'w.jsonl', content: `${JSON.stringify({ sequence: Array.from({ length: 8 }, () => [1, 2, 3]), label: 'x' })}\n` }], { modality: 'SEQUENCE', length: 8, features: 3 });
    const res = await own({ evaluationDatasetVersionId: wide.versionId });
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(res.body.errors?.[0]?.extensions)).toContain('differ in features');
  });
});

describe('state machine', () => {
  it('allows only QUEUED → DISPATCHED → RUNNING → terminal (+ retry → QUEUED)', () => {
    expect(allowedNext('QUEUED')).toEqual(['DISPATCHED', 'CANCELLED']);
    expect(allowedNext('RUNNING')).toEqual(['SUCCEEDED', 'FAILED', 'CANCELLED', 'QUEUED']);
    expect(allowedNext('SUCCEEDED')).toEqual([]);
    expect(() => allowedNext('PAUSED' as never)).toThrow(/Unreachable case/);
  });

  it('refuses skipped states, and of two racing transitions exactly one wins', async () => {
    const id = await createRun(b, versionB);
    const db = t.platform.db.prisma;
    await expect(transition(db, id, 'QUEUED', 'RUNNING')).rejects.toBeInstanceOf(InvalidTransitionError);
    const results = await Promise.all([transition(db, id, 'QUEUED', 'DISPATCHED', { attempt: 1 }), transition(db, id, 'QUEUED', 'DISPATCHED', { attempt: 1 })]);
    expect(results.filter(Boolean)).toHaveLength(1);
    // A stale actor that still believes the run is QUEUED cannot cancel it through that state.
    expect(await transition(db, id, 'QUEUED', 'CANCELLED')).toBe(false);
    expect(await transition(db, id, 'DISPATCHED', 'CANCELLED')).toBe(true);
    expect((await db.run.findUniqueOrThrow({ where: { id } })).finishedAt).not.toBeNull();
  });
});

describe('queue', () => {
  it("orders due runs fairly: every tenant's oldest run before anyone's second", async () => {
    const x = await t.seedTenant('fair-x');
    const y = await t.seedTenant('fair-y');
    const vx = (await seqVersion(x.id)).versionId;
    const vy = (await seqVersion(y.id)).versionId;
    const xs = [await createRun(x, vx), await createRun(x, vx), await createRun(x, vx)];
    const ys = [await createRun(y, vy)];
    const order = (await nextDueRuns(t.platform.db.prisma, 10_000)).map((r) => r.id).filter((id) => [...xs, ...ys].includes(id));
    expect(order.indexOf(ys[0]!)).toBeLessThan(order.indexOf(xs[1]!));
    expect(order.indexOf(xs[0]!)).toBeLessThan(order.indexOf(xs[1]!));
    expect(order.indexOf(xs[1]!)).toBeLessThan(order.indexOf(xs[2]!));
    // Backoff: a run whose notBefore is in the future is not due.
    await t.platform.db.prisma.run.update({ where: { id: ys[0]! }, data: { notBefore: new Date(Date.now() + 60_000) } });
    expect((await nextDueRuns(t.platform.db.prisma, 10_000)).map((r) => r.id)).not.toContain(ys[0]);
    for (const id of xs) await cancel(x, id);
    await cancel(y, ys[0]!);
  });

  it('backs off exponentially', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(100, n))).toEqual([100, 200, 400, 800]);
    expect(retryDelayMs(1000, 40)).toBe(3_600_000);
  });
});

describe('trainer API (job-scoped token)', () => {

  it('scopes the token to its run and makes completion idempotent', async () => {
    expect(parseJobToken('Bearer pt_abc')).toBeNull();
    const id = await createRun(a, versionA);
    const db = t.platform.db.prisma;
    const token = mintJobToken(600);
    expect(hashJobToken(token.token)).toBe(token.hash);
    expect(await transition(db, id, 'QUEUED', 'DISPATCHED', { attempt: 1, tokenHash: token.hash, tokenExpiresAt: token.expiresAt, heartbeatAt: new Date() })).toBe(true);

    expect((await api('/spec', mintJobToken(60).token)).status).toBe(401);
    const specRes = await api('/spec', token.token);
    expect(specRes.status).toBe(200);
    const spec = (await specRes.json()) as { runId: string; shards: Array<{ key: string }>; outputPrefix: string; checkpoint: unknown; manifest: { key: string } };
    expect(spec.runId).toBe(id);
    expect(spec.outputPrefix).toBe(`tenants/${a.id}/runs/${id}/`);
    expect(spec.checkpoint).toBeNull();
    const versionPrefix = spec.manifest.key.replace(/manifest\.json$/, '');
    expect(versionPrefix).toContain(versionA);
    expect(spec.shards.length).toBeGreaterThan(0);
    for (const s of spec.shards) expect(s.key.startsWith(versionPrefix)).toBe(true);
    expect((await db.run.findUniqueOrThrow({ where: { id } })).status).toBe('RUNNING');

    // Presigned URLs only under its own output prefix.
    for (const path of ['../../x', '/../other', `../../${b.id}/x`]) {
      const r = await api('/presign', token.token, { path, method: 'PUT' });
      expect(r.status).toBe(400);
    }
    expect((await api('/presign', token.token, { path: 'x', method: 'DELETE' })).status).toBe(400);

    expect((await api('/heartbeat', token.token, { step: 1, totalSteps: 4 })).status).toBe(200);
    expect(await (await api('/metrics', token.token, { points: [{ step: 1, name: 'loss', value: 2.5 }, { step: 1, name: 'loss', value: Number.NaN }] })).json()).toEqual({ accepted: 1 });
    const row = await db.run.findUniqueOrThrow({ where: { id } });
    expect(row.progress).toBeCloseTo(0.25);
    expect(row.step).toBe(1);
    // A liveness beat (no step) carrying a run row read before that progress beat must not roll the step back.
    const stale = { ...row, step: 0, totalSteps: null, progress: 0 };
    await t.platform.services.trainer.heartbeat(stale, {});
    expect(await api('/heartbeat', token.token, {}).then((r) => r.status)).toBe(200);
    expect(await db.run.findUniqueOrThrow({ where: { id } })).toMatchObject({ step: 1, totalSteps: 4, progress: 0.25 });

    expect((await api('/complete', token.token, { onnxKey: 'model/model.onnx', inputSpec: {}, embeddingDim: 8 })).status).toBe(400); // not uploaded yet
    const put = (await (await api('/presign', token.token, { path: 'model/model.onnx', method: 'PUT' })).json()) as { url: string; key: string };
    expect((await fetch(put.url, { method: 'PUT', body: new Uint8Array([1, 2, 3]) })).ok).toBe(true);
    const first = (await (await api('/complete', token.token, { onnxKey: put.key, inputSpec: { x: 1 }, embeddingDim: 8 })).json()) as { modelVersionId: string };
    const second = (await (await api('/complete', token.token, { onnxKey: put.key, inputSpec: { x: 1 }, embeddingDim: 8 })).json()) as { modelVersionId: string };
    expect(second.modelVersionId).toBe(first.modelVersionId);
    expect(await db.modelVersion.count({ where: { runId: id } })).toBe(1);
    expect((await db.run.findUniqueOrThrow({ where: { id } })).status).toBe('SUCCEEDED');
    // A finished run's token reports nothing more.
    expect((await api('/heartbeat', token.token, { step: 2 })).status).toBe(401);

    const viaGraphql = await t.exec(`query($id: ID!) { run(id: $id) { status progress model { modelVersionId embeddingDim } metrics(name: "loss") { step value } } }`, { id }, { key: a.keys.READER });
    expect(viaGraphql.body.data!.run).toEqual({ status: 'SUCCEEDED', progress: 1, model: { modelVersionId: first.modelVersionId, embeddingDim: 8 }, metrics: [{ step: 1, value: 2.5 }] });
  });
});

describe('trainer API for FINETUNE runs', () => {

  it('hands out the base version’s weights and registers only a head of the requested task, under the base model', async () => {
    const owner = await t.seedTenant('runs-ft');
    const m = await registerFineTunableModel(t, owner);
    const created = await t.exec(
      `mutation($i: CreateFineTuneInput!) { createFineTune(input: $i) { id kind status } }`,
      { i: { model: m.versionId, datasetVersionId: m.datasetVersionId, task: 'CLASSIFICATION', mode: 'FULL', labelFraction: 0.5 } },
      { key: owner.keys.MEMBER },
    );
    expect(created.body.data?.createFineTune).toMatchObject({ kind: 'FINETUNE', status: 'QUEUED' });
    const id = created.body.data!.createFineTune.id as string;
    const db = t.platform.db.prisma;
    const token = mintJobToken(600);
    expect(await transition(db, id, 'QUEUED', 'DISPATCHED', { attempt: 1, tokenHash: token.hash, tokenExpiresAt: token.expiresAt, heartbeatAt: new Date() })).toBe(true);

    const spec = (await (await api('/spec', token.token)).json()) as Record<string, any>;
    expect(spec.kind).toBe('FINETUNE');
    expect(spec.train).toBeUndefined();
    expect(spec.finetune).toMatchObject({ task: 'CLASSIFICATION', mode: 'FULL', labelFraction: 0.5, seed: 0, base: { modelVersionId: m.versionId, tokenizerUrl: null } });
    expect(spec.manifest.key).toContain(m.datasetVersionId);
    const weights = decodeWeights(Buffer.from(await (await fetch(spec.finetune.base.weightsUrl)).arrayBuffer()));
    const trained = m.result.model.getWeights();
    expect(Object.keys(weights).sort()).toEqual(Object.keys(trained).sort());
    for (const [name, w] of Object.entries(trained)) expect(Array.from(weights[name]!.data)).toEqual(Array.from(w.data));
    m.result.model.dispose();
    m.result.heads.dispose();

    const put = (await (await api('/presign', token.token, { path: 'model/model.onnx', method: 'PUT' })).json()) as { url: string; key: string };
    expect((await fetch(put.url, { method: 'PUT', body: new Uint8Array([1, 2, 3]) })).ok).toBe(true);
    const report = { onnxKey: put.key, inputSpec: { x: 1 }, embeddingDim: 16, evaluation: { accuracy: 0.75 } };
    for (const head of [undefined, { task: 'REGRESSION', outputs: 1 }, { task: 'CLASSIFICATION', labels: ['only-one'] }]) {
      const res = await api('/complete', token.token, { ...report, head });
      expect(res.status).toBe(400);
    }
    // A weights key outside the run's own prefix is refused like any other foreign key.
    expect((await api('/complete', token.token, { ...report, head: { task: 'CLASSIFICATION', labels: ['fast', 'slow'] }, weightsKey: `../../${b.id}/x` })).status).toBe(400);
    expect(await db.modelVersion.count({ where: { runId: id } })).toBe(0);

    const done = (await (await api('/complete', token.token, { ...report, head: { task: 'CLASSIFICATION', labels: ['fast', 'slow'], trainSize: 20 } })).json()) as { modelId: string; modelVersionId: string; version: number };
    expect(done).toMatchObject({ modelId: m.modelId, version: 2 });
    const v = await db.modelVersion.findUniqueOrThrow({ where: { id: done.modelVersionId } });
    expect(v.parentVersionId).toBe(m.versionId);
    expect(v.head).toEqual({ task: 'CLASSIFICATION', labels: ['fast', 'slow'], mode: 'FULL', labelFraction: 0.5, trainSize: 20 });
    expect(v.evaluation).toEqual({ accuracy: 0.75, datasetVersionId: m.datasetVersionId });
  });
});

describe('dispatch errors (AWS Batch client against a loopback endpoint)', () => {
  let rec: Recorder;
  beforeAll(async () => {
    rec = await startRecorder(() => ({ status: 500, body: { __type: 'ServerException', message: 'internal failure' } }));
  });
  afterAll(async () => {
    await rec.close();
  });

  const lifecycleWith = () =>
    new RunLifecycle({
      db: t.platform.db.prisma,
      dispatcher: new AwsBatchDispatcher({ kind: 'aws-batch', region: 'us-east-1', endpoint: rec.url, credentials: FAKE_CREDENTIALS, maxAttempts: 1, jobQueue: 'q', jobDefinition: 'd' }),
      jobs: { ...t.platform.config.jobs, retryBaseMs: 1000 },
      gatewayUrl: () => t.url!,
      log: t.platform.log,
    });

  it('retries a retryable submit error with backoff, then FAILS with the reason', async () => {
    const id = await createRun(a, versionA, { resources: { maxAttempts: 2 } });
    const lc = lifecycleWith();
    const db = t.platform.db.prisma;
    expect(await lc.dispatchOne(id)).toBe(true);
    let row = await db.run.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: 'QUEUED', attempt: 1 });
    expect(row.error).toMatch(/dispatch failed: .*internal failure/);
    expect(row.notBefore!.getTime() - row.queuedAt.getTime()).toBe(1000);
    expect(await lc.dispatchOne(id)).toBe(true);
    row = await db.run.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: 'FAILED', attempt: 2, dispatcher: 'aws-batch' });
    expect(row.error).toMatch(/internal failure.*\(after 2 of 2 attempts\)/);
    expect(rec.requests.filter((r) => r.path === '/v1/submitjob')).toHaveLength(2);
  });

  it('fails at once on an error that retrying cannot fix (400 ClientException)', async () => {
    rec.setHandler(() => ({ status: 400, body: { __type: 'ClientException', message: 'job definition d does not exist' } }));
    const id = await createRun(b, versionB, { resources: { maxAttempts: 3 } });
    expect(await lifecycleWith().dispatchOne(id)).toBe(true);
    const row = await t.platform.db.prisma.run.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: 'FAILED', attempt: 1 });
    expect(row.error).toMatch(/does not exist/);
  });
});

describe('task failures (local dispatcher)', () => {
  it('a trainer that cannot be started is retried with backoff, then FAILED with the reason', async () => {
    const db = t.platform.db.prisma;
    let lc: RunLifecycle | undefined;
    const exits: Promise<void>[] = [];
    const local = new LocalDispatcher({ kind: 'local', maxConcurrent: 1, onExit: (externalId, status) => exits.push(lc!.onTaskExit(externalId, status)) });
    lc = new RunLifecycle({ db, dispatcher: local, jobs: { ...t.platform.config.jobs, retryBaseMs: 50, trainerCommand: ['/nonexistent/pretext-trainer'] }, gatewayUrl: () => t.url!, log: t.platform.log });
    const id = await createRun(a, versionA, { resources: { maxAttempts: 2 } });
    for (let attempt = 1; attempt <= 2; attempt++) {
      const before = await db.run.findUniqueOrThrow({ where: { id } });
      if (before.notBefore) await new Promise((r) => setTimeout(r, Math.max(0, before.notBefore!.getTime() - Date.now())));
      // The backoff is checked against the database clock; retry briefly until the run is due there too.
      let dispatched = await lc.dispatchOne(id);
      for (let i = 0; i < 100 && !dispatched; i++) {
        await new Promise((r) => setTimeout(r, 10));
        dispatched = await lc.dispatchOne(id);
      }
      expect(dispatched).toBe(true);
      const row = await db.run.findUniqueOrThrow({ where: { id } });
      await local.waitForExit(row.externalId!);
      // onExit is called from the child's exit handler, possibly after waitForExit resolves: wait for it to arrive.
      while (exits.length < attempt) await new Promise((r) => setImmediate(r));
      await Promise.all(exits);
    }
    const row = await db.run.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: 'FAILED', attempt: 2, dispatcher: 'local' });
    expect(row.error).toMatch(/could not start \/nonexistent\/pretext-trainer.*ENOENT.*\(after 2 of 2 attempts\)/);
    const logs = await db.runLog.findMany({ where: { runId: id }, orderBy: { id: 'asc' } });
    expect(logs.some((l) => /attempt 1 failed .*retrying in 50 ms/.test(l.message))).toBe(true);
  });
});

describe('supervisor', () => {
  it('re-queues a RUNNING run whose heartbeat is stale (keeping its checkpoint) and FAILS one past its run timeout', async () => {
    const db = t.platform.db.prisma;
    const local = new LocalDispatcher({ kind: 'local', maxConcurrent: 1 });
    const lc = new RunLifecycle({ db, dispatcher: local, jobs: { ...t.platform.config.jobs, heartbeatStaleSeconds: 30, retryBaseMs: 10 }, gatewayUrl: () => t.url!, log: t.platform.log, tenantScope: () => [b.id] });
    const now = Date.now();
    const stale = await createRun(b, versionB, { resources: { timeoutSeconds: 3600, maxAttempts: 3 } });
    await transition(db, stale, 'QUEUED', 'DISPATCHED', { attempt: 1 });
    await transition(db, stale, 'DISPATCHED', 'RUNNING', { startedAt: new Date(now - 100_000), heartbeatAt: new Date(now - 31_000), checkpointKey: `tenants/${b.id}/runs/${stale}/checkpoints/step-00000004`, checkpointStep: 4 });
    const late = await createRun(b, versionB, { resources: { timeoutSeconds: 60, maxAttempts: 3 } });
    await transition(db, late, 'QUEUED', 'DISPATCHED', { attempt: 1 });
    await transition(db, late, 'DISPATCHED', 'RUNNING', { startedAt: new Date(now - 61_000), heartbeatAt: new Date(now - 1000) });
    const fresh = await createRun(b, versionB, { resources: { timeoutSeconds: 3600 } });
    await transition(db, fresh, 'QUEUED', 'DISPATCHED', { attempt: 1 });
    await transition(db, fresh, 'DISPATCHED', 'RUNNING', { startedAt: new Date(now - 5000), heartbeatAt: new Date(now - 1000) });

    await lc.supervise(new Date(now));
    const s1 = await db.run.findUniqueOrThrow({ where: { id: stale } });
    expect(s1).toMatchObject({ status: 'QUEUED', attempt: 1, checkpointStep: 4 });
    expect(s1.error).toMatch(/no heartbeat for 31 s/);
    const l1 = await db.run.findUniqueOrThrow({ where: { id: late } });
    expect(l1.status).toBe('FAILED');
    expect(l1.error).toMatch(/timed out after 60 s/);
    expect((await db.run.findUniqueOrThrow({ where: { id: fresh } })).status).toBe('RUNNING');
    for (const id of [stale, fresh]) await cancel(b, id);
  });
});
