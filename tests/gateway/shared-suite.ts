// One integration suite, run against every transport (HTTP server and Lambda handler): the same requests must
// get the same answers. Real database (PGlite or Postgres), real Apollo server, no mocks.
import { codes, startTestPlatform, type SeededTenant, type TestPlatform, type Transport } from '../helpers/platform';

const VIEWER = `query Viewer { viewer { isOperator tenant { id name } apiKey { id role } } }`;

export function defineGatewaySuite(transport: Transport): void {
  describe(`gateway over ${transport}`, () => {
    let t: TestPlatform;
    let acme: SeededTenant;

    beforeAll(async () => {
      t = await startTestPlatform(transport);
      acme = await t.seedTenant('acme');
    });
    afterAll(async () => {
      await t?.close();
    });

    test('version is public', async () => {
      const res = await t.exec('{ version }');
      expect(res.status).toBe(200);
      expect(res.body.data?.version).toMatch(/^\d+\.\d+\.\d+/);
    });

    test('viewer answers for a created tenant key with its tenant and role', async () => {
      for (const role of ['ADMIN', 'MEMBER', 'READER'] as const) {
        const res = await t.exec(VIEWER, {}, { key: acme.keys[role] });
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data?.viewer).toEqual({ isOperator: false, tenant: { id: acme.id, name: acme.name }, apiKey: { id: expect.any(String), role } });
      }
    });

    test('viewer identifies the operator', async () => {
      const res = await t.exec(VIEWER, {}, { key: t.operatorKey });
      expect(res.body.data?.viewer).toEqual({ isOperator: true, tenant: null, apiKey: null });
    });

    test('no key, a bad key and a malformed header are UNAUTHENTICATED', async () => {
      const anon = await t.exec(VIEWER);
      expect(codes(anon)).toEqual(['UNAUTHENTICATED']);
      const bogus = await t.exec(VIEWER, {}, { key: 'pt_aaaaaaaaaaaa_' + 'A'.repeat(43) });
      expect(bogus.status).toBe(401);
      expect(codes(bogus)).toEqual(['UNAUTHENTICATED']);
      expect(bogus.body.errors?.[0]?.message).toBe('Invalid API key');
      // Right prefix, wrong secret: still refused, and with the same message (no oracle for valid prefixes).
      const prefix = acme.keys.READER.split('_')[1]!;
      const forged = await t.exec(VIEWER, {}, { key: `pt_${prefix}_${'B'.repeat(43)}` });
      expect(forged.body.errors?.[0]?.message).toBe('Invalid API key');
      const malformed = await t.exec(VIEWER, {}, { headers: { authorization: 'Basic Zm9vOmJhcg==' } });
      expect(codes(malformed)).toEqual(['UNAUTHENTICATED']);
    });

    test('operator-only and role-gated operations are FORBIDDEN for lesser keys', async () => {
      const tenantByTenant = await t.exec(`mutation { createTenant(input: { name: "nope-x" }) { adminKey } }`, {}, { key: acme.keys.ADMIN });
      expect(codes(tenantByTenant)).toEqual(['FORBIDDEN']);
      for (const role of ['MEMBER', 'READER'] as const) {
        const res = await t.exec(`mutation { createApiKey(input: { name: "x", role: READER }) { secret } }`, {}, { key: acme.keys[role] });
        expect(codes(res)).toEqual(['FORBIDDEN']);
      }
      const opKeys = await t.exec(`{ apiKeys { id } }`, {}, { key: t.operatorKey });
      expect(codes(opKeys)).toEqual(['FORBIDDEN']);
    });

    test('API key lifecycle: create (secret once, hash stored), use, list, revoke, refused after revocation', async () => {
      const created = await t.exec(
        `mutation { createApiKey(input: { name: "ci", role: MEMBER }) { apiKey { id name role prefix revokedAt } secret } }`,
        {},
        { key: acme.keys.ADMIN },
      );
      expect(created.body.errors).toBeUndefined();
      const { apiKey, secret } = created.body.data!.createApiKey;
      expect(apiKey).toMatchObject({ name: 'ci', role: 'MEMBER', revokedAt: null });
      expect(secret).toMatch(/^pt_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
      expect(secret.split('_')[1]).toBe(apiKey.prefix);

      const row = await t.platform.db.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
      expect(JSON.stringify(row)).not.toContain(secret);
      expect(JSON.stringify(row)).not.toContain(secret.slice(-43));

      const used = await t.exec(VIEWER, {}, { key: secret });
      expect(used.body.data?.viewer.apiKey).toEqual({ id: apiKey.id, role: 'MEMBER' });
      const afterUse = await t.platform.db.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
      // lastUsedAt is written asynchronously; wait for the condition rather than a fixed delay.
      let lastUsed = afterUse.lastUsedAt;
      for (let i = 0; i < 100 && !lastUsed; i++) {
        await new Promise((r) => setImmediate(r));
        lastUsed = (await t.platform.db.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } })).lastUsedAt;
      }
      expect(lastUsed).toBeInstanceOf(Date);

      const listed = await t.exec(`{ apiKeys { id name prefix } }`, {}, { key: acme.keys.ADMIN });
      expect(listed.body.data?.apiKeys.map((k: { id: string }) => k.id)).toContain(apiKey.id);
      expect(JSON.stringify(listed.body)).not.toContain(secret);

      const revoked = await t.exec(`mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id revokedAt } } }`, { id: apiKey.id }, { key: acme.keys.ADMIN });
      expect(revoked.body.data?.revokeApiKey.apiKey.revokedAt).toEqual(expect.any(String));
      const refused = await t.exec(VIEWER, {}, { key: secret });
      expect(codes(refused)).toEqual(['UNAUTHENTICATED']);
      expect(refused.body.errors?.[0]?.message).toMatch(/revoked/);

      const active = await t.exec(`{ apiKeys { id } }`, {}, { key: acme.keys.ADMIN });
      expect(active.body.data?.apiKeys.map((k: { id: string }) => k.id)).not.toContain(apiKey.id);
      const all = await t.exec(`{ apiKeys(includeRevoked: true) { id } }`, {}, { key: acme.keys.ADMIN });
      expect(all.body.data?.apiKeys.map((k: { id: string }) => k.id)).toContain(apiKey.id);
      const audit = await t.platform.db.prisma.auditEvent.findMany({ where: { tenantId: acme.id, targetId: apiKey.id } });
      expect(audit.map((a) => a.action).sort()).toEqual(['apiKey.create', 'apiKey.revoke']);
    });

    test('an expired key is refused', async () => {
      const soon = new Date(Date.now() + 60_000).toISOString();
      const created = await t.exec(`mutation($e: DateTime) { createApiKey(input: { name: "tmp", role: READER, expiresAt: $e }) { apiKey { id } secret } }`, { e: soon }, { key: acme.keys.ADMIN });
      const { apiKey, secret } = created.body.data!.createApiKey;
      // Move the expiry into the past before the key's first use (key rows are cached for a few seconds after use).
      await t.platform.db.prisma.apiKey.update({ where: { id: apiKey.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
      const res = await t.exec(VIEWER, {}, { key: secret });
      expect(codes(res)).toEqual(['UNAUTHENTICATED']);
      expect(res.body.errors?.[0]?.message).toMatch(/expired/);
    });

    test('bad input gets BAD_USER_INPUT with the problems listed, and nothing is written', async () => {
      const res = await t.exec(`mutation { createTenant(input: { name: "Not Valid!", storageQuotaBytes: -5 }) { adminKey } }`, {}, { key: t.operatorKey });
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      const problems = res.body.errors?.[0]?.extensions?.problems as Array<{ path: string }>;
      expect(problems.map((p) => p.path).sort()).toEqual(['input.name', 'input.storageQuotaBytes']);
      expect(await t.platform.db.prisma.tenant.count({ where: { name: 'Not Valid!' } })).toBe(0);

      const past = await t.exec(`mutation { createApiKey(input: { name: "x", role: READER, expiresAt: "2001-01-01T00:00:00Z" }) { secret } }`, {}, { key: acme.keys.ADMIN });
      expect(codes(past)).toEqual(['BAD_USER_INPUT']);
      const badDate = await t.exec(`mutation { createApiKey(input: { name: "x", role: READER, expiresAt: "tomorrow" }) { secret } }`, {}, { key: acme.keys.ADMIN });
      expect(codes(badDate)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    });

    test('duplicate tenant names are a CONFLICT and leave no second tenant or key', async () => {
      // Counted within this tenant: other test files share the database and create keys concurrently.
      const keysBefore = await t.platform.db.prisma.apiKey.count({ where: { tenant: { name: acme.name } } });
      const res = await t.exec(`mutation($n: String!) { createTenant(input: { name: $n }) { adminKey } }`, { n: acme.name }, { key: t.operatorKey });
      expect(codes(res)).toEqual(['CONFLICT']);
      expect(await t.platform.db.prisma.tenant.count({ where: { name: acme.name } })).toBe(1);
      expect(await t.platform.db.prisma.apiKey.count({ where: { tenant: { name: acme.name } } })).toBe(keysBefore);
      expect(await t.platform.db.prisma.auditEvent.count({ where: { action: 'tenant.create', tenant: { name: acme.name } } })).toBe(1);
    });

    test('unknown ids are NOT_FOUND (malformed ids too, without a database cast error)', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', "'; drop table tenants; --"]) {
        const res = await t.exec(`mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id } } }`, { id }, { key: acme.keys.ADMIN });
        expect(codes(res)).toEqual(['NOT_FOUND']);
      }
    });

    test('malformed GraphQL, unknown fields and too many tokens get typed errors, and the server keeps serving', async () => {
      const parse = await t.exec('{ viewer { ', {}, { key: acme.keys.READER });
      expect(parse.status).toBe(400);
      expect(codes(parse)).toEqual(['GRAPHQL_PARSE_FAILED']);
      const unknown = await t.exec('{ viewer { nope } }', {}, { key: acme.keys.READER });
      expect(unknown.status).toBe(400);
      expect(codes(unknown)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      const manyTokens = await t.exec(`{ ${'version '.repeat(t.platform.config.limits.maxTokens)} }`);
      expect(manyTokens.status).toBe(400);
      expect(codes(manyTokens)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      const notJson = await t.exec('', {}, { rawBody: '{"query": ' });
      expect(notJson.status).toBe(400);
      const ok = await t.exec(VIEWER, {}, { key: acme.keys.READER });
      expect(ok.body.data?.viewer.tenant.id).toBe(acme.id);
    });

    test('oversized bodies are refused with 413 before any work is done', async () => {
      const big = 'x'.repeat(t.platform.config.limits.maxBodyBytes + 10);
      const res = await t.exec('', {}, { rawBody: JSON.stringify({ query: `{ version } # ${big}` }) });
      expect(res.status).toBe(413);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect((await t.exec('{ version }')).status).toBe(200);
    });

    test('error responses carry no stack traces outside development', async () => {
      const res = await t.exec(`mutation { createTenant(input: { name: "x" }) { adminKey } }`, {}, { key: acme.keys.READER });
      expect(codes(res)).toEqual(['FORBIDDEN']);
      expect(JSON.stringify(res.body)).not.toMatch(/stacktrace|at .*\.ts:\d+/);
    });

    test('operator lists tenants with cursor pagination', async () => {
      await t.seedTenant('page');
      const first = await t.exec(`{ tenants(first: 1) { nodes { id } pageInfo { endCursor hasNextPage } } }`, {}, { key: t.operatorKey });
      expect(first.body.data?.tenants.nodes).toHaveLength(1);
      expect(first.body.data?.tenants.pageInfo.hasNextPage).toBe(true);
      const next = await t.exec(`query($a: String) { tenants(first: 1, after: $a) { nodes { id } } }`, { a: first.body.data?.tenants.pageInfo.endCursor }, { key: t.operatorKey });
      expect(next.body.data?.tenants.nodes[0].id).not.toBe(first.body.data?.tenants.nodes[0].id);
      const tooMany = await t.exec(`{ tenants(first: 300) { nodes { id } } }`, {}, { key: t.operatorKey });
      expect(codes(tooMany)).toEqual(['BAD_USER_INPUT']);
    });
  });
}
