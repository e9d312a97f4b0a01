// Applies prisma/migrations/<timestamp>_<name>/migration.sql in order and records them in `_prisma_migrations`
// exactly as `prisma migrate deploy` does (same table, same sha256 checksum), so either tool can take over.
// We need our own runner because the Prisma schema engine binary cannot be downloaded on every machine.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { PROJECT_ROOT } from '../version';

/** Arbitrary constant shared by every Pretext process: only one migrator runs at a time per database. */
const MIGRATION_LOCK_ID = 7_202_611_27;

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'prisma', 'migrations');

export interface MigrationResult { applied: string[]; alreadyApplied: string[] }

export class MigrationError extends Error {
  constructor(message: string, readonly migration?: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

export function listMigrations(dir = MIGRATIONS_DIR): Array<{ name: string; sql: string; checksum: string }> {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: crypto.createHash('sha256').update(sql).digest('hex') };
    });
}

/**
 * Runs in this process one after another per database: the advisory lock serializes separate processes, but
 * PGlite multiplexes every connection onto one session, where advisory locks are re-entrant and do not exclude.
 */
const inProcess = new Map<string, Promise<unknown>>();

export function migrate(databaseUrl: string, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const previous = inProcess.get(databaseUrl) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => migrateLocked(databaseUrl, dir));
  inProcess.set(databaseUrl, run);
  void run.finally(() => {
    if (inProcess.get(databaseUrl) === run) inProcess.delete(databaseUrl);
  }).catch(() => undefined);
  return run;
}

async function migrateLocked(databaseUrl: string, dir: string): Promise<MigrationResult> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
        "id" VARCHAR(36) PRIMARY KEY NOT NULL,
        "checksum" VARCHAR(64) NOT NULL,
        "finished_at" TIMESTAMPTZ,
        "migration_name" VARCHAR(255) NOT NULL,
        "logs" TEXT,
        "rolled_back_at" TIMESTAMPTZ,
        "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
        "applied_steps_count" INTEGER NOT NULL DEFAULT 0
      )`);
      const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
        'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
      );
      const done = new Map(rows.map((r) => [r.migration_name, r]));
      const result: MigrationResult = { applied: [], alreadyApplied: [] };
      for (const m of listMigrations(dir)) {
        const prior = done.get(m.name);
        if (prior) {
          if (!prior.finished_at) {
            throw new MigrationError(`Migration ${m.name} started earlier but never finished; resolve it by hand before continuing`, m.name);
          }
          if (prior.checksum !== m.checksum) {
            throw new MigrationError(`Migration ${m.name} was modified after it was applied (checksum mismatch)`, m.name);
          }
          result.alreadyApplied.push(m.name);
          continue;
        }
        const id = crypto.randomUUID();
        // DDL is transactional in Postgres: a failing migration leaves neither schema changes nor a record behind.
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query(
            `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
             VALUES ($1, $2, $3, now(), now(), 1)`,
            [id, m.checksum, m.name],
          );
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new MigrationError(`Migration ${m.name} failed: ${(err as Error).message}`, m.name);
        }
        result.applied.push(m.name);
      }
      return result;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    await client.end();
  }
}
