// Fine-tuning end to end through the jobs pipeline: a PRETRAIN run trains an encoder on a labeled dataset version
// (real tfjs steps in a real trainer child process started by the local dispatcher), createFineTune queues a
// FINETUNE run on that run's model, the trainer fine-tunes it and registers a new version (encoder + head in one
// ONNX graph, labels, evaluation report), and the gateway serves predictions from it through onnxruntime-node.
// Nothing is mocked: Postgres (or PGlite), the local object store, the trainer API and the trainer process are real.
import type { SequenceRow } from '../../src/ingest/types';
import { createReadyDatasetVersion, tinySequenceJsonl } from '../helpers/datasets';
import { codes, type SeededTenant } from '../helpers/platform';
import { readRows } from '../helpers/rows';
import { runCli } from '../helpers/cli';
import { CREATE, experimentInput, startJobPlatform, waitForRun, type JobPlatform } from './helpers';

const SHAPE = { modality: 'SEQUENCE' as const, length: 16, features: 2 };
const FT = `mutation($i: CreateFineTuneInput!) { createFineTune(input: $i) { id kind status baseModelVersionId datasetVersionId finetune } }`;
const VERSION = `query($id: ID!) { modelVersion(id: $id) { id version parentVersionId head evaluation fineTunable embeddingDim model { id name } } }`;
const PREDICT = `query($m: String!, $in: [EmbedInput!]!) { predict(model: $m, inputs: $in, topK: 2) { task labels predictions { label probabilities values } } }`;
const METRICS = `query($id: ID!) { run(id: $id) { kind metrics(name: "loss") { step value } logs(tail: 200) { message } } }`;

const asSequence = (r: SequenceRow) => Array.from({ length: r.length }, (_, t) => Array.from(r.values.subarray(t * SHAPE.features, (t + 1) * SHAPE.features)));

describe('fine-tuning through the jobs pipeline', () => {
  let t: JobPlatform;
  let tenant: SeededTenant;
  let labeled: { versionId: string; manifestKey: string };
  let base: { modelId: string; versionId: string; name: string };

  beforeAll(async () => {
    t = await startJobPlatform();
    tenant = await t.seedTenant('ft');
    labeled = await createReadyDatasetVersion(t.platform, tenant.id, [{ name: 'waves.jsonl', content: tinySequenceJsonl(120, 16) }], SHAPE);
    const created = await t.exec(CREATE, { input: { ...experimentInput(labeled.versionId), name: `waves-${tenant.id.slice(0, 8)}` } }, { key: tenant.keys.MEMBER });
    expect(created.body.errors).toBeUndefined();
    const run = await waitForRun(t, tenant.keys.READER, created.body.data.createExperiment.run.id, (r) => ['SUCCEEDED', 'FAILED'].includes(r.status), 120_000);
    expect(run.status).toBe('SUCCEEDED');
    base = { modelId: run.model.modelId, versionId: run.model.modelVersionId, name: run.model.name };
  }, 180_000);

  afterAll(async () => {
    await t?.close();
  });

  test('a pretrained version stores its weights and an evaluation report on the held-out split', async () => {
    const v = (await t.exec(VERSION, { id: base.versionId }, { key: tenant.keys.READER })).body.data.modelVersion;
    expect(v.fineTunable).toBe(true);
    expect(v.head).toBeNull();
    const e = v.evaluation;
    const testRows = (await readRows(t.platform, labeled.manifestKey)).filter((r) => r.split === 'test');
    expect(e).toMatchObject({ task: 'CLASSIFICATION', split: 'test', k: 20, labels: ['fast', 'slow'], testSize: testRows.length });
    for (const m of ['linearProbeAccuracy', 'knnAccuracy', 'macroF1']) expect(e[m]).toBeGreaterThanOrEqual(0);
    expect(e.linearProbeAccuracy).toBeLessThanOrEqual(1);
    expect((e.confusionMatrix as number[][]).flat().reduce((a, b) => a + b, 0)).toBe(testRows.length);
  });

  test('an encoder pretrained on unlabeled rows is evaluated on the labeled version its experiment names', async () => {
    const unlabeled = await createReadyDatasetVersion(t.platform, tenant.id, [{ name: 'u.jsonl', content: tinySequenceJsonl(60, 16, 9).replace(/,"label":"(slow|fast)"/g, '') }], SHAPE);
    const created = await t.exec(
      CREATE,
      { input: { ...experimentInput(unlabeled.versionId, { steps: 4 }), evaluationDatasetVersionId: labeled.versionId, name: `unlabeled-${tenant.id.slice(0, 8)}` } },
      { key: tenant.keys.MEMBER },
    );
    expect(created.body.errors).toBeUndefined();
    const runId = created.body.data.createExperiment.run.id;
    const run = await waitForRun(t, tenant.keys.READER, runId, (r) => ['SUCCEEDED', 'FAILED'].includes(r.status), 120_000);
    expect(run.status).toBe('SUCCEEDED');
    const shown = (await t.exec(`query($id: ID!) { run(id: $id) { datasetVersionId evaluationDatasetVersionId } }`, { id: runId }, { key: tenant.keys.READER })).body.data.run;
    expect(shown).toEqual({ datasetVersionId: unlabeled.versionId, evaluationDatasetVersionId: labeled.versionId });
    const e = (await t.exec(VERSION, { id: run.model.modelVersionId }, { key: tenant.keys.READER })).body.data.modelVersion.evaluation;
    const testRows = (await readRows(t.platform, labeled.manifestKey)).filter((r) => r.split === 'test');
    expect(e).toMatchObject({ task: 'CLASSIFICATION', split: 'test', datasetVersionId: labeled.versionId, testSize: testRows.length, labels: ['fast', 'slow'] });
    expect(e.linearProbeAccuracy).toBeGreaterThanOrEqual(0);
  }, 180_000);

  test('FULL fine-tune: a FINETUNE run registers version 2 whose served predictions reproduce its stored accuracy', async () => {
    const created = await t.exec(
      FT,
      {
        i: {
          model: `${base.name}@v1`,
          datasetVersionId: labeled.versionId,
          task: 'CLASSIFICATION',
          mode: 'FULL',
          hyperparameters: { epochs: 3, minSteps: 0, maxSteps: 12, batchSize: 16, learningRate: 0.003, seed: 1, backend: 'wasm' },
        },
      },
      { key: tenant.keys.MEMBER },
    );
    expect(created.body.errors).toBeUndefined();
    const queued = created.body.data.createFineTune;
    expect(queued).toMatchObject({ kind: 'FINETUNE', status: 'QUEUED', baseModelVersionId: base.versionId, datasetVersionId: labeled.versionId });
    expect(queued.finetune).toMatchObject({ task: 'CLASSIFICATION', mode: 'FULL', labelFraction: 1 });

    const run = await waitForRun(t, tenant.keys.READER, queued.id, (r) => ['SUCCEEDED', 'FAILED'].includes(r.status), 120_000);
    expect(run.error).toBeNull();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.model).toMatchObject({ modelId: base.modelId, version: 2 });
    const details = (await t.exec(METRICS, { id: queued.id }, { key: tenant.keys.READER })).body.data.run;
    expect(details.kind).toBe('FINETUNE');
    expect(details.metrics.length).toBeGreaterThan(0);
    expect(details.logs.map((l: { message: string }) => l.message).join('\n')).toMatch(/fine-tuned on \d+ labeled rows/);

    const v = (await t.exec(VERSION, { id: run.model.modelVersionId }, { key: tenant.keys.READER })).body.data.modelVersion;
    expect(v).toMatchObject({ version: 2, parentVersionId: base.versionId, fineTunable: true, embeddingDim: 16 });
    expect(v.head).toMatchObject({ task: 'CLASSIFICATION', labels: ['fast', 'slow'], mode: 'FULL', labelFraction: 1 });
    const e = v.evaluation;
    const rows = (await readRows(t.platform, labeled.manifestKey)) as SequenceRow[];
    const testRows = rows.filter((r) => r.split === 'test');
    expect(e).toMatchObject({ task: 'CLASSIFICATION', split: 'test', testSize: testRows.length, trainSize: rows.filter((r) => r.split === 'train').length, k: 20, datasetVersionId: labeled.versionId });
    for (const m of ['accuracy', 'macroF1', 'linearProbeAccuracy', 'knnAccuracy']) {
      expect(e[m]).toBeGreaterThanOrEqual(0);
      expect(e[m]).toBeLessThanOrEqual(1);
    }

    // The served graph (onnxruntime) predicts the held-out rows exactly as the trainer's evaluation (tfjs) did.
    const served = await t.exec(PREDICT, { m: `${base.name}@v2`, in: testRows.map((r) => ({ sequence: asSequence(r) })) }, { key: tenant.keys.READER });
    expect(served.body.errors).toBeUndefined();
    const predictions = served.body.data.predict.predictions as Array<{ label: string; probabilities: number[] }>;
    expect(served.body.data.predict.labels).toEqual(['fast', 'slow']);
    const correct = predictions.filter((p, i) => p.label === testRows[i]!.label).length;
    expect(correct / testRows.length).toBeCloseTo(e.accuracy, 10);
    for (const p of predictions) expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);

    // embed keeps working on the fine-tuned version: the backbone's output.
    const emb = await t.exec(`query($m: String!, $in: [EmbedInput!]!) { embed(model: $m, inputs: $in) { dims } }`, { m: v.id, in: [{ sequence: asSequence(testRows[0]!) }] }, { key: tenant.keys.READER });
    expect(emb.body.data.embed.dims).toBe(16);
  }, 180_000);

  test('LINEAR_PROBE regression into a new named model, on numeric labels', async () => {
    const numeric = tinySequenceJsonl(120, 16).replace(/"label":"slow"/g, '"label":"1"').replace(/"label":"fast"/g, '"label":"3"');
    const dv = await createReadyDatasetVersion(t.platform, tenant.id, [{ name: 'freq.jsonl', content: numeric }], SHAPE);
    const name = `freq-${tenant.id.slice(0, 8)}`;
    const created = await t.exec(
      FT,
      { i: { model: base.versionId, datasetVersionId: dv.versionId, task: 'REGRESSION', mode: 'LINEAR_PROBE', labelFraction: 0.5, name, hyperparameters: { seed: 2, backend: 'wasm' } } },
      { key: tenant.keys.MEMBER },
    );
    expect(created.body.errors).toBeUndefined();
    const run = await waitForRun(t, tenant.keys.READER, created.body.data.createFineTune.id, (r) => ['SUCCEEDED', 'FAILED'].includes(r.status), 120_000);
    expect(run.error).toBeNull();
    expect(run.model).toMatchObject({ name, version: 1 });
    const v = (await t.exec(VERSION, { id: run.model.modelVersionId }, { key: tenant.keys.READER })).body.data.modelVersion;
    expect(v.model.name).toBe(name);
    expect(v.parentVersionId).toBe(base.versionId);
    expect(v.head).toMatchObject({ task: 'REGRESSION', outputs: 1, labelFraction: 0.5 });
    expect(v.evaluation).toMatchObject({ task: 'REGRESSION', split: 'test' });
    for (const m of ['rmse', 'mae']) expect(v.evaluation[m]).toBeGreaterThanOrEqual(0);
    expect(v.evaluation.probe).toMatchObject({ trainSize: expect.any(Number) });
    const rows = (await readRows(t.platform, dv.manifestKey)) as SequenceRow[];
    const served = await t.exec(PREDICT, { m: name, in: [{ sequence: asSequence(rows[0]!) }] }, { key: tenant.keys.READER });
    expect(served.body.data.predict.task).toBe('REGRESSION');
    expect(served.body.data.predict.predictions[0].values).toHaveLength(1);
  }, 180_000);

  test('pretext finetune --wait queues the run, follows it and prints the new version with its report', async () => {
    const out = JSON.parse(
      await runCli(t.url, tenant.keys.MEMBER, 'finetune', '--model', base.versionId, '--dataset-version', labeled.versionId, '--task', 'classification', '--mode', 'mlp_head',
        '--head-hidden', '8', '--epochs', '2', '--max-steps', '6', '--label-fraction', '0.5', '--seed', '4', '--wait', '--json'),
    );
    expect(out.run).toMatchObject({ status: 'SUCCEEDED', model: { modelId: base.modelId } });
    expect(out.modelVersion.head).toMatchObject({ task: 'CLASSIFICATION', mode: 'MLP_HEAD', labelFraction: 0.5 });
    expect(out.modelVersion.evaluation).toMatchObject({ task: 'CLASSIFICATION', accuracy: expect.any(Number), linearProbeAccuracy: expect.any(Number) });
    await expect(runCli(t.url, tenant.keys.MEMBER, 'finetune', '--model', base.versionId, '--dataset-version', labeled.versionId, '--task', 'classification', '--label-fraction', 'half')).rejects.toThrow(
      /--label-fraction must be a number/,
    );
  }, 180_000);

  test('a problem only the trainer can see fails the run at once with its reason, without retries', async () => {
    // Labels only in test.jsonl: the manifest has labels, but no labeled train row exists to fine-tune on.
    const unlabeledTrain = tinySequenceJsonl(30, 16, 5).replace(/,"label":"(slow|fast)"/g, '');
    const dv = await createReadyDatasetVersion(t.platform, tenant.id, [{ name: 'train.jsonl', content: unlabeledTrain }, { name: 'test.jsonl', content: tinySequenceJsonl(10, 16, 6) }], SHAPE);
    const created = await t.exec(FT, { i: { model: base.versionId, datasetVersionId: dv.versionId, task: 'CLASSIFICATION', mode: 'LINEAR_PROBE' } }, { key: tenant.keys.MEMBER });
    expect(created.body.errors).toBeUndefined();
    const run = await waitForRun(t, tenant.keys.READER, created.body.data.createFineTune.id, (r) => ['SUCCEEDED', 'FAILED'].includes(r.status), 120_000);
    expect(run.status).toBe('FAILED');
    expect(run.attempt).toBe(1);
    expect(run.error).toMatch(/labeled rows in the train split/);
    expect(run.model).toBeNull();
  }, 180_000);

  describe('bad input is refused with every problem named, and nothing is queued', () => {
    const runCount = () => t.platform.db.prisma.run.count({ where: { tenantId: tenant.id } });
    const attempt = async (i: Record<string, unknown>, key = tenant.keys.MEMBER) => {
      const before = await runCount();
      const res = await t.exec(FT, { i: { model: base.versionId, datasetVersionId: labeled.versionId, task: 'CLASSIFICATION', mode: 'LINEAR_PROBE', ...i } }, { key });
      expect(await runCount()).toBe(before);
      return res;
    };
    const problems = (res: Awaited<ReturnType<typeof attempt>>) => JSON.stringify(res.body.errors?.[0]?.extensions ?? {});

    test('label fraction, hyperparameters and backend out of range', async () => {
      for (const labelFraction of [0, -0.1, 1.5]) {
        const res = await attempt({ labelFraction });
        expect(codes(res)).toEqual(['BAD_USER_INPUT']);
        expect(problems(res)).toContain('input.labelFraction');
      }
      const res = await attempt({ mode: 'LINEAR_PROBE', hyperparameters: { learningRate: -1, headHidden: [8], backend: 'cuda' } });
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(problems(res)).toContain('learningRate must be a finite number');
      expect(problems(res)).toContain('Unsupported backend');
      const probe = await attempt({ mode: 'LINEAR_PROBE', hyperparameters: { headHidden: [8] } });
      expect(problems(probe)).toContain('LINEAR_PROBE trains a linear head');
      const augment = await attempt({ mode: 'MLP_HEAD', hyperparameters: { augment: true } });
      expect(problems(augment)).toContain('augment needs FULL fine-tuning');
      const selfTraining = await attempt({ mode: 'MLP_HEAD', hyperparameters: { selfTraining: true } });
      expect(problems(selfTraining)).toContain('selfTraining needs FULL CLASSIFICATION fine-tuning');
    });

    test('datasets without labels, with non-numeric labels for regression, or of another modality or shape', async () => {
      const unlabeled = await createReadyDatasetVersion(t.platform, tenant.id, [{ name: 'u.jsonl', content: tinySequenceJsonl(20, 16).replace(/,"label":"(slow|fast)"/g, '') }], SHAPE);
      expect(problems(await attempt({ datasetVersionId: unlabeled.versionId }))).toContain('has no labels');
      expect(problems(await attempt({ task: 'REGRESSION' }))).toContain('regression needs 1 number(s) per label');
      const wide = await createReadyDatasetVersion(
        t.platform,
        tenant.id,
        [{ name: 'w.jsonl', content: `${Array.from({ length: 12 }, (_, i) => JSON.stringify({ sequence: Array.from({ length: 16 }, () => [1, 2, 3]), label: String(i % 2) })).join('\n')}\n` }],
        { modality: 'SEQUENCE', length: 16, features: 3 },
      );
      expect(problems(await attempt({ datasetVersionId: wide.versionId }))).toContain('have 3 features per step; the model takes 2');
      const text = await createReadyDatasetVersion(t.platform, tenant.id, [{ name: 't.jsonl', content: '{"text":"a","label":"x"}\n{"text":"b","label":"y"}\n' }], { modality: 'TEXT' });
      expect(problems(await attempt({ datasetVersionId: text.versionId }))).toContain('the dataset is TEXT and the model is SEQUENCE');
    });

    test('a version registered without weights cannot be fine-tuned', async () => {
      await t.platform.db.prisma.modelVersion.update({ where: { id: base.versionId }, data: { weightsKey: null } });
      try {
        const res = await attempt({});
        expect(codes(res)).toEqual(['BAD_USER_INPUT']);
        expect(problems(res)).toContain('registered without its trained weights');
      } finally {
        const run = await t.platform.db.prisma.run.findFirstOrThrow({ where: { modelVersions: { some: { id: base.versionId } } } });
        await t.platform.db.prisma.modelVersion.update({ where: { id: base.versionId }, data: { weightsKey: `tenants/${tenant.id}/runs/${run.id}/model/weights.bin` } });
      }
    });

    test('READER keys are FORBIDDEN; unknown models and dataset versions are NOT_FOUND', async () => {
      expect(codes(await attempt({}, tenant.keys.READER))).toEqual(['FORBIDDEN']);
      expect(codes(await attempt({ model: 'no-such-model@v1' }))).toEqual(['NOT_FOUND']);
      expect(codes(await attempt({ datasetVersionId: '00000000-0000-4000-8000-000000000000' }))).toEqual(['NOT_FOUND']);
      // Another tenant's dataset version, with this tenant's own model: NOT_FOUND, as if it did not exist.
      const other = await t.seedTenant('ft-other');
      const foreign = await createReadyDatasetVersion(t.platform, other.id, [{ name: 'waves.jsonl', content: tinySequenceJsonl(20, 16) }], SHAPE);
      const res = await attempt({ datasetVersionId: foreign.versionId });
      expect(codes(res)).toEqual(['NOT_FOUND']);
    });
  });
});
