// Sharded dataset processing: the map and reduce halves of processDatasetVersion, for versions too large for one
// process (an AWS Batch array job or a Kubernetes Indexed Job of `count` copies, src/jobs/platform-main.ts).
//
// Map (processPart, one per index): every copy plans the same reading units from the same file list and drops the
// same duplicates, so all agree on the unit list without talking to each other. Copy `index` reads one contiguous
// run of units (balanced by declared bytes) and writes its shards under <prefix>/parts/<index>/ with row indices
// local to the part (0, 1, …), then part.json: its statistics, shard list and problems. A part with bad data still
// succeeds as a process (its problems are the result); only an infrastructure failure exits non-zero.
//
// Reduce (mergeParts, in the gateway's worker tick): reads every part.json, and either rejects the version with the
// union of the problems or writes manifest.json. Because the runs are contiguous and in upload order, part p's rows
// are exactly the rows an unsharded pass would have numbered from the row count of parts 0..p-1: each shard of the
// manifest records that offset (ShardRef.indexOffset) and readShards adds it, so row indices, splits (content-hashed)
// and the manifest equal what processDatasetVersion writes for the same files, apart from the shard keys.
import { IngestError, ProblemSink, type Problem } from './errors';
import { resolveLimits, type IngestLimits } from './limits';
import { assembleManifest, dedupeUnits, deleteAll, manifestKey, readUnits, type ProcessOptions, type UploadedFile } from './process';
import { planUnits } from './readers';
import { validateShape } from './shape';
import { ShardWriter } from './shard-writer';
import { ShapeLock, type ReadContext, type SourceUnit } from './source';
import { makeSplitRule, type SplitRule } from './split';
import { mergeStats, RunningStats, statsToJson, type RunningStatsJson } from './stats';
import type { IngestStore } from './store';
import type { Manifest, RowShape, ShardRef, Split } from './types';

export interface PartSpec {
  /** 0-based copy index (AWS_BATCH_JOB_ARRAY_INDEX / JOB_COMPLETION_INDEX / PRETEXT_JOB_INDEX). */
  index: number;
  count: number;
}

/** parts/<index>/part.json: what one copy read and wrote. */
export interface PartResult {
  formatVersion: 1;
  part: PartSpec;
  /** Head file of each unit this part read, in order (the reduce names them when parts disagree on the shape). */
  units: string[];
  /** The declared shape plus what this part's data fixed (sequence features, an audio sample rate). */
  shape: RowShape;
  stats: RunningStatsJson;
  /** Shards with part-local row indices. */
  shards: ShardRef[];
  byFile: Record<string, Split>;
  problems: Problem[];
  truncated: boolean;
}

/** processDatasetVersion's options, plus which copy this is; the part writes under <keyPrefix>/parts/<index>/. */
export type PartOptions = Omit<ProcessOptions, 'onProgress'> & { part: PartSpec };

const pad = (n: number) => String(n).padStart(5, '0');

export function partPrefix(keyPrefix: string, index: number): string {
  return `${keyPrefix.replace(/\/+$/, '')}/parts/${pad(index)}`;
}

export function partResultKey(keyPrefix: string, index: number): string {
  return `${partPrefix(keyPrefix, index)}/part.json`;
}

function checkPart(part: PartSpec): void {
  if (!Number.isInteger(part.count) || part.count < 1 || !Number.isInteger(part.index) || part.index < 0 || part.index >= part.count) {
    throw new RangeError(`part must satisfy 0 ≤ index < count (integers), got index ${part.index} of ${part.count}.`);
  }
}

function unitBytes(u: SourceUnit): number {
  return u.files.reduce((s, f) => s + (f.bytes ?? 0), 0);
}

/**
 * The contiguous run of `units` that copy `index` of `count` reads: unit u goes to the copy whose equal share of the
 * total bytes holds u's middle byte, so copies get about equal bytes (a single huge unit still goes to one copy).
 * Owners never decrease along the list, so each copy's units are contiguous and in upload order. Deterministic.
 */
export function unitsForPart(units: SourceUnit[], part: PartSpec): SourceUnit[] {
  checkPart(part);
  const total = units.reduce((s, u) => s + unitBytes(u), 0);
  if (total === 0) {
    // No declared sizes: split by unit count.
    const lo = Math.floor((part.index * units.length) / part.count);
    return units.slice(lo, Math.floor(((part.index + 1) * units.length) / part.count));
  }
  const out: SourceUnit[] = [];
  let start = 0;
  for (const u of units) {
    const bytes = unitBytes(u);
    const owner = Math.min(part.count - 1, Math.floor(((start + bytes / 2) * part.count) / total));
    if (owner === part.index) out.push(u);
    start += bytes;
  }
  return out;
}

/** Units in reading order, after the same planning and de-duplication every copy does. */
function plan(files: UploadedFile[], shape: RowShape, problems: ProblemSink, splitByFileName: boolean) {
  const units = planUnits(files, shape.modality, problems, splitByFileName);
  return dedupeUnits(units);
}

/**
 * The map half: reads this copy's units into shards under parts/<index>/ and writes part.json (also when the data
 * has problems: they are the result). Throws only for what is not the data's fault (the store, a bad spec); the
 * shards it wrote are deleted first.
 */
export async function processPart(opts: PartOptions): Promise<PartResult> {
  checkPart(opts.part);
  const shape = validateShape(opts.shape);
  const limits = resolveLimits(opts.limits);
  const rule = makeSplitRule(opts.split);
  if (!opts.keyPrefix || opts.keyPrefix.includes('..')) throw new RangeError(`keyPrefix must be a non-empty key prefix without "..", got "${opts.keyPrefix}".`);
  const prefix = partPrefix(opts.keyPrefix, opts.part.index);
  const problems = new ProblemSink(limits.maxProblems);
  // Planning problems (an unsupported file name) are the same in every copy: only copy 0 reports them.
  const planning = opts.part.index === 0 ? problems : new ProblemSink(Number.MAX_SAFE_INTEGER);
  const ctx: ReadContext = { lock: new ShapeLock(shape), limits, problems };
  const writer = new ShardWriter(opts.store, prefix, shape.modality, limits.shardMaxBytes, limits.shardMaxRows);
  const stats = new RunningStats();
  const byFile: Record<string, Split> = {};
  let units: SourceUnit[] = [];
  let truncated = false;
  try {
    try {
      units = unitsForPart(plan(opts.files, shape, planning, opts.splitByFileName ?? true).unique, opts.part);
      await readUnits(units, { ctx, rule, stats, writer, byFile });
      if (problems.count === 0) await writer.flush();
    } catch (e) {
      if (!(e instanceof IngestError)) throw e;
      truncated = e.truncated; // the problem limit was reached: its problems are in the sink
    }
    const result: PartResult = {
      formatVersion: 1,
      part: opts.part,
      units: units.map((u) => u.files[0]!.name),
      shape: ctx.lock.shape,
      stats: statsToJson(stats),
      shards: problems.count === 0 ? writer.shards : [],
      byFile,
      problems: problems.problems,
      truncated,
    };
    if (problems.count > 0) await deleteAll(opts.store, writer.written, new Error('rejected part'));
    await opts.store.putObject(partResultKey(opts.keyPrefix, opts.part.index), Buffer.from(JSON.stringify(result)), { contentType: 'application/json' });
    return result;
  } catch (e) {
    await deleteAll(opts.store, writer.written, e);
    throw e;
  }
}

export interface MergeOptions {
  files: UploadedFile[];
  /** The declared shape (what the version was created with). */
  shape: RowShape;
  store: IngestStore;
  keyPrefix: string;
  /** Every part's result, indices 0..count-1 (the caller reads them; a missing one is the caller's failure). */
  parts: PartResult[];
  limits?: Partial<IngestLimits>;
  split?: Partial<Pick<SplitRule, 'seed' | 'validation' | 'test'>>;
  splitByFileName?: boolean;
}

function sameShape(a: RowShape, b: RowShape): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** What the data fixed in an open shape: sequence features and the audio sample rate (0 / absent = open). */
function fixedBy(declared: RowShape, parts: PartResult[]): { shape: RowShape; conflicts: Problem[] } {
  let shape = declared;
  const conflicts: Problem[] = [];
  for (const p of parts) {
    if (p.stats.rows === 0) continue; // a part that read nothing fixed nothing
    if (shape === declared || sameShape(shape, p.shape)) {
      if (shape === declared) shape = p.shape;
      continue;
    }
    conflicts.push({
      file: p.units[0] ?? '(none)',
      code: 'BAD_SHAPE',
      message: `its rows have shape ${JSON.stringify(p.shape)}, but files read earlier have ${JSON.stringify(shape)}`,
    });
  }
  return { shape, conflicts };
}

/**
 * The reduce half: throws IngestError with every part's problems (capped at maxProblems), or writes manifest.json
 * and returns it. Pure apart from that one write; the caller deletes the parts of a rejected version.
 */
export async function mergeParts(opts: MergeOptions): Promise<Manifest> {
  const shape = validateShape(opts.shape);
  const limits = resolveLimits(opts.limits);
  const rule = makeSplitRule(opts.split);
  const parts = [...opts.parts].sort((a, b) => a.part.index - b.part.index);
  const count = parts[0]?.part.count ?? 0;
  if (count === 0 || parts.length !== count || parts.some((p, i) => p.part.index !== i || p.part.count !== count)) {
    throw new RangeError(`mergeParts needs the results of parts 0..${Math.max(0, count - 1)} exactly once each, got ${parts.map((p) => `${p.part.index}/${p.part.count}`).join(', ') || 'none'}.`);
  }
  const problems = parts.flatMap((p) => p.problems);
  const { shape: fixed, conflicts } = fixedBy(shape, parts);
  problems.push(...conflicts);
  const truncated = parts.some((p) => p.truncated) || problems.length > limits.maxProblems;
  if (problems.length > 0) throw new IngestError(problems.slice(0, limits.maxProblems), truncated);

  const stats = new RunningStats();
  const shards: ShardRef[] = [];
  const byFile: Record<string, Split> = {};
  for (const p of parts) {
    // Part p's local index 0 is global row stats.rows: the rows of the parts before it, in upload order.
    for (const s of p.shards) shards.push(stats.rows === 0 ? s : { ...s, indexOffset: stats.rows });
    mergeStats(stats, p.stats);
    Object.assign(byFile, p.byFile);
  }
  if (stats.rows === 0) throw new IngestError([{ file: opts.files[0]?.name ?? '(none)', code: 'EMPTY_FILE', message: 'the version holds no examples' }], false);
  // Duplicates are a property of the whole file list; every part computed the same set.
  const { duplicates } = plan(opts.files, shape, new ProblemSink(Number.MAX_SAFE_INTEGER), opts.splitByFileName ?? true);
  const manifest = assembleManifest({ shape: fixed, rule, byFile, stats, shards, files: opts.files, duplicates });
  await opts.store.putObject(manifestKey(opts.keyPrefix), Buffer.from(JSON.stringify(manifest, null, 2)), { contentType: 'application/json' });
  return manifest;
}
