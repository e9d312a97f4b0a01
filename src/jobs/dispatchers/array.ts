/**
 * What the dispatchers share about array (sharded) jobs: the size of a request's set, the environment each copy
 * gets, and how a set's per-copy statuses fold into one status on backends that do not fold them themselves
 * (local, ECS). Batch and Kubernetes report the set natively (array parent job, Indexed Job).
 */
import { JOB_COUNT_ENV, JOB_INDEX_ENV } from '../array-index';
import type { DispatchRequest, DispatchStatus } from './types';

/** AWS Batch's array limit, applied everywhere so a request behaves the same on every backend. */
export const MAX_ARRAY_SIZE = 10_000;

/** Copies a request asks for (1 = a plain execution). Call after validateRequest. */
export function arraySizeOf(req: Pick<DispatchRequest, 'arraySize'>): number {
  return req.arraySize ?? 1;
}

/**
 * The container environment of one copy: the request's env, plus PRETEXT_JOB_COUNT when the request is an array,
 * plus PRETEXT_JOB_INDEX when `index` is given (backends without their own index variable: local, ECS).
 * A plain execution gets exactly the request's env, as before arrays existed.
 */
export function arrayEnv(req: Pick<DispatchRequest, 'env' | 'arraySize'>, index?: number): Record<string, string> {
  const size = arraySizeOf(req);
  if (size <= 1) return { ...req.env };
  return {
    ...req.env,
    ...(index === undefined ? {} : { [JOB_INDEX_ENV]: String(index) }),
    [JOB_COUNT_ENV]: String(size),
  };
}

export interface MemberStatus extends DispatchStatus {
  /** Stopped by the dispatcher because another copy failed: a consequence, never named as the cause. */
  knockOn?: boolean;
}

/**
 * One status for a set, `members[i]` being copy i:
 * - FAILED as soon as any copy failed; the reason names the lowest failed index that was not merely stopped
 *   because of another (and how many failed when more than one did), with that copy's exit code;
 * - else PENDING while no copy has started, RUNNING while any copy is unfinished (with progress counts);
 * - else UNKNOWN when the backend has forgotten a copy (its outcome cannot be known);
 * - else SUCCEEDED.
 */
export function aggregateArrayStatus(members: readonly MemberStatus[]): DispatchStatus {
  const n = members.length;
  const count = (state: DispatchStatus['state']) => members.filter((m) => m.state === state).length;
  const failed = members.map((m, i) => ({ m, i })).filter(({ m }) => m.state === 'FAILED');
  if (failed.length > 0) {
    const causes = failed.filter(({ m }) => !m.knockOn);
    const { m, i } = causes[0] ?? failed[0]!;
    const others = causes.length > 1 ? ` (${causes.length} of ${n} failed)` : '';
    return {
      state: 'FAILED',
      reason: `index ${i} of ${n} failed: ${m.reason ?? 'no reason given'}${others}`,
      ...(m.exitCode !== undefined ? { exitCode: m.exitCode } : {}),
    };
  }
  const pending = count('PENDING');
  const running = count('RUNNING');
  const succeeded = count('SUCCEEDED');
  if (pending === n) return { state: 'PENDING' };
  if (pending + running > 0) {
    return { state: 'RUNNING', reason: `${succeeded} of ${n} succeeded, ${running} running, ${pending} pending` };
  }
  const lost = members.findIndex((m) => m.state === 'UNKNOWN');
  if (lost >= 0) return { state: 'UNKNOWN', reason: `index ${lost} of ${n}: ${members[lost]!.reason ?? 'unknown'}` };
  return { state: 'SUCCEEDED', exitCode: 0 };
}
