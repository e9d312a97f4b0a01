// Zero-config Postgres: PGlite (PostgreSQL compiled to WASM) behind a loopback wire-protocol socket, so the app,
// the migration runner and the job queue all use the same `pg` driver code paths as against a real server.
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite on `dataDir` (or in memory for `memory://`) and serves it on 127.0.0.1 on a free port.
 * `maxConnections` must cover the pool size plus the queue's connections: the socket server multiplexes clients
 * onto PGlite's single session and refuses connections beyond the limit.
 */
export async function startEmbeddedPostgres(opts: { dataDir: string; maxConnections: number }): Promise<EmbeddedPostgres> {
  if (opts.dataDir !== 'memory://') fs.mkdirSync(opts.dataDir, { recursive: true });
  const db = await PGlite.create(opts.dataDir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: opts.maxConnections });
  await server.start();
  const url = `postgresql://postgres:postgres@${server.getServerConn()}/postgres?sslmode=disable`;
  let stopped = false;
  return {
    url,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await db.close();
    },
  };
}
