// The migration runner against a real database (PGlite, or Postgres when DATABASE_URL is set): idempotent,
// serialized by an advisory lock, recorded like `prisma migrate deploy`, refusing edited migrations, atomic.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded';
import { listMigrations, migrate, MIGRATIONS_DIR } from '../../src/db/migrate';

/** A database of our own: a fresh PGlite, or a throwaway database on the Postgres server. */
async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    const pg: EmbeddedPostgres = await startEmbeddedPostgres({ dataDir: 'memory://', maxConnections: 6 });
    return { url: pg.url, drop: () => pg.stop() };
  }
  const name = `pretext_mig_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function query<T extends Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

function copyMigrations(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-mig-'));
  fs.cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

describe('migrate', () => {
  let db: { url: string; drop(): Promise<void> };
  beforeEach(async () => {
    db = await freshDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  test('applies every migration once and records it as prisma migrate deploy does', async () => {
    const all = listMigrations().map((m) => m.name);
    const first = await migrate(db.url);
    expect(first.applied).toEqual(all);
    const second = await migrate(db.url);
    expect(second).toEqual({ applied: [], alreadyApplied: all });
    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
      db.url,
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((r) => r.migration_name)).toEqual(all);
    for (const [i, m] of listMigrations().entries()) {
      expect(rows[i]!.checksum).toBe(crypto.createHash('sha256').update(fs.readFileSync(path.join(MIGRATIONS_DIR, m.name, 'migration.sql'))).digest('hex'));
      expect(rows[i]!.finished_at).toBeInstanceOf(Date);
      expect(rows[i]!.applied_steps_count).toBe(1);
    }
  });

  test('concurrent runners apply each migration exactly once', async () => {
    const results = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
    const applied = results.flatMap((r) => r.applied);
    expect(applied.sort()).toEqual(listMigrations().map((m) => m.name).sort());
    const count = await query<{ n: string }>(db.url, 'SELECT count(*)::text AS n FROM _prisma_migrations');
    expect(Number(count[0]!.n)).toBe(listMigrations().length);
  });

  test('refuses a migration edited after it was applied', async () => {
    const dir = copyMigrations();
    await migrate(db.url, dir);
    const first = listMigrations(dir)[0]!.name;
    fs.appendFileSync(path.join(dir, first, 'migration.sql'), '\n-- edited\n');
    await expect(migrate(db.url, dir)).rejects.toThrow(/modified after it was applied/);
  });

  test('a failing migration leaves neither its changes nor a record behind', async () => {
    const dir = copyMigrations();
    fs.mkdirSync(path.join(dir, '99990101000000_broken'));
    fs.writeFileSync(path.join(dir, '99990101000000_broken', 'migration.sql'), 'CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;\n');
    await expect(migrate(db.url, dir)).rejects.toThrow(/99990101000000_broken failed/);
    const tables = await query<{ n: string }>(db.url, "SELECT count(*)::text AS n FROM information_schema.tables WHERE table_name = 'half_done'");
    expect(tables[0]!.n).toBe('0');
    const recorded = await query<{ n: string }>(db.url, "SELECT count(*)::text AS n FROM _prisma_migrations WHERE migration_name = '99990101000000_broken'");
    expect(recorded[0]!.n).toBe('0');
    // The good migrations before it were applied and kept.
    const good = await query<{ n: string }>(db.url, 'SELECT count(*)::text AS n FROM _prisma_migrations');
    expect(Number(good[0]!.n)).toBe(listMigrations().length);
  });
});
