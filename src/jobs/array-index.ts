/**
 * The index contract of array (sharded) jobs, read inside the trainer/worker container.
 *
 * One submission with `arraySize: N` starts N copies of the same container; each copy works on its own slice of
 * the input (source files of a dataset, shards of an embedding space). The backends name the copy's index
 * differently, so the task reads it through this one function instead of knowing which backend it runs on:
 *
 * - `PRETEXT_JOB_INDEX`: set by the local and ECS dispatchers (neither backend has an index of its own), and the
 *   way to pin an index by hand when debugging one shard.
 * - `AWS_BATCH_JOB_ARRAY_INDEX`: set by AWS Batch in each child of an array job.
 * - `JOB_COMPLETION_INDEX`: set by Kubernetes in each pod of an Indexed Job.
 *
 * The count comes from `PRETEXT_JOB_COUNT`, which every dispatcher sets when N > 1 (no backend exposes N itself).
 * Neither variable set means a plain, unsharded execution: index 0 of 1.
 */

export const JOB_INDEX_ENV = 'PRETEXT_JOB_INDEX';
export const JOB_COUNT_ENV = 'PRETEXT_JOB_COUNT';

/** Checked in this order; the first one present wins. */
const INDEX_SOURCES = [JOB_INDEX_ENV, 'AWS_BATCH_JOB_ARRAY_INDEX', 'JOB_COMPLETION_INDEX'] as const;

export interface ArrayIndex {
  /** 0-based index of this copy. */
  index: number;
  /** Copies in the set (1 for a plain execution). */
  count: number;
}

export function arrayIndexFromEnv(env: NodeJS.ProcessEnv = process.env): ArrayIndex {
  const countRaw = env[JOB_COUNT_ENV];
  const count = countRaw === undefined ? 1 : parseNonNegativeInt(JOB_COUNT_ENV, countRaw);
  if (count < 1) throw new Error(`${JOB_COUNT_ENV} must be an integer >= 1, got "${countRaw}".`);
  const source = INDEX_SOURCES.find((name) => env[name] !== undefined);
  if (source === undefined) return { index: 0, count };
  const index = parseNonNegativeInt(source, env[source]!);
  if (index >= count) {
    // Most likely PRETEXT_JOB_COUNT is missing (count defaulted to 1) or belongs to another submission.
    throw new Error(`${source}=${index} is out of range for ${JOB_COUNT_ENV}=${countRaw ?? '(unset, so 1)'}: the index must be < the count.`);
  }
  return { index, count };
}

function parseNonNegativeInt(name: string, raw: string): number {
  // Number('') is 0 and Number(' 1 ') is 1: insist on plain decimal digits so a mangled value is not read as a shard.
  if (!/^\d+$/.test(raw)) {
    throw new Error(`${name} must be a non-negative integer, got "${raw}".`);
  }
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} is too large: "${raw}".`);
  return n;
}
