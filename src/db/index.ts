// Opens the configured database: a real Postgres URL, or the embedded PGlite under the data dir. Either way the
// schema is migrated before the first query.
import type { DatabaseConfig } from '../config';
import { createPrismaClient, type Db } from './client';
import { startEmbeddedPostgres } from './embedded';
import { migrate } from './migrate';

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
  try {
    await migrate(url);
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  const prisma = createPrismaClient(url, cfg.poolSize);
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
