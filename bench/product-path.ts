// Product-path benchmark (issue 11, "the product path reproduces the bench"): does a user who knows nothing of SSL
// get the benchmark's result through the product? It runs, as a user would, on the zero-config platform:
//   `npm start` (embedded PGlite, local object store, local dispatcher: real trainer child processes)
//   → tenant → dataset upload of the labeled train/test folder → `pretext train --pretext contrastive` with NO
//   hyperparameters (the platform recipe) → `pretext finetune --mode full --label-fraction F --seed s` per seed
//   → the fine-tuned version's evaluation report (the test split, as the bench's arm)
// and, in the same run afterwards (never at the same time), the label-efficiency bench's sslFinetune arm at the same
// fraction and seeds (`--reference <bench.json>` reuses a saved bench JSON instead). Reports both means, the per-seed
// values and the gap in points; the goal is |gap| ≤ 1 point.
// Run: npx tsx bench/product-path.ts --data ../shared/datasets/fashion-mnist --modality IMAGE --image 28x28x1 \
//        --label-fraction 0.01 --seeds 3 > product-path.json
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Modality } from '../src/ingest/types';
import { run as runLabelEfficiency, type LabelEfficiencyResult } from './label-efficiency';

const execFileP = promisify(execFile);
const root = join(__dirname, '..');

export interface ProductPathOptions {
  data: string;
  modality: Modality;
  /** IMAGE: HxWxC for the upload (e.g. 28x28x1); SEQUENCE: LxF. */
  shape?: string;
  labelFraction: number;
  seeds: number;
  /** A saved `bench/label-efficiency.ts` JSON to compare with instead of running the bench arm here. */
  reference?: string;
  log: (m: string) => void;
}

export interface ProductPathResult {
  benchmark: 'product-path';
  modality: Modality;
  labelFraction: number;
  seeds: number[];
  product: { perSeed: number[]; mean: number; pretrainSeconds: number; finetuneSeconds: number[]; recipe: unknown; runId: string };
  bench: { perSeed: number[]; mean: number; source: 'same-run' | string; pretrainSeconds: number };
  /** product.mean − bench.mean, accuracy points. */
  gapPoints: number;
  withinOnePoint: boolean;
  seconds: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** `npm start` in a fresh data dir; resolves with its URL and operator key. */
function startPlatform(dataDir: string, log: (m: string) => void): Promise<{ url: string; operatorKey: string; server: ChildProcess }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PRETEXT_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.S3_BUCKET;
  delete env.PRETEXT_ADMIN_KEY;
  const server = spawn(process.execPath, [join(root, 'scripts', 'start.js')], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the platform did not start within 300 s')), 300_000);
    server.on('exit', (code) => reject(new Error(`the platform exited early (code ${code}):\n${out}`)));
    server.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /GraphQL:\s+(http:\/\/\S+)\/graphql/.exec(out)?.[1];
      const operatorKey = /\n\s+(pt_operator_\S+)/.exec(out)?.[1];
      if (!url || !operatorKey) return;
      clearTimeout(timer);
      log(`platform up at ${url}`);
      resolve({ url, operatorKey, server });
    });
  });
}

export async function run(opts: ProductPathOptions): Promise<ProductPathResult> {
  const started = performance.now();
  const seeds = Array.from({ length: opts.seeds }, (_, i) => i);
  const dataDir = mkdtempSync(join(tmpdir(), 'pretext-product-path-'));
  const { url, operatorKey, server } = await startPlatform(dataDir, opts.log);
  let product: ProductPathResult['product'];
  try {
    const cli = async <T>(args: string[], key: string): Promise<T> => {
      const { stdout } = await execFileP(process.execPath, [join(root, 'bin', 'pretext.js'), ...args, '--json'], {
        env: { ...process.env, PRETEXT_URL: url, PRETEXT_API_KEY: key },
        maxBuffer: 64 * 2 ** 20,
      });
      return JSON.parse(stdout) as T;
    };
    const tenant = await cli<{ adminKey: string }>(['tenant', 'create', 'bench'], operatorKey);
    const key = tenant.adminKey;
    const ds = await cli<{ id: string }>(['dataset', 'create', 'bench-data', '--modality', opts.modality.toLowerCase()], key);
    const shapeFlag = opts.shape ? (opts.modality === 'IMAGE' ? ['--image', opts.shape] : ['--sequence', opts.shape]) : [];
    const version = await cli<{ id: string; status: string; stats: { rows: number } }>(['dataset', 'upload', ds.id, opts.data, ...shapeFlag], key);
    if (version.status !== 'READY') throw new Error(`dataset upload ended ${version.status}: ${JSON.stringify(version)}`);
    opts.log(`dataset READY: ${version.stats.rows} rows`);
    // Only the data and the pretext: everything else is the platform's default recipe.
    const t0 = performance.now();
    const startedRun = await cli<{ run: { id: string }; experiment: { id: string } }>(
      ['train', '--dataset-version', version.id, '--pretext', 'contrastive', '--name', 'bench-ssl'],
      key,
    );
    const pre = await cli<{ status: string; error?: string }>(['runs', 'watch', startedRun.run.id], key);
    if (pre.status !== 'SUCCEEDED') throw new Error(`pretraining run ${pre.status}: ${pre.error ?? ''}`);
    const pretrainSeconds = (performance.now() - t0) / 1000;
    const recipe = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: 'query($id: ID!) { experiment(id: $id) { encoder hyperparameters } }', variables: { id: startedRun.experiment.id } }),
    }).then((r) => r.json() as Promise<{ data?: { experiment: unknown } }>);
    opts.log(`pretraining SUCCEEDED in ${pretrainSeconds.toFixed(0)} s`);
    const perSeed: number[] = [];
    const finetuneSeconds: number[] = [];
    for (const seed of seeds) {
      const t1 = performance.now();
      const ft = await cli<{ run: { status: string }; modelVersion: { evaluation: { accuracy?: number } | null } }>(
        ['finetune', '--model', 'bench-ssl@v1', '--dataset-version', version.id, '--task', 'classification', '--mode', 'full',
          '--label-fraction', String(opts.labelFraction), '--seed', String(seed), '--name', `bench-ft-${seed}`, '--wait'],
        key,
      );
      const acc = ft.modelVersion.evaluation?.accuracy;
      if (typeof acc !== 'number') throw new Error(`fine-tune seed ${seed}: no accuracy in ${JSON.stringify(ft.modelVersion.evaluation)}`);
      perSeed.push(acc);
      finetuneSeconds.push((performance.now() - t1) / 1000);
      opts.log(`fine-tune seed ${seed}: accuracy ${(100 * acc).toFixed(1)} (${finetuneSeconds.at(-1)!.toFixed(0)} s)`);
    }
    product = { perSeed, mean: mean(perSeed), pretrainSeconds, finetuneSeconds, recipe: recipe.data?.experiment ?? null, runId: startedRun.run.id };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }

  // The bench's arm, after the product path has stopped (two trainings at once would share the two cores).
  let reference: LabelEfficiencyResult;
  let source: string;
  if (opts.reference) {
    reference = JSON.parse(readFileSync(opts.reference, 'utf8')) as LabelEfficiencyResult;
    source = opts.reference;
  } else {
    reference = await runLabelEfficiency({ data: opts.data, modality: opts.modality, fractions: [opts.labelFraction], seeds: opts.seeds, log: (m) => opts.log(`bench: ${m}`) });
    source = 'same-run';
  }
  const row = reference.rows.find((r) => r.fraction === opts.labelFraction);
  if (!row) throw new Error(`the reference has no row for fraction ${opts.labelFraction}`);
  const benchSeeds = row.perSeed.sslFinetune.slice(0, opts.seeds);
  const bench = { perSeed: benchSeeds, mean: mean(benchSeeds), source, pretrainSeconds: reference.pretrain.seconds };
  const gapPoints = Number((100 * (product.mean - bench.mean)).toFixed(2));
  return {
    benchmark: 'product-path', modality: opts.modality, labelFraction: opts.labelFraction, seeds, product, bench, gapPoints,
    withinOnePoint: Math.abs(gapPoints) <= 1, seconds: (performance.now() - started) / 1000,
  };
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  run({
    data: argValue(args, '--data') ?? '../shared/datasets/fashion-mnist',
    modality: (argValue(args, '--modality') ?? 'IMAGE') as Modality,
    shape: argValue(args, '--image') ?? argValue(args, '--sequence'),
    labelFraction: Number(argValue(args, '--label-fraction') ?? 0.01),
    seeds: Number(argValue(args, '--seeds') ?? 3),
    reference: argValue(args, '--reference'),
    log: (m) => console.error(`[product-path] ${m}`),
  })
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
