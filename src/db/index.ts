// Opens the configured database: a real Postgres URL, or the embedded PGlite under the data dir. Either way the
// schema is migrated before the first query: with DATABASE_MIGRATION_URL (the tables' owner) when it is set, and
// then every query runs as DATABASE_URL's role, which must own nothing (src/db/runtime-role.ts).
import type { DatabaseConfig } from '../config';
import { createPrismaClient, type Db } from './client';
import { startEmbeddedPostgres } from './embedded';
import { migrate } from './migrate';
import { assertRuntimeRole, createRuntimeRole } from './runtime-role';

export interface Database {
  prisma: Db;
  /** Connection URL usable by other `pg` clients (the job queue, tests). */
  url: string;
  kind: DatabaseConfig['kind'];
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openDatabase(cfg: DatabaseConfig, opts: { extraConnections?: number } = {}): Promise<Database> {
  const embedded =
    cfg.kind === 'embedded'
      ? await startEmbeddedPostgres({ dataDir: cfg.dataDir, maxConnections: cfg.poolSize + 2 + (opts.extraConnections ?? 0) })
      : undefined;
  const url = embedded ? embedded.url : (cfg as { url: string }).url;
  const migrationUrl = cfg.kind === 'postgres' ? cfg.migrationUrl : undefined;
  try {
    if (migrationUrl && cfg.kind === 'postgres' && cfg.ensureRuntimeRole) {
      // The deployed stack's case: both credentials are generated secrets, so the role is made from them; this
      // migrates with the owner first, and is idempotent, so every cold start may run it.
      const runtime = new URL(url);
      await createRuntimeRole(migrationUrl, { name: decodeURIComponent(runtime.username), ...(runtime.password ? { password: decodeURIComponent(runtime.password) } : {}) });
    } else {
      await migrate(migrationUrl ?? url);
    }
    // Asking for separate credentials and then running as the owner anyway would be a silent downgrade.
    if (migrationUrl) await assertRuntimeRole(url);
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  // PGlite is one database session: the socket server feeds every client's protocol messages into it, so two pooled
  // connections interleave mid-statement and corrupt each other's results under concurrency. One connection makes
  // Prisma queue queries (and hold the session for a whole interactive transaction), which is what a single-session
  // database needs. Code must therefore never query through the outer client inside a $transaction callback.
  const prisma = createPrismaClient(url, cfg.kind === 'embedded' ? 1 : cfg.poolSize);
  return {
    prisma,
    url,
    kind: cfg.kind,
    async ping() {
      await prisma.$queryRaw`SELECT 1`;
    },
    async close() {
      await prisma.$disconnect();
      await embedded?.stop();
    },
  };
}
