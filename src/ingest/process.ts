// processDatasetVersion: uploaded files → validated, split, Arrow-sharded rows + manifest.json in the object store.
// All or nothing: on any problem every object already written is deleted before the error is thrown.
import { IngestError, ProblemSink } from './errors';
import { resolveLimits, type IngestLimits } from './limits';
import { planUnits, readUnit } from './readers';
import { validateShape } from './shape';
import { ShardWriter } from './shard-writer';
import { ShapeLock, type Example, type ReadContext, type SourceFile, type SourceUnit } from './source';
import { assignSplit, contentBytes, makeSplitRule, type SplitRule } from './split';
import { RunningStats } from './stats';
import type { IngestStore } from './store';
import type { Manifest, Row, RowShape, ShardRef, Split } from './types';

export interface UploadedFile extends SourceFile {
  bytes: number;
  sha256: string;
}

export interface ProcessOptions {
  files: UploadedFile[];
  shape: RowShape;
  store: IngestStore;
  /** Tenant-scoped version prefix, e.g. tenants/<t>/datasets/<d>/versions/<v>. */
  keyPrefix: string;
  limits?: Partial<IngestLimits>;
  split?: Partial<Pick<SplitRule, 'seed' | 'validation' | 'test'>>;
  /** Map train.* / validation.* / test.* (and IDX train-/t10k-) files to their split (default true). */
  splitByFileName?: boolean;
  onProgress?: (p: { rows: number; file: string }) => void;
}

export function manifestKey(keyPrefix: string): string {
  return `${keyPrefix.replace(/\/+$/, '')}/manifest.json`;
}

export function exampleToRow(ex: Example, index: number, split: Split): Row {
  switch (ex.modality) {
    case 'TEXT':
      return { modality: 'TEXT', index, label: ex.label, split, text: ex.text };
    case 'IMAGE':
      return { modality: 'IMAGE', index, label: ex.label, split, pixels: ex.pixels };
    case 'SEQUENCE':
      return { modality: 'SEQUENCE', index, label: ex.label, split, values: ex.values, length: ex.length };
  }
}

/**
 * Units whose files are byte-identical to an earlier unit's (by declared sha256) are read once: `unique` in upload
 * order, and `duplicates` (later head file name → earlier head file name) for the manifest.
 */
export function dedupeUnits(units: SourceUnit[]): { unique: SourceUnit[]; duplicates: Record<string, string> } {
  const seen = new Map<string, string>();
  const duplicates: Record<string, string> = {};
  const unique: SourceUnit[] = [];
  for (const unit of units) {
    const head = unit.files[0]!;
    // Without a declared checksum a file is only identical to itself.
    const key = unit.files.map((f) => (f.sha256 ? f.sha256.toLowerCase() : `name:${f.name}`)).join('+');
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      duplicates[head.name] = earlier; // identical content: read once, never counted twice
      continue;
    }
    seen.set(key, head.name);
    unique.push(unit);
  }
  return { unique, duplicates };
}

export interface UnitReadState {
  ctx: ReadContext;
  rule: SplitRule;
  stats: RunningStats;
  writer: ShardWriter;
  /** Filled with the files whose name fixed their split. */
  byFile: Record<string, Split>;
  onProgress?: (p: { rows: number; file: string }) => void;
}

/** Reads units in order into the writer; row indices continue from stats.rows. Problems go to ctx.problems. */
export async function readUnits(units: SourceUnit[], st: UnitReadState): Promise<void> {
  const { ctx, rule, stats, writer, byFile } = st;
  for (const unit of units) {
    const head = unit.files[0]!;
    if (unit.split) for (const f of unit.files) byFile[f.name] = unit.split;
    for await (const ex of readUnit(unit, ctx)) {
      // Once something is wrong, keep reading only to list more problems; nothing more is written.
      if (ctx.problems.count > 0) continue;
      const row = exampleToRow(ex, stats.rows, unit.split ?? assignSplit(contentBytes(ex), rule));
      stats.add(row);
      await writer.add(row);
      if (st.onProgress && stats.rows % 10_000 === 0) st.onProgress({ rows: stats.rows, file: head.name });
    }
  }
}

export interface ManifestParts {
  /** The declared shape, plus what the data fixed (an audio archive's sample rate). */
  shape: RowShape;
  rule: SplitRule;
  byFile: Record<string, Split>;
  stats: RunningStats;
  shards: ShardRef[];
  files: UploadedFile[];
  duplicates: Record<string, string>;
}

export function assembleManifest(m: ManifestParts): Manifest {
  const { stats } = m;
  const { labels, histogram } = stats.labels();
  return {
    formatVersion: 1,
    shape: m.shape,
    rows: stats.rows,
    splits: stats.splits,
    splitRule: Object.keys(m.byFile).length > 0 ? { ...m.rule, byFile: m.byFile } : m.rule,
    labels,
    labelHistogram: histogram,
    shards: m.shards,
    sources: m.files.map((f) => ({ name: f.name, bytes: f.bytes, sha256: f.sha256 })),
    stats: {
      bytes: m.files.reduce((s, f) => s + f.bytes, 0),
      ...(m.shape.modality === 'TEXT' ? { characters: stats.characters, tokens: stats.tokens } : {}),
      ...(m.shape.modality === 'SEQUENCE'
        ? { sequenceLength: { min: stats.minLength, max: stats.maxLength, mean: stats.totalLength / stats.rows } }
        : {}),
    },
    ...(Object.keys(m.duplicates).length > 0 ? { duplicates: m.duplicates } : {}),
  };
}

export async function processDatasetVersion(opts: ProcessOptions): Promise<Manifest> {
  const shape = validateShape(opts.shape);
  const limits = resolveLimits(opts.limits);
  const rule = makeSplitRule(opts.split);
  if (!opts.keyPrefix || opts.keyPrefix.includes('..')) throw new RangeError(`keyPrefix must be a non-empty key prefix without "..", got "${opts.keyPrefix}".`);
  if (opts.files.length === 0) throw new IngestError([{ file: '(none)', code: 'EMPTY_FILE', message: 'the version has no files' }], false);

  const problems = new ProblemSink(limits.maxProblems);
  const ctx: ReadContext = { lock: new ShapeLock(shape), limits, problems };
  const writer = new ShardWriter(opts.store, opts.keyPrefix, shape.modality, limits.shardMaxBytes, limits.shardMaxRows);
  const mKey = manifestKey(opts.keyPrefix);
  let manifestWritten = false;
  try {
    const units = planUnits(opts.files, shape.modality, problems, opts.splitByFileName ?? true);
    const stats = new RunningStats();
    const byFile: Record<string, Split> = {};
    const { unique, duplicates } = dedupeUnits(units);
    await readUnits(unique, { ctx, rule, stats, writer, byFile, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
    problems.throwIfAny();
    if (stats.rows === 0) problems.report({ file: opts.files[0]!.name }, 'EMPTY_FILE', 'the version holds no examples');
    problems.throwIfAny();
    await writer.flush();

    const manifest = assembleManifest({ shape: ctx.lock.shape, rule, byFile, stats, shards: writer.shards, files: opts.files, duplicates });
    manifestWritten = true;
    await opts.store.putObject(mKey, Buffer.from(JSON.stringify(manifest, null, 2)), { contentType: 'application/json' });
    return manifest;
  } catch (e) {
    await deleteAll(opts.store, manifestWritten ? [...writer.written, mKey] : writer.written, e);
    throw e;
  }
}

/** Best-effort cleanup of every key written; a failed delete is retried once, then reported with the cause. */
export async function deleteAll(store: IngestStore, keys: string[], cause: unknown): Promise<void> {
  const failed: string[] = [];
  for (const key of keys) {
    try {
      await store.deleteObject(key);
    } catch {
      try {
        await store.deleteObject(key);
      } catch {
        failed.push(key);
      }
    }
  }
  if (failed.length > 0) {
    throw new AggregateError([cause], `Ingest failed and ${failed.length} object(s) could not be deleted: ${failed.join(', ')}`);
  }
}
