// Test database selection: real Postgres when DATABASE_URL is set (CI creates a fresh database for the run),
// else an in-memory embedded PGlite per test file. Both go through the same migration runner and driver.
import type { DatabaseConfig } from '../../src/config';

export function testDatabaseConfig(): DatabaseConfig {
  const url = process.env.DATABASE_URL;
  return url ? { kind: 'postgres', url, poolSize: 5 } : { kind: 'embedded', dataDir: 'memory://', poolSize: 5 };
}

export const usingRealPostgres = (): boolean => Boolean(process.env.DATABASE_URL);
