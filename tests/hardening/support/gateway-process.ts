// A real gateway (`pretext serve`) as a child process on a loopback port, with its data folder, database and object
// store outside it, so it can be SIGKILLed and started again against the same state. Its pino log (stdout, JSON
// lines) is kept, so tests can wait on what the gateway itself reports (a reconciler pass).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface GatewayProcess {
  url: string;
  pid: number;
  /** Parsed JSON log lines so far. */
  logs: Array<Record<string, unknown>>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
}

const ENTRY = path.resolve(__dirname, 'serve-child.ts');

export async function startGatewayProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<GatewayProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', LOG_LEVEL: 'debug', HOST: '127.0.0.1', PORT: '0', ...env },
  });
  const logs: Array<Record<string, unknown>> = [];
  let text = '';
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start in ${timeoutMs} ms: ${err.slice(-2000)}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      let nl: number;
      while ((nl = text.indexOf('\n')) >= 0) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        if (line.startsWith('{')) {
          try {
            logs.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            /* a partial or foreign line */
          }
        }
        const m = /GraphQL:\s+(http:\/\/127\.0\.0\.1:\d+)\/graphql/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening: ${err.slice(-2000)}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    logs,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
