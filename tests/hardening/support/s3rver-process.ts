// s3rver (a real S3-protocol server) as a child process that can be stopped and started again on the same loopback
// port and data folder: an object-store outage, then its return with every object still there. Stopping is SIGKILL
// (the store vanishes mid-request, as a crashed or partitioned store does). s3rver does not verify signatures.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface RestartableS3rver {
  endpoint: string;
  bucket: string;
  port: number;
  /** S3_* settings for loadConfig that point a platform at this server. */
  env: Record<string, string>;
  /** Kills the server (SIGKILL); its objects stay in the data folder. */
  kill(): Promise<void>;
  /** Starts it again on the same port and folder. */
  start(): Promise<void>;
  running(): boolean;
  close(): Promise<void>;
}

function launch(dir: string, port: number, bucket: string): Promise<{ child: ChildProcess; port: number }> {
  const bin = require.resolve('s3rver/bin/s3rver.js');
  const child = spawn(process.execPath, ['--openssl-legacy-provider', bin, '-d', dir, '-a', '127.0.0.1', '-p', String(port), '--configure-bucket', bucket], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on \S*?:(\d+)/i.exec(out) ?? /127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        child.stdout!.resume();
        child.stderr!.resume();
        resolve({ child, port: Number(m[1]) });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}: ${out}`)));
  });
}

export async function startRestartableS3rver(bucket = 'pretext-faults'): Promise<RestartableS3rver> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-s3rver-faults-'));
  let { child, port } = await launch(dir, 0, bucket);
  let alive = true;
  const endpoint = `http://127.0.0.1:${port}`;
  const handle: RestartableS3rver = {
    endpoint,
    bucket,
    port,
    env: { S3_BUCKET: bucket, S3_ENDPOINT: endpoint, S3_FORCE_PATH_STYLE: 'true', S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER' },
    async kill() {
      if (!alive) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      alive = false;
    },
    async start() {
      if (alive) return;
      ({ child } = await launch(dir, port, bucket));
      alive = true;
    },
    running: () => alive,
    async close() {
      await handle.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
