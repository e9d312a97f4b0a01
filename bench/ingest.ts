// Ingest throughput and memory: generated text of 10 k / 100 k / 1 M lines and the Fashion-MNIST IDX files, each
// ingested by processDatasetVersion (parse, validate, split, Arrow shards to a temp folder store) in its own child
// process so that peak RSS of one case does not pollute the next. Goal (judged by the reader, never enforced
// here): peak RSS flat, within 200 MB, from 10 k to 1 M rows.
import { fork } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { createFolderStore, processDatasetVersion, type RowShape } from '../src/ingest';

export interface IngestBenchOptions {
  /** Line counts of the generated text cases (default 10 k, 100 k, 1 M). */
  textLines?: number[];
  /** Folder with Fashion-MNIST IDX files (default ../shared/datasets/fashion-mnist from the project root). */
  fashionDir?: string;
}

export interface IngestBenchCase {
  name: string;
  rows: number;
  rowsPerSecond: number;
  peakRssMb: number;
  seconds?: number;
  shards?: number;
  skipped?: string;
}

interface ChildJob {
  files: { path: string; name: string }[];
  shape: RowShape;
}

const CHILD_FLAG = '--pretext-ingest-bench-child';

/** Deterministic, varied text lines (a tiny LCG picks words), written straight to disk. */
async function writeTextFile(path: string, lines: number): Promise<void> {
  const words = ['data', 'model', 'encoder', 'the', 'of', 'signal', 'pretext', 'tensor', 'batch', 'learning', 'shard', 'arrow', 'vector'];
  let s = 12345;
  const out = createWriteStream(path);
  let buf = '';
  for (let i = 0; i < lines; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const n = 4 + (s % 20);
    let line = `${i}`;
    for (let k = 0; k < n; k++) {
      s = (s * 1103515245 + 12345) >>> 0;
      line += ' ' + words[s % words.length];
    }
    buf += line + '\n';
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

function runChild(job: ChildJob): Promise<{ rows: number; seconds: number; peakRssMb: number; shards: number }> {
  return new Promise((ok, fail) => {
    // Same loader flags as this process (tsx when run from source), so the child can load this file again.
    const child = fork(__filename, [CHILD_FLAG, JSON.stringify(job)], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: unknown = null;
    child.on('message', (m) => (result = m));
    child.on('error', fail);
    child.on('exit', (code) => {
      const r = result as { error?: string } | null;
      if (r && !r.error) ok(r as never);
      else fail(new Error(r?.error ?? `bench child exited with code ${code}`));
    });
  });
}

async function childMain(job: ChildJob): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pretext-bench-store-'));
  try {
    const store = createFolderStore(dir);
    const files = job.files.map((f) => ({ name: f.name, bytes: statSync(f.path).size, sha256: '', open: () => createReadStream(f.path) }));
    const t0 = process.hrtime.bigint();
    const manifest = await processDatasetVersion({ files, shape: job.shape, store, keyPrefix: 'bench/v1' });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    // maxRSS is the kernel's high-water mark for this process (KiB).
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    process.send!({ rows: manifest.rows, seconds, peakRssMb, shards: manifest.shards.length });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(opts: IngestBenchOptions = {}): Promise<{ cases: IngestBenchCase[] }> {
  const sizes = opts.textLines ?? [10_000, 100_000, 1_000_000];
  // From the project root (how `pretext bench` runs) or relative to this file (source or dist/ build).
  const fashionDir =
    opts.fashionDir ??
    [resolve('../shared/datasets/fashion-mnist'), resolve(__dirname, '../../shared/datasets/fashion-mnist'), resolve(__dirname, '../../../shared/datasets/fashion-mnist')].find((d) =>
      existsSync(d),
    ) ??
    resolve('../shared/datasets/fashion-mnist');
  const work = await mkdtemp(join(tmpdir(), 'pretext-bench-ingest-'));
  const cases: IngestBenchCase[] = [];
  const record = (name: string, r: { rows: number; seconds: number; peakRssMb: number; shards: number }) =>
    cases.push({
      name,
      rows: r.rows,
      rowsPerSecond: Math.round(r.rows / r.seconds),
      peakRssMb: Math.round(r.peakRssMb * 10) / 10,
      seconds: Math.round(r.seconds * 100) / 100,
      shards: r.shards,
    });
  try {
    for (const n of sizes) {
      const path = join(work, `text-${n}.txt`);
      await writeTextFile(path, n);
      record(`text-${n}`, await runChild({ files: [{ path, name: `text-${n}.txt` }], shape: { modality: 'TEXT' } }));
      await rm(path, { force: true });
    }
    const names = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 'test-images-idx3-ubyte.gz', 'test-labels-idx1-ubyte.gz'];
    if (names.every((n) => existsSync(join(fashionDir, n)))) {
      const job: ChildJob = { files: names.map((n) => ({ path: join(fashionDir, n), name: n })), shape: { modality: 'IMAGE', height: 28, width: 28, channels: 1 } };
      record('fashion-mnist-idx', await runChild(job));
    } else {
      cases.push({ name: 'fashion-mnist-idx', rows: 0, rowsPerSecond: 0, peakRssMb: 0, skipped: `IDX files not found in ${fashionDir}` });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { cases };
}

if (process.argv[2] === CHILD_FLAG) {
  childMain(JSON.parse(process.argv[3]!) as ChildJob).catch((e) => {
    process.send?.({ error: String((e as Error)?.stack ?? e) });
    process.exitCode = 1;
  });
} else if (require.main === module) {
  // Direct run: `npx tsx bench/ingest.ts [lines,...]` prints the JSON result.
  const arg = process.argv[2];
  run(arg ? { textLines: arg.split(',').map(Number) } : {}).then((r) => console.log(JSON.stringify(r, null, 2)));
}
