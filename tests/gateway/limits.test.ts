// Query depth, alias, cost, introspection, token and body-size limits (graphql-armor validation rules in the shared Apollo server), checked with
// tight limits so they bite on today's schema. Real HTTP server and database.
import { getIntrospectionQuery } from 'graphql';
import sharp from 'sharp';
import { createRng } from '../../src/training/rng';
import { registerTrainedModel, type RegisteredTestModel } from '../helpers/models';
import { codes, startTestPlatform, type SeededTenant, type TestPlatform } from '../helpers/platform';
import { tinyImages } from '../training/data/fixtures';

describe('GraphQL request limits', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform('http', { GRAPHQL_MAX_DEPTH: '2', GRAPHQL_MAX_ALIASES: '2', GRAPHQL_MAX_COST: '40' });
  });
  afterAll(async () => {
    await t?.close();
  });

  test('an over-deep query is refused before execution', async () => {
    const res = await t.exec('{ viewer { tenant { id } } }', {}, { key: t.operatorKey });
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(res.body.errors?.[0]?.message).toMatch(/depth/i);
    expect(res.body.errors?.[0]?.message).not.toMatch(/syntax error/i);
    expect(res.body.errors?.[0]?.extensions?.limit).toEqual({ name: 'maxDepth', max: 2 });
    expect(res.body.data).toBeUndefined();
  });

  test('too many aliases are refused', async () => {
    const res = await t.exec('{ a: version b: version c: version }');
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toMatch(/alias/i);
    expect(res.body.errors?.[0]?.message).not.toMatch(/syntax error/i);
    expect(codes(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  test('an over-cost query is refused, and queries within limits still run', async () => {
    const res = await t.exec('{ tenants(first: 100) { nodes { id name createdAt } } }', {}, { key: t.operatorKey });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toMatch(/cost/i);
    expect(res.body.errors?.[0]?.extensions?.limit).toEqual({ name: 'maxCost', max: 40 });
    const ok = await t.exec('{ viewer { isOperator } }', {}, { key: t.operatorKey });
    expect(ok.body.data?.viewer.isOperator).toBe(true);
  });
});

// The same limits at their defaults, tried the way a new user would: without an API key, through introspection,
// and with the largest inference request the limits promise to accept.
describe('GraphQL limits at their defaults', () => {
  let t: TestPlatform;
  let acme: SeededTenant;
  let img: RegisteredTestModel;
  const images = tinyImages(16);

  beforeAll(async () => {
    t = await startTestPlatform('http');
    acme = await t.seedTenant('limits');
    img = await registerTrainedModel(t, acme, { modality: 'IMAGE', pretext: 'CONTRASTIVE', rows: images.rows, shape: images.shape, name: 'limits-img' });
  }, 180_000);
  afterAll(async () => {
    img?.result.model.dispose();
    img?.result.heads.dispose();
    await t?.close();
  });

  const nested = (depth: number) => `${'ofType { '.repeat(depth)}name${' }'.repeat(depth)}`;

  test('a 50-deep introspection query without an API key is refused before execution, with a limit error', async () => {
    for (const query of [`{ __schema { types { ${nested(48)} } } }`, `{ __type(name: "Query") { ${nested(49)} } }`, `query { ...F } fragment F on Query { __schema { types { ${nested(48)} } } }`]) {
      const res = await t.exec(query);
      expect(res.status).toBe(400);
      expect(codes(res)).toContain('GRAPHQL_VALIDATION_FAILED');
      expect(res.body.data).toBeUndefined();
      for (const e of res.body.errors ?? []) expect(e.message).not.toMatch(/syntax error/i);
      const limit = res.body.errors?.find((e) => /introspection depth/i.test(e.message) || /depth limit/i.test(e.message));
      expect(limit?.extensions?.limit).toEqual(expect.objectContaining({ name: expect.stringMatching(/Depth$/) }));
    }
  });

  test('the standard introspection query of IDEs and codegen still runs', async () => {
    const res = await t.exec(getIntrospectionQuery());
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.__schema.queryType.name).toBe('Query');
  });

  test('the token limit error says which limit, never "Syntax Error"', async () => {
    const tokens = await t.exec(`{ ${'version '.repeat(t.platform.config.limits.maxTokens)} }`);
    expect(tokens.status).toBe(400);
    expect(codes(tokens)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(tokens.body.errors?.[0]?.message).not.toMatch(/syntax error/i);
    expect(tokens.body.errors?.[0]?.message).toMatch(/GRAPHQL_MAX_TOKENS/);
    expect(tokens.body.errors?.[0]?.extensions?.limit).toEqual({ name: 'maxTokens', max: t.platform.config.limits.maxTokens });
  });

  test('2048 small PNGs fit in one embed request (over MAX_BODY_BYTES, within MAX_INFERENCE_BODY_BYTES)', async () => {
    const n = 2048;
    // Noise is the incompressible worst case for a 28×28 greyscale PNG.
    const rng = createRng(7, 'limits-png');
    const pngs = await Promise.all(
      Array.from({ length: n }, () => sharp(Buffer.from(Array.from({ length: 28 * 28 }, () => rng.int(256))), { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer()),
    );
    const body = JSON.stringify({ query: 'query($m: String!, $i: [EmbedInput!]!) { embed(model: $m, inputs: $i) { dims embeddings { index } } }', variables: { m: img.name, i: pngs.map((p) => ({ image: p.toString('base64') })) } });
    const bytes = Buffer.byteLength(body);
    expect(bytes).toBeGreaterThan(t.platform.config.limits.maxBodyBytes);
    expect(bytes).toBeLessThanOrEqual(t.platform.config.limits.maxInferenceBodyBytes);
    const res = await t.exec('', {}, { key: acme.keys.READER, rawBody: body });
    expect(res.body.errors).toBeUndefined();
    expect(res.status).toBe(200);
    expect(res.body.data?.embed.embeddings).toHaveLength(n);
  });

  test('other operations stay under MAX_BODY_BYTES: 413 with a typed error, nothing written', async () => {
    const before = await t.platform.db.prisma.dataset.count({ where: { tenantId: acme.id } });
    const big = 'd'.repeat(t.platform.config.limits.maxBodyBytes + 100);
    const res = await t.exec('mutation($n: String!, $d: String) { createDataset(input: { name: $n, modality: TEXT, description: $d }) { id } }', { n: 'too-big', d: big }, { key: acme.keys.MEMBER });
    expect(res.status).toBe(413);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.body.errors?.[0]?.message).toMatch(/MAX_BODY_BYTES/);
    expect(await t.platform.db.prisma.dataset.count({ where: { tenantId: acme.id } })).toBe(before);
    // A mixed operation (embed plus anything else) gets the ordinary limit too.
    const mixed = await t.exec(`query($m: String!, $d: String!) { version embed(model: $m, inputs: [{ text: $d }]) { dims } }`, { m: img.name, d: big }, { key: acme.keys.READER });
    expect(mixed.status).toBe(413);
    // Without an API key, a large body is refused before it is read.
    const anonymous = await t.exec(`query($m: String!, $d: String!) { embed(model: $m, inputs: [{ text: $d }]) { dims } }`, { m: img.name, d: big });
    expect(anonymous.status).toBe(413);
    expect((await t.exec('{ version }')).status).toBe(200);
  });
});

