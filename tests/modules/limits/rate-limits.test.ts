// Per-tenant rate limits (Postgres token buckets shared by gateway instances), the operator's setTenantLimits,
// the typed RATE_LIMITED error, its Prometheus counters, and the metering a tenant reads about itself. Real HTTP
// server, real database, a really trained text model for the inference bucket.
import { usingRealPostgres } from '../../helpers/db';
import { registerTrainedModel, type RegisteredTestModel } from '../../helpers/models';
import { codes, startTestPlatform, type SeededTenant, type TestPlatform } from '../../helpers/platform';
import { tinyTexts } from '../../training/data/fixtures';

const SET = `mutation($i: SetTenantLimitsInput!) { setTenantLimits(input: $i) { id limits { requestsPerMinute inferenceInputsPerMinute requestsPerMinuteIsDefault inferenceInputsPerMinuteIsDefault } } }`;
const VIEWER = '{ viewer { tenant { id } } }';
const EMBED = `query($m: String!, $i: [EmbedInput!]!) { embed(model: $m, inputs: $i) { dims } }`;

describe('rate limits and metering', () => {
  let t: TestPlatform;
  let acme: SeededTenant;
  let other: SeededTenant;
  let txt: RegisteredTestModel;
  const texts = tinyTexts(16);

  beforeAll(async () => {
    t = await startTestPlatform('http', { RATE_LIMIT_REQUESTS_PER_MINUTE: '1000', RATE_LIMIT_INFERENCE_INPUTS_PER_MINUTE: '5000' });
    acme = await t.seedTenant('rl');
    other = await t.seedTenant('rl-other');
    txt = await registerTrainedModel(t, acme, { modality: 'TEXT', pretext: 'MASKED', rows: texts.rows, shape: texts.shape, name: 'rl-words' });
  }, 180_000);
  afterAll(async () => {
    txt?.result.model.dispose();
    txt?.result.heads.dispose();
    await t?.close();
  });

  const setLimits = (input: Record<string, unknown>, key = t.operatorKey) => t.exec(SET, { i: input }, { key });

  test('only the operator sets limits; bad values are refused with every problem listed', async () => {
    expect(codes(await setLimits({ tenantId: acme.id, requestsPerMinute: 5 }, acme.keys.ADMIN))).toEqual(['FORBIDDEN']);
    const bad = await setLimits({ tenantId: acme.id, requestsPerMinute: 0, inferenceInputsPerMinute: -3 });
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    expect((bad.body.errors?.[0]?.extensions?.problems as Array<{ path: string }>).map((p) => p.path)).toEqual(['input.requestsPerMinute', 'input.inferenceInputsPerMinute']);
    expect(codes(await setLimits({ tenantId: '00000000-0000-4000-8000-000000000000', requestsPerMinute: 5 }))).toEqual(['NOT_FOUND']);
    const wrongType = await setLimits({ tenantId: acme.id, requestsPerMinute: 'many' });
    expect(codes(wrongType)).toEqual(['BAD_USER_INPUT']);
    const defaults = await t.exec(`{ viewer { tenant { limits { requestsPerMinute inferenceInputsPerMinute requestsPerMinuteIsDefault } } } }`, {}, { key: acme.keys.READER });
    expect(defaults.body.data?.viewer.tenant.limits).toEqual({ requestsPerMinute: 1000, inferenceInputsPerMinute: 5000, requestsPerMinuteIsDefault: true });
  });

  test('the request bucket refuses with RATE_LIMITED, retryAfterSeconds and Retry-After; other tenants are unaffected', async () => {
    const set = await setLimits({ tenantId: acme.id, requestsPerMinute: 3, inferenceInputsPerMinute: null });
    expect(set.body.data?.setTenantLimits.limits).toEqual({ requestsPerMinute: 3, inferenceInputsPerMinute: 5000, requestsPerMinuteIsDefault: false, inferenceInputsPerMinuteIsDefault: true });
    for (let i = 0; i < 3; i++) expect((await t.exec(VIEWER, {}, { key: acme.keys.READER })).body.data?.viewer.tenant.id).toBe(acme.id);
    const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.keys.MEMBER}` }, body: JSON.stringify({ query: VIEWER }) });
    const body = (await res.json()) as { data?: unknown; errors: Array<{ message: string; extensions: Record<string, unknown> }> };
    expect(res.status).toBe(429);
    expect(body.errors.map((e) => e.extensions.code)).toEqual(['RATE_LIMITED']);
    const retry = body.errors[0]!.extensions.retryAfterSeconds as number;
    // 3 per minute: one token every 20 s.
    expect(Number.isInteger(retry) && retry >= 1 && retry <= 20).toBe(true);
    expect(res.headers.get('retry-after')).toBe(String(retry));
    expect(body.errors[0]!.message).toMatch(/3 requests per minute/);
    // The REST shim draws from the same bucket.
    const rest = await fetch(`${t.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.keys.READER}` }, body: JSON.stringify({ model: txt.name, input: 'alpha' }) });
    expect(rest.status).toBe(429);
    expect(((await rest.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    expect((await t.exec(VIEWER, {}, { key: other.keys.READER })).body.data?.viewer.tenant.id).toBe(other.id);
    // Back to the platform default: the buckets restart full.
    const reset = await setLimits({ tenantId: acme.id, requestsPerMinute: null });
    expect(reset.body.data?.setTenantLimits.limits.requestsPerMinuteIsDefault).toBe(true);
    expect((await t.exec(VIEWER, {}, { key: acme.keys.READER })).status).toBe(200);
  });

  test('the inference bucket counts inputs; a request bigger than the bucket passes only from a full one', async () => {
    await setLimits({ tenantId: acme.id, inferenceInputsPerMinute: 10 });
    const inputs = (n: number) => Array.from({ length: n }, (_, i) => ({ text: `alpha beta ${i}` }));
    expect((await t.exec(EMBED, { m: txt.name, i: inputs(8) }, { key: acme.keys.READER })).body.data?.embed.dims).toBeGreaterThan(0);
    const limited = await t.exec(EMBED, { m: txt.name, i: inputs(8) }, { key: acme.keys.READER });
    expect(limited.status).toBe(429);
    expect(codes(limited)).toEqual(['RATE_LIMITED']);
    // 2 left, 8 needed, 10 per minute: at most 6 tokens missing → at most 36 s (less by the time the request took).
    const retry = limited.body.errors?.[0]?.extensions?.retryAfterSeconds as number;
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(36);
    await setLimits({ tenantId: acme.id, inferenceInputsPerMinute: 10 });
    expect(codes(await t.exec(EMBED, { m: txt.name, i: inputs(20) }, { key: acme.keys.READER }))).toEqual([]);
    // The debt of 10 inputs must be repaid first: 11 tokens at 10 a minute, 66 s (minus the time the call took), far
    // more than any wait without debt (≤ 6 s for one input).
    const after = await t.exec(EMBED, { m: txt.name, i: inputs(1) }, { key: acme.keys.READER });
    expect(codes(after)).toEqual(['RATE_LIMITED']);
    expect(after.body.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(36);
    expect(after.body.errors?.[0]?.extensions?.retryAfterSeconds).toBeLessThanOrEqual(66);
    await setLimits({ tenantId: acme.id, inferenceInputsPerMinute: null });
  });

  test('Prometheus counts decisions by bucket and outcome', async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const value = (bucket: string, outcome: string) => Number(text.match(new RegExp(`pretext_rate_limit_decisions_total\\{bucket="${bucket}",outcome="${outcome}"\\} (\\d+)`))?.[1] ?? 0);
    expect(value('requests', 'limited')).toBeGreaterThanOrEqual(2);
    expect(value('requests', 'allowed')).toBeGreaterThanOrEqual(5);
    expect(value('inference', 'limited')).toBeGreaterThanOrEqual(2);
    expect(value('inference', 'allowed')).toBeGreaterThanOrEqual(2);
  });

  test('a tenant reads its own metering: storage bytes, training seconds, inference inputs', async () => {
    const fresh = await t.seedTenant('meter');
    const prisma = t.platform.db.prisma;
    const now = Date.now();
    await prisma.run.create({ data: { tenantId: fresh.id, kind: 'PRETRAIN', status: 'SUCCEEDED', config: {}, startedAt: new Date(now - 120_000), finishedAt: new Date(now - 20_000) } });
    // A run that ended before the window counts nothing.
    await prisma.run.create({ data: { tenantId: fresh.id, kind: 'PRETRAIN', status: 'SUCCEEDED', config: {}, startedAt: new Date(now - 90 * 86_400_000), finishedAt: new Date(now - 89 * 86_400_000) } });
    const m = await registerTrainedModel(t, fresh, { modality: 'TEXT', pretext: 'MASKED', rows: texts.rows, shape: texts.shape, name: 'meter-words' });
    m.result.model.dispose();
    m.result.heads.dispose();
    await t.exec(EMBED, { m: 'meter-words', i: [{ text: 'alpha' }, { text: 'beta' }, { text: 'gamma' }] }, { key: fresh.keys.READER });
    await t.exec(EMBED, { m: 'meter-words', i: [{ text: 'delta' }] }, { key: fresh.keys.READER });
    const res = await t.exec(`{ usage { since until storageBytes storageQuotaBytes trainingSeconds inferenceInputs } }`, {}, { key: fresh.keys.READER });
    expect(res.body.errors).toBeUndefined();
    const u = res.body.data!.usage;
    expect(Number(u.inferenceInputs)).toBe(4);
    expect(u.trainingSeconds).toBeGreaterThanOrEqual(99.9);
    expect(u.trainingSeconds).toBeLessThanOrEqual(100.1);
    expect(Number(u.storageQuotaBytes)).toBeGreaterThan(0);
    expect(Number(u.storageBytes)).toBe(0);
    // Another tenant's usage is its own.
    const theirs = await t.exec(`{ usage { trainingSeconds inferenceInputs } }`, {}, { key: other.keys.READER });
    expect(theirs.body.data?.usage).toEqual({ trainingSeconds: 0, inferenceInputs: 0 });
    expect(codes(await t.exec(`{ usage { trainingSeconds } }`, {}, { key: t.operatorKey }))).toEqual(['FORBIDDEN']);
  });

  (usingRealPostgres() ? test : test.skip)('two gateway instances on one database share the buckets', async () => {
    const second = await startTestPlatform('http');
    try {
      // 2 a minute: one token per 30 s, far longer than these calls take even on a busy machine.
      await setLimits({ tenantId: other.id, requestsPerMinute: 2 });
      expect((await t.exec(VIEWER, {}, { key: other.keys.READER })).status).toBe(200);
      expect((await second.exec(VIEWER, {}, { key: other.keys.READER })).status).toBe(200);
      expect(codes(await second.exec(VIEWER, {}, { key: other.keys.READER }))).toEqual(['RATE_LIMITED']);
      expect(codes(await t.exec(VIEWER, {}, { key: other.keys.READER }))).toEqual(['RATE_LIMITED']);
    } finally {
      await setLimits({ tenantId: other.id, requestsPerMinute: null });
      await second.close();
    }
  });
});
