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
    .option('--labels-per-class <list>', 'label-efficiency: labeled rows per class, e.g. 10 (combines with --fractions)')
    .option('--seeds <n>', 'label-efficiency: seeds per arm (default 3)')
    .option('--validation', 'label-efficiency: score on a held-out slice of the train split (for choosing recipes), never the test split')
    .option('--steps <n>', 'label-efficiency: pretraining steps (instead of --budget-seconds)')
    .option('--budget-seconds <n>', 'label-efficiency: pretraining time budget')
    .option('--dim <n>', 'label-efficiency: embedding width')
    .option('--workers <n>', 'embed: inference worker threads of the served platform (default: PRETEXT_INFERENCE_WORKERS)')
    .option('--concurrency <n>', 'embed: concurrent callers of the one-input phases (default 128)')
    .option('--url <url>', 'cli: a running server for `models list` (default: a refused loopback connection)')
    .option('--json', 'machine-readable output (the benchmark JSON object)')
    .action(async (name: string, o: {
      quick?: boolean; json?: boolean; url?: string; data?: string; modality?: string; pretext?: string; fractions?: string; budgetSeconds?: string; dim?: string;
      labelsPerClass?: string; seeds?: string; validation?: boolean; steps?: string; workers?: string; concurrency?: string;
    }) => {
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
          ...(o.labelsPerClass ? { labelsPerClass: o.labelsPerClass.split(',').map(Number) } : {}),
          ...(o.seeds ? { seeds: Number(o.seeds) } : {}),
          ...(o.validation ? { validation: true } : {}),
          ...(o.steps ? { steps: Number(o.steps) } : {}),
          ...(o.budgetSeconds ? { budgetSeconds: Number(o.budgetSeconds) } : {}),
          ...(o.dim ? { dim: Number(o.dim) } : {}),
          log: (m: string) => process.stderr.write(`${m}\n`),
        });
      }
      if (name === 'cli' && o.url) opts.url = o.url;
      if (name === 'embed') {
        // The serving phases (node:http floor, GraphQL batch/single, REST) on a real platform, in the same run as raw.
        const { measureServing } = require(path.join(__dirname, '..', '..', '..', 'bench', 'embed-gateway')) as typeof import('../../../bench/embed-gateway');
        opts.serving = measureServing;
        if (o.workers !== undefined) opts.workers = Number(o.workers);
        if (o.concurrency !== undefined) opts.concurrency = Number(o.concurrency);
        opts.log = (m: string) => process.stderr.write(`${m}\n`);
      }
      const started = Date.now();
      const result = await mod.run(opts);
      print(true, result, () => '');
      if (!o.json) process.stderr.write(`bench ${name} finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    });
}
