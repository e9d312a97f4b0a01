// A throwaway Postgres server of this test's own (initdb into a temp folder, pg_ctl on a free loopback port), so a
// test can stop and start the database under a running platform without touching the shared server. As root the
// server runs as the `postgres` user (Postgres refuses to run as root), through runuser.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface OwnPostgres {
  url: string;
  port: number;
  /** Stops the server: `fast` ends every session (the driver sees "terminating connection"), `immediate` is a crash. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  running(): boolean;
  close(): Promise<void>;
}

/** The folder with initdb and pg_ctl: PG_BIN, else PATH, else the newest /usr/lib/postgresql/<v>/bin. */
export function findPostgresBin(): string | undefined {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) {
    const versions = fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => path.join(root, v, 'bin')));
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(dir);
  return candidates.find((d) => fs.existsSync(path.join(d, 'initdb')) && fs.existsSync(path.join(d, 'pg_ctl')) && fs.existsSync(path.join(d, 'postgres')));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts an own Postgres, or returns why it cannot (no binaries, root without a `postgres` user or runuser).
 * The caller decides whether that is a skip or (under CI) a failure.
 */
export async function startOwnPostgres(): Promise<OwnPostgres | { unavailable: string }> {
  const bin = findPostgresBin();
  if (!bin) return { unavailable: 'no Postgres binaries (initdb, pg_ctl, postgres) in PG_BIN, /usr/lib/postgresql/*/bin or PATH' };
  const asRoot = process.getuid?.() === 0;
  let wrap: (cmd: string, args: string[]) => [string, string[]] = (cmd, args) => [cmd, args];
  let owner: { uid: number; gid: number } | undefined;
  if (asRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    const runuser = spawnSync('sh', ['-c', 'command -v runuser'], { encoding: 'utf8' });
    if (id.status !== 0 || runuser.status !== 0) return { unavailable: 'running as root without a `postgres` user and runuser to start Postgres as' };
    owner = { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
    wrap = (cmd, args) => ['runuser', ['-u', 'postgres', '--', cmd, ...args]];
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgfault-'));
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  if (owner) fs.chownSync(dir, owner.uid, owner.gid);
  const run = (cmd: string, args: string[]) => {
    const [c, a] = wrap(path.join(bin, cmd), args);
    return execFileSync(c, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  };
  try {
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    return { unavailable: `initdb failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}` };
  }
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50 -c shared_buffers=16MB`;
  let alive = false;
  const handle: OwnPostgres = {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      if (alive) return;
      run('pg_ctl', ['-D', data, '-l', logFile, '-o', opts, '-w', '-t', '60', 'start']);
      alive = true;
    },
    async stop(mode = 'fast') {
      if (!alive) return;
      run('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
      alive = false;
    },
    running: () => alive,
    async close() {
      try {
        await handle.stop('immediate');
      } catch {
        /* already gone */
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await handle.start();
  } catch (err) {
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2000) : '';
    fs.rmSync(dir, { recursive: true, force: true });
    return { unavailable: `pg_ctl start failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message} ${log}` };
  }
  return handle;
}
