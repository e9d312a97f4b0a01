// Query depth, alias and cost limits (graphql-armor validation rules in the shared Apollo server), checked with
// tight limits so they bite on today's schema. Real HTTP server and database.
import { codes, startTestPlatform, type TestPlatform } from '../helpers/platform';

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
    expect(res.body.data).toBeUndefined();
  });

  test('too many aliases are refused', async () => {
    const res = await t.exec('{ a: version b: version c: version }');
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toMatch(/alias/i);
  });

  test('an over-cost query is refused, and queries within limits still run', async () => {
    const res = await t.exec('{ tenants(first: 100) { nodes { id name createdAt } } }', {}, { key: t.operatorKey });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toMatch(/cost/i);
    const ok = await t.exec('{ viewer { isOperator } }', {}, { key: t.operatorKey });
    expect(ok.body.data?.viewer.isOperator).toBe(true);
  });
});
