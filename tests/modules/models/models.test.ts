// The model registry and serving over GraphQL and the OpenAI-compatible REST shim, on models really trained by the
// trainer and exported to ONNX: served embeddings must equal the trainer's own forward pass (within 1e-4).
import sharp from 'sharp';
import { tf } from '../../../src/training/engine/tf';
import { tinyImages, tinySequences, tinyTexts } from '../../training/data/fixtures';
import { codes, startTestPlatform, type SeededTenant, type TestPlatform } from '../../helpers/platform';
import { registerTrainedModel, type RegisteredTestModel } from '../../helpers/models';
import { createDataset, createVersion, finalize, settledVersion, uploadFile } from '../../helpers/datasets-api';

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('models, embed and similar', () => {
  let t: TestPlatform;
  let acme: SeededTenant;
  let img: RegisteredTestModel;
  let txt: RegisteredTestModel;
  const images = tinyImages(24);
  const texts = tinyTexts(24);

  beforeAll(async () => {
    t = await startTestPlatform('http');
    acme = await t.seedTenant('models');
    img = await registerTrainedModel(t, acme, { modality: 'IMAGE', pretext: 'CONTRASTIVE', rows: images.rows, shape: images.shape, name: 'shapes', evaluation: { knnAccuracy: 0.8 } });
    txt = await registerTrainedModel(t, acme, { modality: 'TEXT', pretext: 'MASKED', rows: texts.rows, shape: texts.shape, name: 'words' });
  }, 180_000);
  afterAll(async () => {
    img?.result.model.dispose();
    img?.result.heads.dispose();
    txt?.result.model.dispose();
    txt?.result.heads.dispose();
    await t?.close();
  });

  test('image embeddings over GraphQL equal the trainer’s forward pass (PNG base64 inputs)', async () => {
    const rows = images.rows.slice(0, 5);
    const pngs = await Promise.all(rows.map((r) => sharp(Buffer.from(r.pixels), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer()));
    const res = await t.exec(
      `query($m: String!, $i: [EmbedInput!]!) { embed(model: $m, inputs: $i, options: { normalize: false }) { dims embeddingSpace modelVersion { id version } embeddings { index values } } }`,
      { m: 'shapes', i: pngs.map((p) => ({ image: p.toString('base64') })) },
      { key: acme.keys.READER },
    );
    expect(res.body.errors).toBeUndefined();
    const out = res.body.data!.embed;
    expect(out.modelVersion.id).toBe(img.versionId);
    expect(out.embeddingSpace).toContain(img.versionId);
    const pixels = tf.tensor4d(Float32Array.from(rows.flatMap((r) => Array.from(r.pixels))), [rows.length, 8, 8, 1]);
    const expected = tf.tidy(() => img.result.model.apply({ pixels }, { training: false }).embedding.arraySync() as number[][]);
    pixels.dispose();
    expect(out.dims).toBe(expected[0]!.length);
    for (let i = 0; i < rows.length; i++) expect(maxAbsDiff(out.embeddings[i].values, expected[i]!)).toBeLessThanOrEqual(1e-4);
  });

  test('text embeddings over the REST shim (OpenAI shape) equal the trainer’s forward pass', async () => {
    const sample = texts.rows.slice(0, 4).map((r) => r.text);
    const res = await fetch(`${t.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.keys.READER}` },
      body: JSON.stringify({ model: 'words', input: sample }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; data: Array<{ index: number; embedding: number[] }>; model: string };
    expect(body.object).toBe('list');
    expect(body.model).toBe('words@v1');
    const enc = await txt.result.tokenizer!.encode(sample, 16);
    const ids = tf.tensor2d(enc.inputIds, [sample.length, 16], 'int32');
    const mask = tf.tensor2d(enc.attentionMask, [sample.length, 16], 'int32');
    const expected = tf.tidy(() => {
      const e = txt.result.model.apply({ inputIds: ids, attentionMask: mask }, { training: false }).embedding;
      return tf.div(e, tf.norm(e, 2, 1, true)).arraySync() as number[][];
    });
    ids.dispose();
    mask.dispose();
    for (const d of body.data) expect(maxAbsDiff(d.embedding, expected[d.index]!)).toBeLessThanOrEqual(1e-4);

    const b64 = await fetch(`${t.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.keys.READER}` },
      body: JSON.stringify({ model: 'words', input: sample[0], encoding_format: 'base64', dimensions: 8 }),
    });
    const one = (await b64.json()) as { data: Array<{ embedding: string }> };
    const floats = new Float32Array(Uint8Array.from(Buffer.from(one.data[0]!.embedding, 'base64')).buffer);
    expect(floats.length).toBe(8);
    expect(Math.hypot(...floats)).toBeCloseTo(1, 4);
    const bad = await fetch(`${t.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.keys.READER}` }, body: JSON.stringify({ model: 'nope', input: 'x' }) });
    expect(bad.status).toBe(404);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  test('encodings and Matryoshka truncation', async () => {
    const q = `query($e: EmbeddingEncoding!) { embed(model: "words", inputs: [{ text: "alpha beta" }], options: { dimensions: 4, encoding: $e }) { dims embeddings { encoding values base64 scale bytes } } }`;
    const float = (await t.exec(q, { e: 'FLOAT' }, { key: acme.keys.READER })).body.data!.embed;
    expect(float.dims).toBe(4);
    expect(Math.hypot(...float.embeddings[0].values)).toBeCloseTo(1, 5);
    const int8 = (await t.exec(q, { e: 'INT8' }, { key: acme.keys.READER })).body.data!.embed.embeddings[0];
    int8.values.forEach((v: number, i: number) => expect(Math.abs(v * int8.scale - float.embeddings[0].values[i])).toBeLessThanOrEqual(int8.scale));
    const binary = (await t.exec(q, { e: 'BINARY' }, { key: acme.keys.READER })).body.data!.embed.embeddings[0];
    expect(binary.bytes).toHaveLength(1);
  });

  test('bad inputs are BAD_USER_INPUT and the service keeps serving', async () => {
    const q = `query($m: String!, $i: [EmbedInput!]!, $o: EmbedOptions) { embed(model: $m, inputs: $i, options: $o) { dims } }`;
    const key = acme.keys.READER;
    expect(codes(await t.exec(q, { m: 'shapes', i: [{ text: 'a text for an image model' }] }, { key }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.exec(q, { m: 'shapes', i: [{ image: Buffer.from('not an image').toString('base64') }] }, { key }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.exec(q, { m: 'words', i: [{ text: 'word '.repeat(100) }], o: { truncate: 'NONE' } }, { key }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.exec(q, { m: 'words', i: [{ text: 'x', image: 'eA==' }] }, { key }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.exec(q, { m: 'words', i: [] }, { key }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.exec(q, { m: 'unknown-model', i: [{ text: 'x' }] }, { key }))).toEqual(['NOT_FOUND']);
    expect(codes(await t.exec(q, { m: 'words@staging', i: [{ text: 'x' }] }, { key }))).toEqual(['NOT_FOUND']);
    expect(codes(await t.exec(q, { m: 'bad ref!', i: [{ text: 'x' }] }, { key }))).toEqual(['BAD_USER_INPUT']);
    const ok = await t.exec(q, { m: 'words', i: [{ text: 'still serving' }], o: { truncate: 'END' } }, { key });
    expect(ok.body.data?.embed.dims).toBeGreaterThan(0);
  });

  test('too many inputs, wrong sequence shapes and a sequence for a text model are BAD_USER_INPUT', async () => {
    const q = `query($m: String!, $i: [EmbedInput!]!) { embed(model: $m, inputs: $i) { dims } }`;
    const key = acme.keys.READER;
    const tooMany = await t.exec(q, { m: 'words', i: Array.from({ length: 2049 }, () => ({ text: 'x' })) }, { key });
    expect(codes(tooMany)).toEqual(['BAD_USER_INPUT']);
    expect(tooMany.body.errors?.[0]?.message).toMatch(/2048/);
    const seqs = tinySequences(16);
    const seq = await registerTrainedModel(t, acme, { modality: 'SEQUENCE', pretext: 'CONTRASTIVE', rows: seqs.rows, shape: seqs.shape, name: 'waves' });
    try {
      const shape = seqs.shape as { length: number; features: number };
      const good = Array.from({ length: shape.length }, (_, i) => Array.from({ length: shape.features }, (_, f) => Math.sin(i + f)));
      expect((await t.exec(q, { m: 'waves', i: [{ sequence: good }] }, { key })).body.data?.embed.dims).toBeGreaterThan(0);
      const short = good.slice(0, 3);
      const wide = good.map((step) => [...step, 0]);
      const res = await t.exec(q, { m: 'waves', i: [{ sequence: short }, { sequence: wide }] }, { key });
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect((res.body.errors?.[0]?.extensions?.problems as Array<{ path: string }>).map((p) => p.path)).toEqual(['inputs.0', 'inputs.1']);
      expect(codes(await t.exec(q, { m: 'words', i: [{ sequence: good }] }, { key }))).toEqual(['BAD_USER_INPUT']);
    } finally {
      seq.result.model.dispose();
      seq.result.heads.dispose();
    }
  });

  test('aliases switch atomically and are evaluation-gated', async () => {
    const v2 = await registerTrainedModel(t, acme, { modality: 'IMAGE', pretext: 'CONTRASTIVE', rows: images.rows, shape: images.shape, name: 'shapes', evaluation: { knnAccuracy: 0.5 } });
    try {
      const set = (versionId: string, force = false) =>
        t.exec(`mutation($i: SetModelAliasInput!) { setModelAlias(input: $i) { alias version { version } } }`, { i: { modelId: img.modelId, alias: 'production', versionId, force } }, { key: acme.keys.MEMBER });
      expect((await set(img.versionId)).body.data?.setModelAlias.version.version).toBe(1);
      const worse = await set(v2.versionId);
      expect(codes(worse)).toEqual(['CONFLICT']);
      expect(worse.body.errors?.[0]?.message).toMatch(/force/);
      const grey = (await sharp({ create: { width: 8, height: 8, channels: 3, background: '#777777' } }).png().toBuffer()).toString('base64');
      const embedVia = async (ref: string) =>
        (await t.exec(`query($m: String!, $img: String!) { embed(model: $m, inputs: [{ image: $img }]) { modelVersion { version } } }`, { m: ref, img: grey }, { key: acme.keys.READER })).body.data?.embed
          .modelVersion.version;
      expect(await embedVia('shapes@production')).toBe(1);
      expect(await embedVia('shapes')).toBe(1); // a bare name serves its production alias
      expect((await set(v2.versionId, true)).body.data?.setModelAlias.version.version).toBe(2);
      expect(await embedVia('shapes@production')).toBe(2);
      expect(await embedVia('shapes@v1')).toBe(1);
      expect(codes(await t.exec(`mutation($i: SetModelAliasInput!) { setModelAlias(input: $i) { alias } }`, { i: { modelId: img.modelId, alias: 'production', versionId: img.versionId } }, { key: acme.keys.READER }))).toEqual(['FORBIDDEN']);
      const listed = await t.exec(`query($id: ID!) { model(id: $id) { name versions { version aliases } aliases { alias version { version } } } }`, { id: img.modelId }, { key: acme.keys.READER });
      expect(listed.body.data?.model.aliases).toEqual([{ alias: 'production', version: { version: 2 } }]);
    } finally {
      v2.result.model.dispose();
      v2.result.heads.dispose();
    }
  });

  test('alias promotion compares scores only between evaluations on the same dataset version', async () => {
    const name = 'gated-by-dataset';
    const common = { modality: 'IMAGE' as const, pretext: 'CONTRASTIVE' as const, rows: images.rows, shape: images.shape, name };
    const a = await registerTrainedModel(t, acme, { ...common, evaluation: { accuracy: 0.6, datasetVersionId: 'dv-a' } });
    const b = await registerTrainedModel(t, acme, { ...common, evaluation: { accuracy: 0.9, datasetVersionId: 'dv-b' } });
    const c = await registerTrainedModel(t, acme, { ...common, evaluation: { accuracy: 0.7, datasetVersionId: 'dv-a' } });
    try {
      const set = (versionId: string, force = false) =>
        t.exec(`mutation($i: SetModelAliasInput!) { setModelAlias(input: $i) { version { version } } }`, { i: { modelId: a.modelId, alias: 'production', versionId, force } }, { key: acme.keys.MEMBER });
      expect((await set(a.versionId)).body.data?.setModelAlias.version.version).toBe(1);
      // A higher number measured on another dataset is not evidence of a better model.
      const other = await set(b.versionId);
      expect(codes(other)).toEqual(['CONFLICT']);
      expect(other.body.errors?.[0]?.message).toMatch(/not comparable/);
      // The same dataset and a better score: promoted without force.
      expect((await set(c.versionId)).body.data?.setModelAlias.version.version).toBe(3);
      expect((await set(b.versionId, true)).body.data?.setModelAlias.version.version).toBe(2);
    } finally {
      for (const m of [a, b, c]) {
        m.result.model.dispose();
        m.result.heads.dispose();
      }
    }
  });

  test('similar: an embedded dataset version returns the query row itself first, with scores and labels', async () => {
    const key = acme.keys.MEMBER;
    const ds = await createDataset(t, key, 'IMAGE');
    const v = await createVersion(t, key, ds, { image: { height: 8, width: 8, channels: 1 } });
    for (const r of images.rows.slice(0, 12)) {
      const png = await sharp(Buffer.from(r.pixels), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer();
      await uploadFile(t, key, v, `${r.label}/${r.index}.png`, png);
    }
    await finalize(t, key, v);
    expect((await settledVersion(t, key, v)).status).toBe('READY');
    const space = await t.exec(`mutation($i: CreateEmbeddingSpaceInput!) { createEmbeddingSpace(input: $i) { id status } }`, { i: { model: img.versionId, datasetVersionId: v } }, { key });
    expect(space.body.data?.createEmbeddingSpace.status).toBe('BUILDING');
    await t.platform.services.spaces.idle();
    const built = await t.exec(`query($id: ID!) { embeddingSpace(id: $id) { status rows dim } }`, { id: space.body.data!.createEmbeddingSpace.id }, { key });
    expect(built.body.data?.embeddingSpace).toMatchObject({ status: 'READY', rows: 12 });
    const query = (await sharp(Buffer.from(images.rows[3]!.pixels), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer()).toString('base64');
    const res = await t.exec(
      `query($i: SimilarInput!) { similar(input: $i) { embeddingSpace neighbors { row score label split } } }`,
      { i: { model: img.versionId, datasetVersionId: v, query: { image: query }, k: 3 } },
      { key: acme.keys.READER },
    );
    expect(res.body.errors).toBeUndefined();
    const n = res.body.data!.similar.neighbors;
    expect(n).toHaveLength(3);
    expect(n[0].score).toBeCloseTo(1, 4);
    expect(n[0].label).toBe(images.rows[3]!.label);
    expect(n[0].score).toBeGreaterThanOrEqual(n[1].score);
  });
});
