// CLI start-up time: wall time of `pretext --help` and `pretext models list --json` as a new process, the way a user
// runs them (node + bin/pretext.js, the compiled CLI), repeated; mean, std, min and max in seconds. `models list`
// goes to PRETEXT_URL when `url` is given (a running server; PRETEXT_API_KEY from the environment), else to a
// loopback port that refuses connections, so the figure is start-up + one failed request. Optional: the same
// through `npx pretext` (npm's own start-up on top). Goal (judged by the reader): ≤ 0.5 s each on the 2-core box.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export interface CliStartupOptions {
  quick?: boolean;
  /** Runs per command (default 10, 5 with quick). */
  repetitions?: number;
  /** A running Pretext server for `models list`; default: a refused loopback connection. */
  url?: string;
  /** Also time `npx pretext --help` (npm's start-up included). Default true unless quick. */
  npx?: boolean;
}

export interface Timing { runs: number; meanSeconds: number; stdSeconds: number; minSeconds: number; maxSeconds: number; exitCodes: number[] }

// bench/ sits beside src/ both in the source tree and in dist/, so the project root is one or two levels up.
function projectRoot(): string {
  for (const up of ['..', join('..', '..')]) {
    const root = resolve(__dirname, up);
    if (existsSync(join(root, 'package.json')) && existsSync(join(root, 'bin', 'pretext.js'))) return root;
  }
  throw new Error('cli-startup: cannot find the project root (bin/pretext.js)');
}

/** A loopback port nothing listens on: bound, then released. */
async function refusedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function time(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, runs: number): Timing {
  spawnSync(cmd, args, { env, cwd, stdio: 'ignore' }); // warm the file cache; not counted
  const secs: number[] = [];
  const exitCodes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env, cwd, stdio: 'ignore' });
    secs.push(Number(process.hrtime.bigint() - t0) / 1e9);
    exitCodes.push(r.status ?? -1);
  }
  const mean = secs.reduce((a, b) => a + b, 0) / runs;
  const std = Math.sqrt(secs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, runs - 1));
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return { runs, meanSeconds: r3(mean), stdSeconds: r3(std), minSeconds: r3(Math.min(...secs)), maxSeconds: r3(Math.max(...secs)), exitCodes: [...new Set(exitCodes)] };
}

export async function run(opts: CliStartupOptions = {}) {
  const root = projectRoot();
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) throw new Error('cli-startup: build first (npm run build)');
  const runs = opts.repetitions ?? (opts.quick ? 5 : 10);
  const bin = join(root, 'bin', 'pretext.js');
  const url = opts.url ?? `http://127.0.0.1:${await refusedPort()}`;
  const env = { ...process.env, PRETEXT_URL: url, PRETEXT_API_KEY: process.env.PRETEXT_API_KEY ?? 'pt_bench_none' };
  const node = process.execPath;
  const result = {
    benchmark: 'cli-startup',
    goalSeconds: 0.5,
    modelsListTarget: opts.url ? 'server' : 'refused connection',
    nodeBaseline: time(node, ['-e', '0'], env, root, runs),
    help: time(node, [bin, '--help'], env, root, runs),
    modelsList: time(node, [bin, 'models', 'list', '--json'], env, root, runs),
    npxHelp: (opts.npx ?? !opts.quick) ? time('npx', ['pretext', '--help'], env, root, Math.min(runs, 5)) : null,
  };
  return result;
}

if (require.main === module) {
  // Direct run: `npx tsx bench/cli-startup.ts [--quick] [--url http://...]` prints the JSON result.
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--url');
  run({ quick: argv.includes('--quick'), ...(at >= 0 && argv[at + 1] ? { url: argv[at + 1] } : {}) }).then((r) => console.log(JSON.stringify(r, null, 2)));
}
