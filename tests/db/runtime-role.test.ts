// The gateway connects as a role that does not own the tables (README "Security", src/db/runtime-role.ts): on a
// fresh database migrated with the owner's URL, a login role made by createRuntimeRole (what `pretext db
// create-runtime-role` runs) does the platform's scoped and unscoped work, cannot undo row-level security (no ALTER,
// DROP, CREATE, TRUNCATE, SET ROLE to the owner, no migration history), and sees only its tenant's rows in a scope.
// Needs a Postgres server (DATABASE_URL): login roles and their privileges are what is tested, and PGlite is one
// session of one superuser.
import crypto from 'node:crypto';
import { Client } from 'pg';
import { buildProgram } from '../../src/cli/main';
import { openDatabase, type Database } from '../../src/db';
import { nextDueRuns } from '../../src/jobs/queue';
import { createRuntimeRole } from '../../src/db/runtime-role';
import { unscoped, withTenant } from '../../src/db/scope';
import { usingRealPostgres } from '../helpers/db';
import { createDataset, createVersion, finalize, settledVersion, uploadFile } from '../helpers/datasets-api';
import { createOwnDatabase, type OwnDatabase } from '../helpers/own-database';
import { startTestPlatform } from '../helpers/platform';

const serverOnly = usingRealPostgres() ? describe : describe.skip;

/** The Postgres SQLSTATE of what `sql` throws on `c` (undefined when it does not throw). */
async function sqlState(c: Client, sql: string): Promise<string | undefined> {
  try {
    await c.query(sql);
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** `pretext db create-runtime-role`, in-process, with the owner URL and the password in the environment; its stdout. */
async function createRoleWithCli(ownerUrl: string, name: string, password: string): Promise<string> {
  const saved = { url: process.env.DATABASE_MIGRATION_URL, pw: process.env.PRETEXT_TEST_RUNTIME_PASSWORD };
  process.env.DATABASE_MIGRATION_URL = ownerUrl;
  process.env.PRETEXT_TEST_RUNTIME_PASSWORD = password;
  const out: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    await buildProgram().parseAsync(['node', 'pretext', 'db', 'create-runtime-role', '--name', name, '--password-env', 'PRETEXT_TEST_RUNTIME_PASSWORD']);
  } finally {
    spy.mockRestore();
    for (const [k, v] of [['DATABASE_MIGRATION_URL', saved.url], ['PRETEXT_TEST_RUNTIME_PASSWORD', saved.pw]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return out.join('');
}

serverOnly('runtime login role that owns nothing (skipped without DATABASE_URL: needs a Postgres server)', () => {
  const suffix = crypto.randomBytes(4).toString('hex');
  const roleName = `pretext_rt_${suffix}`;
  const unsafeName = `pretext_rt_unsafe_${suffix}`;
  const racedName = `pretext_race_${suffix}`;
  const password = crypto.randomBytes(16).toString('hex');
  let own: OwnDatabase;
  let runtimeUrl: string;
  let db: Database | undefined;
  let owner: string;

  beforeAll(async () => {
    own = await createOwnDatabase(process.env.DATABASE_URL!, 'pretext_rt');
    // The operator's command: migrates the fresh database with the owner URL, then creates the login role.
    expect(await createRoleWithCli(own.url, roleName, password)).toMatch(new RegExp(`^Created runtime role ${roleName}\\.`));
    const u = new URL(own.url);
    u.username = roleName;
    u.password = password;
    runtimeUrl = u.toString();
    db = await openDatabase({ kind: 'postgres', url: runtimeUrl, migrationUrl: own.url, poolSize: 2 });
    owner = await withClient(own.url, async (c) => (await c.query<{ o: string }>(`SELECT tableowner AS o FROM pg_tables WHERE tablename = 'datasets'`)).rows[0]!.o);
  });

  afterAll(async () => {
    await db?.close();
    await own?.drop();
    // Roles are cluster-global: drop them once the database (and with it every privilege on its objects) is gone.
    await withClient(process.env.DATABASE_URL!, async (c) => {
      await c.query(`DROP ROLE IF EXISTS ${roleName}`);
      await c.query(`DROP ROLE IF EXISTS ${unsafeName}`);
      await c.query(`DROP ROLE IF EXISTS ${racedName}`);
    });
  });

  test('the role is a plain login role: no superuser, BYPASSRLS, CREATEDB or CREATEROLE, owns no table; creating it again is an update', async () => {
    const attrs = await withClient(own.url, async (c) => (await c.query(
      `SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole, rolreplication,
              pg_has_role(rolname, 'pretext_runtime', 'MEMBER') AS runtime,
              (SELECT count(*)::int FROM pg_class WHERE relowner = r.oid) AS owned
         FROM pg_roles r WHERE rolname = $1`, [roleName])).rows[0]);
    expect(attrs).toEqual({ rolcanlogin: true, rolsuper: false, rolbypassrls: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, runtime: true, owned: 0 });
    expect(owner).not.toBe(roleName);
    expect(await createRuntimeRole(own.url, { name: roleName, password })).toEqual({ created: false });
    // Many cold starts at once (DATABASE_ENSURE_RUNTIME_ROLE in the CDK stack): they take turns, none fails.
    expect(await Promise.all(Array.from({ length: 4 }, () => createRuntimeRole(own.url, { name: roleName, password })))).toEqual(Array(4).fill({ created: false }));
    const raced = await Promise.all(Array.from({ length: 4 }, () => createRuntimeRole(own.url, { name: racedName, password })));
    expect(raced.filter((r) => r.created)).toHaveLength(1);
    expect(await db!.prisma.$queryRaw<Array<{ u: string }>>`SELECT current_user AS u`).toEqual([{ u: roleName }]);
  });

  test('scoped and unscoped platform work runs as the runtime role', async () => {
    const p = db!.prisma;
    // Creating tenants is operator work; outside any scope the runtime role has the operator policy (pretext_runtime).
    const [a, b] = await unscoped(() => Promise.all(['a', 'b'].map((t) => p.tenant.create({ data: { name: `rt-${t}-${suffix}` } }))));
    const runs: string[] = [];
    for (const t of [a!, b!]) {
      // Scoped writes and reads: each statement runs as pretext_app in the tenant's transaction.
      const runId = await withTenant(t.id, async () => {
        const ds = await p.dataset.create({ data: { tenantId: t.id, name: 'd', modality: 'TEXT' } });
        const v = await p.datasetVersion.create({ data: { tenantId: t.id, datasetId: ds.id, version: 1, status: 'READY', shape: {} } });
        const e = await p.experiment.create({ data: { tenantId: t.id, name: 'e', datasetVersionId: v.id, pretext: 'MASKED', encoderSpec: {}, hyperparameters: {}, resources: {} } });
        const run = await p.run.create({ data: { tenantId: t.id, experimentId: e.id, kind: 'PRETRAIN', status: 'QUEUED', config: {} } });
        expect((await p.dataset.findMany()).map((d) => d.tenantId)).toEqual([t.id]);
        expect(await p.$queryRaw<Array<{ u: string }>>`SELECT current_user AS u`).toEqual([{ u: 'pretext_app' }]);
        return run.id;
      });
      runs.push(runId);
    }
    // The queue worker's statements run outside any scope and span tenants: the due-run query and a claim.
    await unscoped(async () => {
      const due = await nextDueRuns(p, 10, new Date(), [a!.id, b!.id]);
      expect(due.map((r) => r.id).sort()).toEqual([...runs].sort());
      const claimed = await p.run.updateMany({ where: { id: runs[0]!, status: 'QUEUED' }, data: { status: 'DISPATCHED' } });
      expect(claimed.count).toBe(1);
      await p.usageRecord.create({ data: { tenantId: b!.id, kind: 'storage.upload', quantity: 1n } }); // a usage flush
    });

    // Cross-tenant isolation still holds under the runtime role: raw SELECT * without WHERE, in a tenant scope.
    for (const [t, other] of [[a!, b!], [b!, a!]] as const) {
      for (const [table, col] of [['datasets', 'tenant_id'], ['runs', 'tenant_id'], ['tenants', 'id']] as const) {
        const rows = await withTenant(t.id, () => p.$queryRawUnsafe<Array<Record<string, unknown>>>(`SELECT * FROM ${table}`));
        expect({ table, tenants: [...new Set(rows.map((r) => r[col]))] }).toEqual({ table, tenants: [t.id] });
      }
      expect(await withTenant(t.id, () => p.run.findMany({ where: { tenantId: other.id } }))).toEqual([]);
    }
    // The same wall on a plain connection of the runtime role, the way src/db/rls.ts opens a tenant transaction.
    await withClient(runtimeUrl, async (c) => {
      await c.query('BEGIN');
      await c.query(`SELECT set_config('role', 'pretext_app', true), set_config('pretext.tenant_id', $1, true)`, [a!.id]);
      const { rows } = await c.query<{ tenant_id: string }>('SELECT * FROM datasets');
      expect([...new Set(rows.map((r) => r.tenant_id))]).toEqual([a!.id]);
      expect(await sqlState(c, `INSERT INTO datasets (id, tenant_id, name, modality) VALUES (gen_random_uuid(), '${b!.id}', 'x', 'TEXT')`)).toBe('42501');
      await c.query('ROLLBACK');
    });
  });

  test('the runtime role cannot undo row-level security or change the schema (42501 insufficient_privilege)', async () => {
    const refused = await withClient(runtimeUrl, async (c) => {
      const out: Record<string, string | undefined> = {};
      for (const [what, sql] of Object.entries({
        disable: 'ALTER TABLE datasets DISABLE ROW LEVEL SECURITY',
        noForce: 'ALTER TABLE datasets NO FORCE ROW LEVEL SECURITY',
        dropPolicy: 'DROP POLICY tenant_isolation ON datasets',
        dropPolicyIfExists: 'DROP POLICY IF EXISTS operator_all ON tenants',
        createPolicy: 'CREATE POLICY sneak ON datasets TO pretext_app USING (true)',
        dropTable: 'DROP TABLE datasets',
        createTable: 'CREATE TABLE public.rt_probe (id int)',
        truncate: 'TRUNCATE datasets',
        setRoleOwner: `SET ROLE ${c.escapeIdentifier(owner)}`,
        setConfigRoleOwner: `SELECT set_config('role', ${c.escapeLiteral(owner)}, false)`,
        migrationHistory: 'SELECT * FROM _prisma_migrations',
        grant: 'GRANT pretext_runtime TO pretext_app',
      })) out[what] = await sqlState(c, sql);
      // Through the operator role it is just as refused: pretext_operator owns nothing either.
      await c.query('BEGIN');
      await c.query(`SELECT set_config('role', 'pretext_operator', true)`);
      out.operatorDisable = await sqlState(c, 'ALTER TABLE datasets DISABLE ROW LEVEL SECURITY');
      await c.query('ROLLBACK');
      return out;
    });
    expect(refused).toEqual({
      disable: '42501', noForce: '42501', dropPolicy: '42501', dropPolicyIfExists: '42501', createPolicy: '42501', dropTable: '42501',
      createTable: '42501', truncate: '42501', setRoleOwner: '42501', setConfigRoleOwner: '42501', migrationHistory: '42501', grant: '42501',
      operatorDisable: '42501',
    });
    // And nothing changed: the table is still there with RLS forced and its policies in place.
    const state = await withClient(own.url, async (c) => (await c.query(
      `SELECT relrowsecurity, relforcerowsecurity, (SELECT count(*)::int FROM pg_policy WHERE polrelid = c.oid) AS policies,
              to_regclass('public.rt_probe') IS NULL AS no_probe
         FROM pg_class c WHERE oid = 'public.datasets'::regclass`)).rows[0]);
    expect(state).toEqual({ relrowsecurity: true, relforcerowsecurity: true, policies: 2, no_probe: true });
  });

  test('the whole platform (worker on) serves GraphQL as the runtime role: tenants, keys, a dataset processed, isolation', async () => {
    const t = await startTestPlatform('http', { DATABASE_URL: runtimeUrl, DATABASE_MIGRATION_URL: own.url, RUN_WORKER: 'true' });
    try {
      expect(t.platform.config.database).toMatchObject({ url: runtimeUrl, migrationUrl: own.url });
      expect(await t.platform.db.prisma.$queryRaw<Array<{ u: string }>>`SELECT current_user AS u`).toEqual([{ u: roleName }]);
      const [a, b] = [await t.seedTenant('rt'), await t.seedTenant('rt')];
      const ds = await createDataset(t, a.keys.ADMIN, 'TEXT', 'runtime-role-ds');
      const v = await createVersion(t, a.keys.ADMIN, ds);
      expect((await uploadFile(t, a.keys.ADMIN, v, 'a.txt', 'one line\nanother line\n')).body.errors).toBeUndefined();
      expect((await finalize(t, a.keys.ADMIN, v)).body.errors).toBeUndefined();
      expect((await settledVersion(t, a.keys.ADMIN, v)).status).toBe('READY');
      const list = (key: string) => t.exec(`{ datasets(first: 10) { nodes { name } } }`, {}, { key });
      expect((await list(a.keys.READER)).body.data?.datasets.nodes).toEqual([{ name: 'runtime-role-ds' }]);
      expect((await list(b.keys.READER)).body.data?.datasets.nodes).toEqual([]);
    } finally {
      await t.close();
    }
  });

  test('a role that could undo row-level security is refused: as the runtime URL, and by create-runtime-role', async () => {
    // DATABASE_MIGRATION_URL set but DATABASE_URL still the owner: openDatabase fails instead of running as the owner.
    await expect(openDatabase({ kind: 'postgres', url: own.url, migrationUrl: own.url, poolSize: 1 })).rejects.toThrow(/must connect as a runtime role that owns nothing.*superuser/);
    // An existing role with CREATEDB is reported, not silently kept or altered.
    await withClient(own.url, (c) => c.query(`CREATE ROLE ${unsafeName} LOGIN CREATEDB`));
    await expect(createRuntimeRole(own.url, { name: unsafeName })).rejects.toThrow(/not safe as the runtime role: it has CREATEDB/);
    await expect(createRuntimeRole(own.url, { name: 'Robert"; DROP TABLE datasets; --' })).rejects.toThrow(/Not a role name/);
  });
});
