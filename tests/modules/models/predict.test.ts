// `predict` over GraphQL on a really fine-tuned model: a pretrained encoder + classifier head trained by the
// fine-tuning runtime, exported to one ONNX graph, registered as a model version with its label set. Served
// probabilities must equal the tfjs model's softmax within 1e-4. (Registration is done directly here: the
// createFineTune run path is not built yet.)
import sharp from 'sharp';
import { buildModel } from '../../../src/training/encoders';
import { tf } from '../../../src/training/engine/tf';
import { codes, startTestPlatform, type SeededTenant, type TestPlatform } from '../../helpers/platform';
import { registerFineTunedClassifier } from '../../helpers/models';
import { tinyImages } from '../../training/data/fixtures';

describe('predict', () => {
  let t: TestPlatform;
  let acme: SeededTenant;
  let versionId: string;
  let embedOnly: string;
  let expected: number[][];
  let labels: string[];
  const images = tinyImages(48, 7);
  const query = images.rows.slice(0, 4);

  beforeAll(async () => {
    t = await startTestPlatform('http');
    acme = await t.seedTenant('predict');
    const ft = await registerFineTunedClassifier(t, acme, { rows: images.rows, shape: images.shape, name: 'shapes-classifier' });
    embedOnly = ft.baseVersionId;
    versionId = ft.versionId;
    labels = ft.labels;
    // The reference: the same weights in tfjs, softmax over the classifier logits.
    const m = buildModel(ft.spec, { seed: 1 });
    m.setWeights(ft.weights);
    const pixels = tf.tensor4d(Float32Array.from(query.flatMap((r) => Array.from(r.pixels))), [query.length, 8, 8, 1]);
    expected = tf.tidy(() => tf.softmax(m.apply({ pixels }, { training: false }).head as tf.Tensor2D).arraySync() as number[][]);
    pixels.dispose();
    m.dispose();
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  test('classification: label, probabilities equal to the tfjs softmax, top-k', async () => {
    const pngs = await Promise.all(query.map((r) => sharp(Buffer.from(r.pixels), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer()));
    const res = await t.exec(
      `query($m: String!, $i: [EmbedInput!]!) { predict(model: $m, inputs: $i, topK: 2) { task labels modelVersion { id } predictions { index label probabilities top { index label probability } } } }`,
      { m: 'shapes-classifier', i: pngs.map((p) => ({ image: p.toString('base64') })) },
      { key: acme.keys.READER },
    );
    expect(res.body.errors).toBeUndefined();
    const out = res.body.data!.predict;
    expect(out).toMatchObject({ task: 'CLASSIFICATION', labels, modelVersion: { id: versionId } });
    for (const p of out.predictions) {
      const want = expected[p.index]!;
      p.probabilities.forEach((x: number, j: number) => expect(Math.abs(x - want[j]!)).toBeLessThanOrEqual(1e-4));
      const best = want.indexOf(Math.max(...want));
      expect(p.label).toBe(labels[best]);
      expect(p.top).toHaveLength(2);
      expect(p.top[0].probability).toBeGreaterThanOrEqual(p.top[1].probability);
    }
    // embed keeps working on the fine-tuned model (backbone output).
    const emb = await t.exec(`query($i: [EmbedInput!]!) { embed(model: "shapes-classifier", inputs: $i) { dims } }`, { i: [{ image: pngs[0]!.toString('base64') }] }, { key: acme.keys.READER });
    expect(emb.body.data?.embed.dims).toBeGreaterThan(0);
  });

  test('a model without a head, and bad inputs, are BAD_USER_INPUT', async () => {
    const q = `query($m: String!, $i: [EmbedInput!]!) { predict(model: $m, inputs: $i) { task } }`;
    expect(codes(await t.exec(q, { m: embedOnly, i: [{ text: 'x' }] }, { key: acme.keys.READER }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.exec(q, { m: 'shapes-classifier', i: [{ text: 'not an image' }] }, { key: acme.keys.READER }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.exec(q, { m: 'shapes-classifier', i: [] }, { key: acme.keys.READER }))).toEqual(['BAD_USER_INPUT']);
  });

  test('another tenant cannot predict with this model', async () => {
    const other = await t.seedTenant('predict-foreign');
    const q = `query($m: String!) { predict(model: $m, inputs: [{ text: "x" }]) { task } }`;
    for (const ref of [versionId, 'shapes-classifier']) {
      for (const role of ['ADMIN', 'MEMBER', 'READER'] as const) {
        const res = await t.exec(q, { m: ref }, { key: other.keys[role] });
        expect(codes(res)).toEqual(['NOT_FOUND']);
      }
    }
  });
});
