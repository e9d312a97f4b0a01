// Sustained mixed load on a real gateway (HTTP on loopback, real database, ONNX serving of really trained models):
// a fixed number of concurrent clients from two tenants run embed, similar (an embedding space search), predict (a
// fine-tuned classifier head) and plain list queries (datasets, experiments) for a fixed time. Every response must
// be free of errors and right: embeddings and class probabilities equal the tfjs models' own forward pass (1e-4),
// similar returns the neighbours a quiet call returned, lists hold exactly the tenant's rows. Rate limits are
// raised for the two tenants through the operator's setTenantLimits, so the load measures serving, not the limiter.
// Latencies are recorded and printed (requests, seconds, p50/p99 per operation), never asserted.
import sharp from 'sharp';
import { buildModel } from '../../src/training/encoders';
import { tf } from '../../src/training/engine/tf';
import { createReadyDatasetVersion, tinySequenceJsonl } from '../helpers/datasets';
import { registerFineTunedClassifier, registerTrainedModel, type RegisteredTestModel } from '../helpers/models';
import { startTestPlatform, type SeededTenant, type TestPlatform } from '../helpers/platform';
import { tinyImages } from '../training/data/fixtures';
import { experimentInput } from '../jobs/helpers';

jest.setTimeout(180_000);

const LOAD_SECONDS = Number(process.env.MIXED_LOAD_SECONDS ?? 15);
const CONCURRENCY = 8;
const BATCH = 4;

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;

interface TenantFixture {
  tenant: SeededTenant;
  embedModel: string;
  embedInputs: Array<{ image: string }>;
  embedExpected: number[][];
  similar: { model: string; datasetVersionId: string; query: { image: string }; neighbors: Array<{ row: number; label: string | null }> };
  predict?: { model: string; inputs: Array<{ image: string }>; expected: number[][]; labels: string[] };
  datasetIds: string[];
  experimentIds: string[];
}

describe('sustained mixed load', () => {
  let t: TestPlatform;
  const fixtures: TenantFixture[] = [];
  const images = tinyImages(48, 7);
  const pngOf = async (pixels: Uint8Array) => (await sharp(Buffer.from(pixels), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer()).toString('base64');
  const disposables: RegisteredTestModel[] = [];

  /** A READY image dataset of 16 rows, an embedding space over it with `model`, and one (queued) experiment. */
  async function spaceAndExperiment(tenant: SeededTenant, model: string) {
    const files = await Promise.all(images.rows.slice(0, 16).map(async (r) => ({ name: `${r.label}/${r.index}.png`, content: Buffer.from(await pngOf(r.pixels), 'base64') })));
    const dv = await createReadyDatasetVersion(t.platform, tenant.id, files, images.shape);
    const space = await t.exec(`mutation($i: CreateEmbeddingSpaceInput!) { createEmbeddingSpace(input: $i) { id } }`, { i: { model, datasetVersionId: dv.versionId } }, { key: tenant.keys.MEMBER });
    expect(space.body.errors).toBeUndefined();
    await t.platform.services.spaces.idle();
    const built = await t.exec(`query($id: ID!) { embeddingSpace(id: $id) { status rows } }`, { id: space.body.data!.createEmbeddingSpace.id }, { key: tenant.keys.READER });
    expect(built.body.data?.embeddingSpace).toEqual({ status: 'READY', rows: 16 });
    const query = { image: await pngOf(images.rows[5]!.pixels) };
    const quiet = await t.exec(
      `query($i: SimilarInput!) { similar(input: $i) { neighbors { row score label } } }`,
      { i: { model, datasetVersionId: dv.versionId, query, k: 5 } },
      { key: tenant.keys.READER },
    );
    expect(quiet.body.errors).toBeUndefined();
    const neighbors = quiet.body.data!.similar.neighbors as Array<{ row: number; score: number; label: string | null }>;
    expect(neighbors[0]).toMatchObject({ row: 5, label: images.rows[5]!.label });
    // A (never dispatched: no worker here) experiment on a sequence version, so the experiments list has a row.
    const seq = await createReadyDatasetVersion(t.platform, tenant.id, [{ name: 'waves.jsonl', content: tinySequenceJsonl(24, 16) }], { modality: 'SEQUENCE', length: 16, features: 2 });
    const exp = await t.exec(`mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { experiment { id } } }`, { input: experimentInput(seq.versionId) }, { key: tenant.keys.MEMBER });
    expect(exp.body.errors).toBeUndefined();
    return {
      similar: { model, datasetVersionId: dv.versionId, query, neighbors: neighbors.map(({ row, label }) => ({ row, label })) },
      datasetIds: [dv.datasetId, seq.datasetId],
      experimentIds: [exp.body.data!.createExperiment.experiment.id as string],
    };
  }

  const embedInputRows = images.rows.slice(20, 20 + BATCH);
  const forward = (m: tf.LayersModel | { apply: (x: Record<string, tf.Tensor>, o: { training: boolean }) => Record<string, tf.Tensor> }, out: 'embedding' | 'head') => {
    const pixels = tf.tensor4d(Float32Array.from(embedInputRows.flatMap((r) => Array.from(r.pixels))), [embedInputRows.length, 8, 8, 1]);
    const res = tf.tidy(() => {
      const y = (m as { apply: (x: Record<string, tf.Tensor>, o: { training: boolean }) => Record<string, tf.Tensor> }).apply({ pixels }, { training: false })[out] as tf.Tensor2D;
      return (out === 'head' ? tf.softmax(y) : y).arraySync() as number[][];
    });
    pixels.dispose();
    return res;
  };

  beforeAll(async () => {
    t = await startTestPlatform('http');
    const inputs = await Promise.all(embedInputRows.map(async (r) => ({ image: await pngOf(r.pixels) })));
    const setLimits = async (tenant: SeededTenant) => {
      const res = await t.exec(
        `mutation($i: SetTenantLimitsInput!) { setTenantLimits(input: $i) { limits { requestsPerMinute inferenceInputsPerMinute } } }`,
        { i: { tenantId: tenant.id, requestsPerMinute: 100_000_000, inferenceInputsPerMinute: 100_000_000 } },
        { key: t.operatorKey },
      );
      expect(res.body.data?.setTenantLimits.limits).toEqual({ requestsPerMinute: 100_000_000, inferenceInputsPerMinute: 100_000_000 });
    };

    // Tenant A: a fine-tuned classifier (predict) over a pretrained image encoder (embed, similar).
    const acme = await t.seedTenant('load-a');
    await setLimits(acme);
    const ft = await registerFineTunedClassifier(t, acme, { rows: images.rows, shape: images.shape, name: 'shapes-cls' });
    const headModel = buildModel(ft.spec, { seed: 1 });
    headModel.setWeights(ft.weights);
    const predictExpected = forward(headModel as never, 'head');
    const baseEmbedding = forward(headModel as never, 'embedding'); // the fine-tuned backbone = the base encoder (linear probe)
    headModel.dispose();
    const a = await spaceAndExperiment(acme, 'shapes-cls-base');
    fixtures.push({
      tenant: acme,
      embedModel: 'shapes-cls-base',
      embedInputs: inputs,
      embedExpected: baseEmbedding,
      predict: { model: 'shapes-cls', inputs, expected: predictExpected, labels: ft.labels },
      ...a,
    });

    // Tenant B: its own contrastive image encoder (embed, similar); no head.
    const beta = await t.seedTenant('load-b');
    await setLimits(beta);
    const m = await registerTrainedModel(t, beta, { modality: 'IMAGE', pretext: 'CONTRASTIVE', rows: images.rows, shape: images.shape, name: 'shapes-b' });
    disposables.push(m);
    const b = await spaceAndExperiment(beta, 'shapes-b');
    fixtures.push({ tenant: beta, embedModel: 'shapes-b', embedInputs: inputs, embedExpected: forward(m.result.model as never, 'embedding'), ...b });
  }, 180_000);

  afterAll(async () => {
    for (const m of disposables) {
      m.result.model.dispose();
      m.result.heads.dispose();
    }
    await t?.close();
  });

  test(`${CONCURRENCY} concurrent clients, two tenants, embed + similar + predict + lists for ${LOAD_SECONDS} s: 0 errors, every answer right`, async () => {
    type Op = 'embed' | 'similar' | 'predict' | 'datasets' | 'experiments';
    const latencies: Record<Op, number[]> = { embed: [], similar: [], predict: [], datasets: [], experiments: [] };
    const failures: string[] = [];
    let errors = 0;
    const fail = (op: Op, why: string) => {
      errors += 1;
      if (failures.length < 10) failures.push(`${op}: ${why.slice(0, 300)}`);
    };

    const checks: Record<Op, (f: TenantFixture) => Promise<void>> = {
      embed: async (f) => {
        const res = await t.exec(
          `query($m: String!, $i: [EmbedInput!]!) { embed(model: $m, inputs: $i, options: { normalize: false }) { dims embeddings { index values } } }`,
          { m: f.embedModel, i: f.embedInputs },
          { key: f.tenant.keys.READER },
        );
        const out = res.body.data?.embed;
        if (res.status !== 200 || res.body.errors || !out) return fail('embed', `${res.status} ${JSON.stringify(res.body.errors)}`);
        if (out.embeddings.length !== BATCH || out.dims !== f.embedExpected[0]!.length) return fail('embed', `shape ${out.embeddings.length}×${out.dims}`);
        for (const e of out.embeddings) {
          const d = maxAbsDiff(e.values, f.embedExpected[e.index]!);
          if (!(d <= 1e-4)) return fail('embed', `row ${e.index} differs from the tfjs forward pass by ${d}`);
        }
      },
      similar: async (f) => {
        const res = await t.exec(`query($i: SimilarInput!) { similar(input: $i) { neighbors { row score label split } } }`, { i: { ...f.similar, neighbors: undefined, k: 5 } }, { key: f.tenant.keys.READER });
        const n = res.body.data?.similar.neighbors as Array<{ row: number; score: number; label: string | null }> | undefined;
        if (res.status !== 200 || res.body.errors || !n) return fail('similar', `${res.status} ${JSON.stringify(res.body.errors)}`);
        const got = n.map(({ row, label }) => ({ row, label }));
        if (JSON.stringify(got) !== JSON.stringify(f.similar.neighbors)) return fail('similar', `neighbours ${JSON.stringify(got)} ≠ ${JSON.stringify(f.similar.neighbors)}`);
        if (!(Math.abs(n[0]!.score - 1) < 1e-4)) return fail('similar', `self-score ${n[0]!.score}`);
      },
      predict: async (f) => {
        const p = f.predict!;
        const res = await t.exec(
          `query($m: String!, $i: [EmbedInput!]!) { predict(model: $m, inputs: $i, topK: 2) { task labels predictions { index label probabilities } } }`,
          { m: p.model, i: p.inputs },
          { key: f.tenant.keys.READER },
        );
        const out = res.body.data?.predict;
        if (res.status !== 200 || res.body.errors || !out) return fail('predict', `${res.status} ${JSON.stringify(res.body.errors)}`);
        if (out.task !== 'CLASSIFICATION' || JSON.stringify(out.labels) !== JSON.stringify(p.labels) || out.predictions.length !== BATCH) return fail('predict', `shape ${JSON.stringify(out).slice(0, 200)}`);
        for (const pr of out.predictions) {
          const d = maxAbsDiff(pr.probabilities, p.expected[pr.index]!);
          if (!(d <= 1e-4)) return fail('predict', `row ${pr.index} probabilities differ from the tfjs softmax by ${d}`);
        }
      },
      datasets: async (f) => {
        const res = await t.exec(`{ datasets(first: 20) { nodes { id name modality } pageInfo { hasNextPage } } }`, {}, { key: f.tenant.keys.READER });
        const ids = (res.body.data?.datasets.nodes as Array<{ id: string }> | undefined)?.map((d) => d.id).sort();
        if (res.status !== 200 || res.body.errors || !ids) return fail('datasets', `${res.status} ${JSON.stringify(res.body.errors)}`);
        if (JSON.stringify(ids) !== JSON.stringify([...f.datasetIds].sort())) return fail('datasets', `ids ${JSON.stringify(ids)}`);
      },
      experiments: async (f) => {
        const res = await t.exec(`{ experiments(first: 20) { nodes { id name } } }`, {}, { key: f.tenant.keys.READER });
        const ids = (res.body.data?.experiments.nodes as Array<{ id: string }> | undefined)?.map((d) => d.id);
        if (res.status !== 200 || res.body.errors || !ids) return fail('experiments', `${res.status} ${JSON.stringify(res.body.errors)}`);
        if (JSON.stringify(ids) !== JSON.stringify(f.experimentIds)) return fail('experiments', `ids ${JSON.stringify(ids)}`);
      },
    };

    // Each client belongs to one tenant (alternating) and cycles through the operations its tenant has.
    const started = Date.now();
    const deadline = started + LOAD_SECONDS * 1000;
    const client = async (c: number) => {
      const f = fixtures[c % fixtures.length]!;
      const ops: Op[] = ['embed', 'similar', 'datasets', ...(f.predict ? (['predict'] as Op[]) : []), 'embed', 'experiments', 'similar'];
      for (let i = c; Date.now() < deadline; i++) {
        const op = ops[i % ops.length]!;
        const t0 = performance.now();
        try {
          await checks[op](f);
        } catch (err) {
          fail(op, `threw ${(err as Error).message}`);
        }
        latencies[op].push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, c) => client(c)));
    const seconds = (Date.now() - started) / 1000;

    const requests = Object.values(latencies).reduce((n, l) => n + l.length, 0);
    const all = Object.values(latencies).flat().sort((x, y) => x - y);
    const per = (Object.keys(latencies) as Op[]).map((op) => {
      const s = [...latencies[op]].sort((x, y) => x - y);
      return `${op} ${s.length} req p50 ${quantile(s, 0.5).toFixed(1)} ms p99 ${quantile(s, 0.99).toFixed(1)} ms`;
    });
    // eslint-disable-next-line no-console
    console.log(
      `[load] mixed load: ${requests} requests in ${seconds.toFixed(1)} s (${(requests / seconds).toFixed(1)} req/s), ${CONCURRENCY} clients, 2 tenants, ` +
        `errors ${errors}; all p50 ${quantile(all, 0.5).toFixed(1)} ms p99 ${quantile(all, 0.99).toFixed(1)} ms; ${per.join('; ')}`,
    );
    expect(failures).toEqual([]);
    expect(errors).toBe(0);
    for (const op of Object.keys(latencies) as Op[]) expect(latencies[op].length).toBeGreaterThan(0);

  });
});
