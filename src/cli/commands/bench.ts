// `pretext bench <name> [--quick] --json`: runs one benchmark from bench/ and prints its JSON object. A benchmark
// exits 0 even when a goal is missed; whoever reads the JSON judges it.
import path from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../client';
import { print } from '../output';

export const BENCHMARKS = ['ingest', 'train', 'embed'] as const;

export function register(program: Command): void {
  program
    .command('bench <name>')
    .description(`Run a benchmark (${BENCHMARKS.join(', ')}) and print its JSON result`)
    .option('--quick', 'a shorter run (smaller sizes, fewer repetitions)')
    .option('--json', 'machine-readable output (the benchmark JSON object)')
    .action(async (name: string, o: { quick?: boolean; json?: boolean }) => {
      if (!(BENCHMARKS as readonly string[]).includes(name)) throw new CliError(`Unsupported benchmark: "${name}". Should be one of: ${BENCHMARKS.join(', ')}.`);
      // bench/ sits beside src/ both in the source tree and in dist/.
      const mod = require(path.join(__dirname, '..', '..', '..', 'bench', name)) as { run(opts: Record<string, unknown>): Promise<unknown> };
      const opts: Record<string, unknown> = { quick: !!o.quick };
      if (name === 'ingest' && o.quick) opts.textLines = [10_000, 100_000];
      if (name === 'embed') {
        // GraphQL `embed` over HTTP on a real platform, measured against the raw session in the same run.
        const { measureGateway } = require(path.join(__dirname, '..', '..', '..', 'bench', 'embed-gateway')) as typeof import('../../../bench/embed-gateway');
        opts.gateway = measureGateway;
      }
      const started = Date.now();
      const result = await mod.run(opts);
      print(true, result, () => '');
      if (!o.json) process.stderr.write(`bench ${name} finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    });
}
