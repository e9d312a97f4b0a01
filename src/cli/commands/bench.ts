// `pretext bench <name> [--quick] --json`: runs one benchmark from bench/ and prints its JSON object. A benchmark
// exits 0 even when a goal is missed; whoever reads the JSON judges it.
import path from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../client';
import { print } from '../output';

export const BENCHMARKS = ['ingest', 'train', 'embed', 'label-efficiency', 'cli'] as const;

export function register(program: Command): void {
  program
    .command('bench <name>')
    .description(`Run a benchmark (${BENCHMARKS.join(', ')}) and print its JSON result`)
    .option('--quick', 'a shorter run (smaller sizes, fewer repetitions)')
    .option('--data <dir>', 'label-efficiency: a labeled train/test folder (IDX pairs, train.jsonl + test.jsonl, ...)')
    .option('--modality <modality>', 'label-efficiency: IMAGE, TEXT or SEQUENCE')
    .option('--pretext <pretext>', 'label-efficiency: pretext task (default CONTRASTIVE)')
    .option('--fractions <list>', 'label-efficiency: label fractions, e.g. 0.01,0.1,1')
    .option('--budget-seconds <n>', 'label-efficiency: pretraining time budget')
    .option('--dim <n>', 'label-efficiency: embedding width')
    .option('--url <url>', 'cli: a running server for `models list` (default: a refused loopback connection)')
    .option('--json', 'machine-readable output (the benchmark JSON object)')
    .action(async (name: string, o: { quick?: boolean; json?: boolean; url?: string; data?: string; modality?: string; pretext?: string; fractions?: string; budgetSeconds?: string; dim?: string }) => {
      if (!(BENCHMARKS as readonly string[]).includes(name)) throw new CliError(`Unsupported benchmark: "${name}". Should be one of: ${BENCHMARKS.join(', ')}.`);
      // bench/ sits beside src/ both in the source tree and in dist/.
      const mod = require(path.join(__dirname, '..', '..', '..', 'bench', name === 'cli' ? 'cli-startup' : name)) as { run(opts: Record<string, unknown>): Promise<unknown> };
      const opts: Record<string, unknown> = { quick: !!o.quick };
      if (name === 'ingest' && o.quick) opts.textLines = [10_000, 100_000];
      if (name === 'label-efficiency') {
        if (!o.data || !o.modality) throw new CliError('label-efficiency needs --data <dir> and --modality IMAGE|TEXT|SEQUENCE');
        Object.assign(opts, {
          data: o.data,
          modality: o.modality.toUpperCase(),
          ...(o.pretext ? { pretext: o.pretext.toUpperCase() } : {}),
          ...(o.fractions ? { fractions: o.fractions.split(',').map(Number) } : {}),
          ...(o.budgetSeconds ? { budgetSeconds: Number(o.budgetSeconds) } : {}),
          ...(o.dim ? { dim: Number(o.dim) } : {}),
          log: (m: string) => process.stderr.write(`${m}\n`),
        });
      }
      if (name === 'cli' && o.url) opts.url = o.url;
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
