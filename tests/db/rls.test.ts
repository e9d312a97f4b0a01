// Row-level security as a second wall (prisma/migrations/*_row_level_security, src/db/rls.ts, src/db/scope.ts):
// raw SQL without any tenant filter, run in one tenant's scope, sees only that tenant's rows; without a tenant
// setting the application role sees nothing and cannot write another tenant's rows; the operator role sees all.
// Runs on PGlite, or on the Postgres server when DATABASE_URL is set.
import crypto from 'node:crypto';
import { Client } from 'pg';
import { openDatabase, type Database } from '../../src/db';
import { asOperator, currentDbScope, openRequestScope, setRequestScope, unscoped, withTenant } from '../../src/db/scope';
import { testDatabaseConfig } from '../helpers/db';

/** Every tenant-owned table (all carry tenant_id), plus `tenants` itself (keyed by id). */
const TENANT_TABLES = [
  'api_keys', 'audit_events', 'usage_records', 'rate_buckets', 'datasets', 'dataset_versions', 'dataset_files',
  'experiments', 'runs', 'metric_points', 'run_logs', 'models', 'model_versions', 'model_aliases', 'embedding_spaces',
] as const;

interface Seeded { tenantId: string; datasetId: string; runId: string }

async function seedTenant(db: Database, label: string): Promise<Seeded> {
  const p = db.prisma;
  const tag = `${label}-${crypto.randomBytes(4).toString('hex')}`;
  const tenant = await p.tenant.create({ data: { name: `rls-${tag}` } });
  const tenantId = tenant.id;
  await p.apiKey.create({ data: { tenantId, name: 'k', role: 'ADMIN', prefix: `rls${crypto.randomBytes(6).toString('hex')}`, secretHash: 'x' } });
  await p.auditEvent.create({ data: { tenantId, actor: 'operator', action: 'tenant.create', targetType: 'tenant', targetId: tenantId } });
  await p.usageRecord.create({ data: { tenantId, kind: 'storage.upload', quantity: 1n } });
  await p.rateBucket.create({ data: { key: `requests:${tenantId}`, tenantId, tokens: 1, updatedAt: new Date() } });
  const dataset = await p.dataset.create({ data: { tenantId, name: 'd', modality: 'TEXT' } });
  const version = await p.datasetVersion.create({ data: { tenantId, datasetId: dataset.id, version: 1, status: 'READY', shape: {} } });
  await p.datasetFile.create({ data: { tenantId, versionId: version.id, name: 'f.txt', bytes: 1n, status: 'UPLOADED', storageKey: `tenants/${tenantId}/f` } });
  const experiment = await p.experiment.create({ data: { tenantId, name: 'e', datasetVersionId: version.id, pretext: 'MASKED', encoderSpec: {}, hyperparameters: {}, resources: {} } });
  const run = await p.run.create({ data: { tenantId, experimentId: experiment.id, kind: 'PRETRAIN', status: 'SUCCEEDED', config: {} } });
  await p.metricPoint.create({ data: { tenantId, runId: run.id, attempt: 0, step: 1, name: 'loss', value: 1 } });
  await p.runLog.create({ data: { tenantId, runId: run.id, attempt: 0, level: 'info', message: 'hi' } });
  const model = await p.model.create({ data: { tenantId, name: 'm', modality: 'TEXT' } });
  const mv = await p.modelVersion.create({ data: { tenantId, modelId: model.id, version: 1, runId: run.id, onnxKey: 'k', inputSpec: {}, embeddingDim: 4 } });
  await p.modelAlias.create({ data: { tenantId, modelId: model.id, alias: 'prod', modelVersionId: mv.id } });
  await p.embeddingSpace.create({ data: { tenantId, modelVersionId: mv.id, datasetVersionId: version.id, status: 'READY', dim: 4 } });
  return { tenantId, datasetId: dataset.id, runId: run.id };
}

const tenantColumn = (table: string) => (table === 'tenants' ? 'id' : 'tenant_id');

describe('row-level security', () => {
  let db: Database;
  let a: Seeded;
  let b: Seeded;

  beforeAll(async () => {
    db = await openDatabase(testDatabaseConfig());
    a = await seedTenant(db, 'a');
    b = await seedTenant(db, 'b');
  });
  afterAll(async () => {
    await db?.prisma.tenant.deleteMany({ where: { id: { in: [a?.tenantId, b?.tenantId].filter(Boolean) as string[] } } }).catch(() => undefined);
    await db?.close();
  });

  test('raw SELECT * without a WHERE, in tenant A\'s scope, returns only tenant A\'s rows from every tenant-owned table', async () => {
    for (const table of [...TENANT_TABLES, 'tenants']) {
      const rows = await withTenant(a.tenantId, () => db.prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(`SELECT * FROM ${table}`));
      expect({ table, n: rows.length > 0 }).toEqual({ table, n: true });
      expect({ table, tenants: [...new Set(rows.map((r) => r[tenantColumn(table)]))] }).toEqual({ table, tenants: [a.tenantId] });
    }
    // The same in an interactive transaction and through the model API: the wall is below Prisma.
    const inTx = await withTenant(a.tenantId, () => db.prisma.$transaction(async (tx) => tx.$queryRaw<Array<{ tenant_id: string }>>`SELECT tenant_id FROM runs`));
    expect([...new Set(inTx.map((r) => r.tenant_id))]).toEqual([a.tenantId]);
    const datasets = await withTenant(b.tenantId, () => db.prisma.dataset.findMany());
    expect(datasets.map((d) => d.tenantId)).toEqual([b.tenantId]);
    expect(await withTenant(a.tenantId, () => db.prisma.run.findUnique({ where: { id: b.runId } }))).toBeNull();
    expect(await withTenant(a.tenantId, () => db.prisma.$queryRaw<Array<{ r: string }>>`SELECT current_user AS r`)).toEqual([{ r: 'pretext_app' }]);
  });

  test('writes to another tenant\'s rows are refused in a tenant scope', async () => {
    await expect(withTenant(a.tenantId, () => db.prisma.dataset.create({ data: { tenantId: b.tenantId, name: 'smuggled', modality: 'TEXT' } }))).rejects.toThrow(/row-level security|row level security/i);
    const updated = await withTenant(a.tenantId, () => db.prisma.$executeRaw`UPDATE datasets SET description = 'hijacked' WHERE id = ${b.datasetId}::uuid`);
    expect(updated).toBe(0);
    const deleted = await withTenant(a.tenantId, () => db.prisma.run.deleteMany({ where: { id: b.runId } }));
    expect(deleted.count).toBe(0);
    // Moving one's own row to another tenant fails the WITH CHECK.
    await expect(withTenant(a.tenantId, () => db.prisma.$executeRaw`UPDATE datasets SET tenant_id = ${b.tenantId}::uuid WHERE id = ${a.datasetId}::uuid`)).rejects.toThrow(/row-level security|row level security/i);
    expect((await db.prisma.dataset.findUnique({ where: { id: b.datasetId } }))?.description).toBeNull();
  });

  test('as pretext_app with no tenant setting: zero rows everywhere, and no INSERT for any tenant', async () => {
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL ROLE pretext_app');
      for (const table of [...TENANT_TABLES, 'tenants']) {
        const { rows } = await c.query(`SELECT count(*)::int AS n FROM ${table}`);
        expect({ table, n: rows[0].n }).toEqual({ table, n: 0 });
      }
      await expect(c.query(`INSERT INTO datasets (id, tenant_id, name, modality) VALUES (gen_random_uuid(), $1, 'x', 'TEXT')`, [b.tenantId])).rejects.toThrow(/row-level security/i);
      await c.query('ROLLBACK');
      // The setting left empty by an earlier transaction ('' rather than unset) is "no tenant" too.
      await c.query('BEGIN');
      await c.query(`SELECT set_config('pretext.tenant_id', '', true)`);
      await c.query('SET LOCAL ROLE pretext_app');
      expect((await c.query('SELECT count(*)::int AS n FROM runs')).rows[0].n).toBe(0);
      await c.query('ROLLBACK');
    } finally {
      await c.end();
    }
    // The anonymous request scope (tenant null) is the same wall through Prisma.
    const anon = await openRequestScope(async () => {
      setRequestScope({ kind: 'tenant', tenantId: null });
      return db.prisma.$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM datasets`;
    });
    expect(anon).toEqual([{ n: 0 }]);
    await expect(openRequestScope(async () => {
      setRequestScope({ kind: 'tenant', tenantId: null });
      return db.prisma.usageRecord.create({ data: { tenantId: a.tenantId, kind: 'x', quantity: 1n } });
    })).rejects.toThrow(/row-level security|row level security/i);
  });

  test('the operator role sees every tenant\'s rows', async () => {
    for (const table of [...TENANT_TABLES, 'tenants']) {
      const rows = await asOperator('test', () => db.prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(`SELECT ${tenantColumn(table)} AS t FROM ${table}`));
      const seen = new Set(rows.map((r) => r.t));
      expect({ table, a: seen.has(a.tenantId), b: seen.has(b.tenantId) }).toEqual({ table, a: true, b: true });
    }
    expect(await asOperator('test', () => db.prisma.$queryRaw<Array<{ r: string }>>`SELECT current_user AS r`)).toEqual([{ r: 'pretext_operator' }]);
  });

  test('scopes do not leak: concurrent findUnique calls of two tenants in one tick each see their own row', async () => {
    const [ra, rb, none] = await Promise.all([
      withTenant(a.tenantId, () => db.prisma.run.findUnique({ where: { id: a.runId } })),
      withTenant(b.tenantId, () => db.prisma.run.findUnique({ where: { id: b.runId } })),
      withTenant(b.tenantId, () => db.prisma.run.findUnique({ where: { id: a.runId } })),
    ]);
    expect(ra?.tenantId).toBe(a.tenantId);
    expect(rb?.tenantId).toBe(b.tenantId);
    expect(none).toBeNull();
    // A request scope is filled once; unscoped work started inside a scope runs without it.
    await openRequestScope(async () => {
      setRequestScope({ kind: 'tenant', tenantId: a.tenantId });
      setRequestScope({ kind: 'operator', actor: 'widening' });
      expect(currentDbScope()).toEqual({ kind: 'tenant', tenantId: a.tenantId });
      expect(await unscoped(() => currentDbScope())).toBeUndefined();
    });
    // Interleaved interactive transactions of two tenants (one pooled connection on PGlite) stay apart.
    const both = await Promise.all([a, b].map((t) => withTenant(t.tenantId, () => db.prisma.$transaction(async (tx) => {
      const rows = await tx.dataset.findMany();
      await tx.auditEvent.create({ data: { tenantId: t.tenantId, actor: 'test', action: 'x', targetType: 'dataset' } });
      return rows.map((r) => r.tenantId);
    }))));
    expect(both).toEqual([[a.tenantId], [b.tenantId]]);
  });

  test('outside any scope the connecting role keeps working (migrations, background workers)', async () => {
    const n = await db.prisma.dataset.count({ where: { id: { in: [a.datasetId, b.datasetId] } } });
    expect(n).toBe(2);
  });
});
