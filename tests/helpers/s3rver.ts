// Runs s3rver (an S3-protocol server) as a child process on a loopback port, for the S3 adapter's tests.
// It needs --openssl-legacy-provider for ListObjectsV2 pagination (environment.md). It does NOT verify signatures,
// so it is never used to test authentication.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface S3rverHandle { endpoint: string; bucket: string; stop(): Promise<void> }

export async function startS3rver(bucket = 'pretext-test'): Promise<S3rverHandle> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-s3rver-'));
  const bin = require.resolve('s3rver/bin/s3rver.js');
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', bin, '-d', dir, '-a', '127.0.0.1', '-p', '0', '--configure-bucket', bucket], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on \S*?:(\d+)/i.exec(out) ?? /127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}: ${out}`)));
  });
  return {
    endpoint,
    bucket,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
