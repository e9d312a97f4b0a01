// loadDatasetFromPath: reads a local file or folder straight into rows (no store, no shards), for
// `pretext train --local --data DIR` and benchmarks. A benchmark data folder holds train.<ext> + test.<ext> or IDX
// train-/test- pairs; the file names map to splits, other files use the hash split rule.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { ProblemSink } from './errors';
import { resolveLimits, type IngestLimits } from './limits';
import { exampleToRow } from './process';
import { planUnits, readUnit } from './readers';
import { validateShape } from './shape';
import { ShapeLock, type ReadContext, type SourceFile } from './source';
import { assignSplit, contentBytes, makeSplitRule, type SplitRule } from './split';
import type { Modality, Row, RowShape } from './types';

export interface LoadOptions {
  modality: Modality;
  /** Declared image size; when omitted it is taken from the IDX header or the first image. */
  image?: { height: number; width: number; channels: 1 | 3 };
  /**
   * Declared sequence shape; features default to what the first file shows, length to variable. `sampleRate` makes
   * it an audio-clip dataset (0: the first recording's rate); WAV entries of archives are always clips.
   */
  sequence?: { length: number | null; features?: number; sampleRate?: number };
  limits?: Partial<IngestLimits>;
  split?: Partial<Pick<SplitRule, 'seed' | 'validation' | 'test'>>;
}

export interface LoadedDataset {
  shape: RowShape;
  /** Source files in reading order (relative to the folder). */
  files: string[];
  /** Rows in source order; throws IngestError (after the last good row) when problems were found. */
  rows: AsyncIterable<Row>;
}

const IGNORED = /^(\.|readme|license|licence)/i;

async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (IGNORED.test(e.name) || e.name === '__MACOSX') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  await walk(root);
  return out;
}

function initialShape(opts: LoadOptions): RowShape {
  switch (opts.modality) {
    case 'TEXT':
      return { modality: 'TEXT' };
    case 'IMAGE':
      return opts.image ? validateShape({ modality: 'IMAGE', ...opts.image }) : { modality: 'IMAGE', height: 0, width: 0, channels: 1 };
    case 'SEQUENCE':
      return validateShape({
        modality: 'SEQUENCE', length: opts.sequence?.length ?? null, features: opts.sequence?.features ?? 0,
        ...(opts.sequence?.sampleRate !== undefined ? { sampleRate: opts.sequence.sampleRate } : {}),
      }, true);
    default:
      throw new RangeError(`Unsupported modality: "${String(opts.modality)}". Should be one of: TEXT, IMAGE, SEQUENCE.`);
  }
}

export async function loadDatasetFromPath(path: string, opts: LoadOptions): Promise<LoadedDataset> {
  const limits = resolveLimits(opts.limits);
  const rule = makeSplitRule(opts.split);
  const info = await stat(path);
  const abs = info.isDirectory() ? await listFiles(path) : [path];
  const files: SourceFile[] = abs.map((p) => ({
    name: info.isDirectory() ? relative(path, p).split(sep).join('/') : basename(p),
    open: () => createReadStream(p),
  }));
  const problems = new ProblemSink(limits.maxProblems);
  const lock = new ShapeLock(initialShape(opts));
  const ctx: ReadContext = { lock, limits, problems };
  const units = planUnits(files, opts.modality, problems, true);
  if (files.length === 0) problems.report({ file: path }, 'EMPTY_FILE', 'folder holds no data files');
  problems.throwIfAny();

  async function* generate(): AsyncGenerator<Row> {
    let index = 0;
    for (const unit of units) {
      for await (const ex of readUnit(unit, ctx)) {
        yield exampleToRow(ex, index++, unit.split ?? assignSplit(contentBytes(ex), rule));
      }
    }
    if (index === 0 && problems.count === 0) problems.report({ file: path }, 'EMPTY_FILE', 'no examples found');
    problems.throwIfAny();
  }

  // Pull the first row now so that open dimensions (image size, sequence features) are fixed before returning.
  const it = generate();
  const first = await it.next();
  async function* rows(): AsyncGenerator<Row> {
    if (first.done) return;
    yield first.value;
    yield* { [Symbol.asyncIterator]: () => it };
  }
  return { shape: lock.shape, files: files.map((f) => f.name), rows: rows() };
}
