// The serving path of issue 12 on really trained models: packed inputs (raw pixels, float32 tensors) give the same
// vectors as PNG / JSON inputs and as the trainer's forward pass (1e-4); base64 answers equal values answers; the
// REST shim serves image models on the same path; automatic persisted queries work, a hash that does not match
// its query is refused, and access rules apply to persisted queries like to any other.
import crypto from 'node:crypto';
import sharp from 'sharp';
import { tf } from '../../../src/training/engine/tf';
import { tinyImages, tinySequences } from '../../training/data/fixtures';
import { codes, startTestPlatform, type SeededTenant, type TestPlatform } from '../../helpers/platform';
import { registerTrainedModel, type RegisteredTestModel } from '../../helpers/models';
import { decodeEmbedding, packFloat32, packPixels } from '../../../src/client/vectors';

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

const EMBED = `query($m: String!, $i: [EmbedInput!]!, $o: EmbedOptions) { embed(model: $m, inputs: $i, options: $o) { dims embeddings { index encoding values base64 } } }`;

describe('serving path: packed inputs, packed outputs, REST, persisted queries', () => {
  let t: TestPlatform;
  let acme: SeededTenant;
  let other: SeededTenant;
  let img: RegisteredTestModel;
  let seq: RegisteredTestModel;
  const images = tinyImages(16);
  const sequences = tinySequences(16);

  beforeAll(async () => {
    t = await startTestPlatform('http');
    acme = await t.seedTenant('serving');
    other = await t.seedTenant('serving-other');
    img = await registerTrainedModel(t, acme, { modality: 'IMAGE', pretext: 'CONTRASTIVE', rows: images.rows, shape: images.shape, name: 'pix' });
    seq = await registerTrainedModel(t, acme, { modality: 'SEQUENCE', pretext: 'MASKED', rows: sequences.rows, shape: sequences.shape, name: 'waves' });
  }, 180_000);
  afterAll(async () => {
    for (const m of [img, seq]) {
      m?.result.model.dispose();
      m?.result.heads.dispose();
    }
    await t?.close();
  });

  const imageForward = (rows: typeof images.rows) => {
    const pixels = tf.tensor4d(Float32Array.from(rows.flatMap((r) => Array.from(r.pixels))), [rows.length, 8, 8, 1]);
    const out = tf.tidy(() => img.result.model.apply({ pixels }, { training: false }).embedding.arraySync() as number[][]);
    pixels.dispose();
    return out;
  };

  test('raw pixels embed like PNGs and like the trainer’s forward pass; BASE64 answers equal FLOAT answers', async () => {
    const rows = images.rows.slice(0, 4);
    const pngs = await Promise.all(rows.map((r) => sharp(Buffer.from(r.pixels), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer()));
    const packed = rows.map((r) => ({ pixels: packPixels(Uint8Array.from(r.pixels), [8, 8, 1]) }));
    const key = acme.keys.READER;
    const viaPng = await t.exec(EMBED, { m: 'pix', i: pngs.map((p) => ({ image: p.toString('base64') })), o: { normalize: false } }, { key });
    const viaPixels = await t.exec(EMBED, { m: 'pix', i: packed, o: { normalize: false } }, { key });
    const viaBase64 = await t.exec(EMBED, { m: 'pix', i: packed, o: { normalize: false, encoding: 'BASE64' } }, { key });
    for (const r of [viaPng, viaPixels, viaBase64]) expect(r.body.errors).toBeUndefined();
    const expected = imageForward(rows);
    for (let i = 0; i < rows.length; i++) {
      const px = viaPixels.body.data!.embed.embeddings[i];
      expect(maxAbsDiff(px.values, expected[i]!)).toBeLessThanOrEqual(1e-4);
      expect(px.values).toEqual(viaPng.body.data!.embed.embeddings[i].values);
      const b = viaBase64.body.data!.embed.embeddings[i];
      expect(b.encoding).toBe('BASE64');
      expect(b.values).toBeNull();
      // Packed float32 carries exactly the float32 values the FLOAT answer lists.
      expect(Array.from(decodeEmbedding(b))).toEqual(px.values);
    }
  });

  test('float32 tensors embed like JSON sequences (same training standardization) and like the forward pass', async () => {
    const rows = sequences.rows.slice(0, 3);
    const { length, features } = sequences.shape as { length: number; features: number };
    const json = rows.map((r) => ({ sequence: Array.from({ length }, (_, s) => Array.from(r.values.subarray(s * features, (s + 1) * features))) }));
    const packed = rows.map((r) => ({ tensor: packFloat32(r.values, [length, features]) }));
    const key = acme.keys.READER;
    const a = await t.exec(EMBED, { m: 'waves', i: json, o: { normalize: false } }, { key });
    const b = await t.exec(EMBED, { m: 'waves', i: packed, o: { normalize: false, encoding: 'BASE64' } }, { key });
    expect(a.body.errors).toBeUndefined();
    expect(b.body.errors).toBeUndefined();
    const norm = seq.result.normalization!;
    const standardized = Float32Array.from(rows.flatMap((r) => Array.from(r.values, (x, i) => (x - norm.mean[i % features]!) / (norm.std[i % features] || 1))));
    const values = tf.tensor3d(standardized, [rows.length, length, features]);
    const expected = tf.tidy(() => seq.result.model.apply({ values }, { training: false }).embedding.arraySync() as number[][]);
    values.dispose();
    for (let i = 0; i < rows.length; i++) {
      expect(maxAbsDiff(a.body.data!.embed.embeddings[i].values, expected[i]!)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(decodeEmbedding(b.body.data!.embed.embeddings[i]), a.body.data!.embed.embeddings[i].values)).toBeLessThanOrEqual(1e-6);
    }
  });

  test('bad packed inputs are BAD_USER_INPUT with the input path, and nothing else of the request runs', async () => {
    const key = acme.keys.READER;
    const good = packPixels(new Uint8Array(64), [8, 8, 1]);
    const res = await t.exec(
      EMBED,
      { m: 'pix', i: [{ pixels: good }, { pixels: { base64: good.base64, shape: [8, 4, 2] } }, { pixels: { base64: 'AAAA', shape: [8, 8, 1] } }, { tensor: packFloat32(new Float32Array(64), [8, 8]) }] },
      { key },
    );
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    const problems = res.body.errors![0]!.extensions!.problems as Array<{ path: string; message: string }>;
    expect(problems.map((p) => p.path)).toEqual(['inputs.1', 'inputs.2', 'inputs.3']);
    const { length, features } = sequences.shape as { length: number; features: number };
    const nan = Float32Array.from({ length: length * features }, (_, i) => (i === 5 ? NaN : 0));
    const refused = await t.exec(EMBED, { m: 'waves', i: [{ tensor: packFloat32(nan, [length, features]) }] }, { key });
    expect(codes(refused)).toEqual(['BAD_USER_INPUT']);
    expect(refused.body.errors![0]!.message).toMatch(/NaN/);
    // A packed input without its shape is a GraphQL validation error (the schema requires it).
    expect(codes(await t.exec(EMBED, { m: 'pix', i: [{ pixels: { base64: good.base64 } }] }, { key }))).toEqual(['BAD_USER_INPUT']);
  });

  test('REST /v1/embeddings serves an image model with packed pixels on the same path, base64 included', async () => {
    const rows = images.rows.slice(0, 2);
    const input = rows.map((r) => ({ pixels: packPixels(Uint8Array.from(r.pixels), [8, 8, 1]) }));
    const post = (body: unknown, key = acme.keys.READER) =>
      fetch(`${t.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
    const res = await post({ model: 'pix', input, encoding_format: 'base64' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model: string; data: Array<{ index: number; embedding: string }> };
    expect(body.model).toBe('pix@v1');
    const gql = await t.exec(EMBED, { m: 'pix', i: input }, { key: acme.keys.READER });
    for (const d of body.data) expect(Array.from(decodeEmbedding({ encoding: 'BASE64', base64: d.embedding }))).toEqual(gql.body.data!.embed.embeddings[d.index].values);
    // Text for an image model, a malformed input list, and another tenant's model are refused with OpenAI-shaped errors.
    const text = await post({ model: 'pix', input: 'hello' });
    expect(text.status).toBe(400);
    expect(((await text.json()) as { error: { code: string } }).error.code).toBe('BAD_USER_INPUT');
    expect((await post({ model: 'pix', input: [{ pixels: input[0]!.pixels, extra: 1 }] })).status).toBe(400);
    const foreign = await post({ model: 'pix', input }, other.keys.ADMIN);
    expect(foreign.status).toBe(404);
    // The node:http route answers a body that is not a JSON object in the same OpenAI error shape.
    for (const raw of ['{"model": "pix", "input": [', '"a string"']) {
      const bad = await fetch(`${t.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.keys.READER}` }, body: raw });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ error: { message: 'Request body is not valid JSON', type: 'invalid_request_error', param: null, code: null } });
    }
  });

  test('automatic persisted queries: hash-only after registration, mismatched hash refused, access rules still apply', async () => {
    const query = `query Apq($m: String!, $i: [EmbedInput!]!) { embed(model: $m, inputs: $i, options: { encoding: BASE64 }) { dims embeddings { base64 } } }`;
    const sha256Hash = crypto.createHash('sha256').update(query).digest('hex');
    const variables = { m: 'pix', i: [{ pixels: packPixels(Uint8Array.from(images.rows[0]!.pixels), [8, 8, 1]) }] };
    const send = (body: unknown, key?: string) => t.exec('', {}, { rawBody: JSON.stringify(body), ...(key ? { key } : {}) });
    const ext = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
    const unknown = await send({ variables, extensions: ext(sha256Hash) }, acme.keys.READER);
    expect(codes(unknown)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    const registered = await send({ query, variables, extensions: ext(sha256Hash) }, acme.keys.READER);
    expect(registered.body.errors).toBeUndefined();
    const hashOnly = await send({ variables, extensions: ext(sha256Hash) }, acme.keys.READER);
    expect(hashOnly.body.errors).toBeUndefined();
    expect(hashOnly.body.data).toEqual(registered.body.data);
    // A hash that is not the query's sha256 must not register (or run) anything.
    const forged = crypto.createHash('sha256').update('something else').digest('hex');
    const mismatch = await send({ query, variables, extensions: ext(forged) }, acme.keys.READER);
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.data).toBeUndefined();
    expect(codes(mismatch)).toEqual(['BAD_REQUEST']);
    expect(codes(await send({ variables, extensions: ext(forged) }, acme.keys.READER))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    // The persisted document is shared, the access rules are not: no key, or another tenant, gets nothing.
    expect(codes(await send({ variables, extensions: ext(sha256Hash) }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await send({ variables, extensions: ext(sha256Hash) }, other.keys.ADMIN))).toEqual(['NOT_FOUND']);
  });
});
