// The gateway's requests really run under row-level security (src/db/scope.ts, src/db/rls.ts): a restrictive probe
// policy hides some rows from pretext_app only (or from pretext_operator only), and the API stops returning exactly
// those rows, although the application's own filters would return them. Both transports.
import crypto from 'node:crypto';
import { Client } from 'pg';
import { startTestPlatform, type TestPlatform, type Transport } from '../helpers/platform';

async function sql(url: string, text: string, values: unknown[] = []): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text, values);
  } finally {
    await c.end();
  }
}

describe.each(['http', 'lambda'] as Transport[])('row-level security behind the %s gateway', (transport) => {
  let t: TestPlatform;
  let url: string;
  const probe = `rls_probe_${transport}`;
  beforeAll(async () => {
    t = await startTestPlatform(transport);
    url = t.platform.db.url;
    await sql(url, `DROP POLICY IF EXISTS ${probe} ON datasets`);
    await sql(url, `CREATE POLICY ${probe} ON datasets AS RESTRICTIVE TO pretext_app USING (name NOT LIKE 'rls-hidden-${transport}%')`);
    await sql(url, `DROP POLICY IF EXISTS ${probe} ON tenants`);
    await sql(url, `CREATE POLICY ${probe} ON tenants AS RESTRICTIVE TO pretext_operator USING (name NOT LIKE 'rls-hidden-${transport}%')`);
  });
  afterAll(async () => {
    if (url) {
      await sql(url, `DROP POLICY IF EXISTS ${probe} ON datasets`).catch(() => undefined);
      await sql(url, `DROP POLICY IF EXISTS ${probe} ON tenants`).catch(() => undefined);
    }
    await t?.close();
  });

  test('tenant requests run as pretext_app in their tenant: rows the policies refuse are not returned', async () => {
    const tenant = await t.seedTenant('rls');
    for (const name of ['visible', `rls-hidden-${transport}`]) {
      await sql(url, `INSERT INTO datasets (id, tenant_id, name, modality) VALUES (gen_random_uuid(), $1, $2, 'TEXT')`, [tenant.id, name]);
    }
    const res = await t.exec(`{ datasets(first: 50) { nodes { name } } }`, {}, { key: tenant.keys.READER });
    expect(res.body.errors).toBeUndefined();
    expect((res.body.data!.datasets.nodes as Array<{ name: string }>).map((d) => d.name)).toEqual(['visible']);
  });

  test('operator requests run as pretext_operator: every tenant, minus what its probe refuses', async () => {
    // Ids that sort first (the list is ordered by id), so both are on the first page even in a shared database.
    const low = () => `00000000-0000-4000-8000-${crypto.randomBytes(6).toString('hex')}`;
    const visible = `rls-visible-${transport}-${Date.now()}`;
    await sql(url, `INSERT INTO tenants (id, name) VALUES ($1, $2), ($3, $4)`, [low(), visible, low(), `rls-hidden-${transport}-${Date.now()}`]);
    const res = await t.exec(`{ tenants(first: 200) { nodes { id name } } }`, {}, { key: t.operatorKey });
    expect(res.body.errors).toBeUndefined();
    const names = (res.body.data!.tenants.nodes as Array<{ id: string; name: string }>).map((n) => n.name);
    expect(names).toContain(visible);
    expect(names.filter((n) => n.startsWith(`rls-hidden-${transport}`))).toEqual([]);
  });
});
