// The run state machine, in one place. Every status change goes through `transition`, which writes with
// `updateMany where status = from`: two actors racing on the same run (worker, supervisor, trainer report, a user's
// cancel) cannot both win, and no state can be skipped, because the loser's update matches zero rows.
import type { Db, RunStatus } from '../../db/client';
import { UnreachableCaseError } from '../../errors';

export const TERMINAL: readonly RunStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
export const ACTIVE: readonly RunStatus[] = ['QUEUED', 'DISPATCHED', 'RUNNING'];

export function isTerminal(s: RunStatus): boolean {
  return TERMINAL.includes(s);
}

/** Where a run may go from `from`. QUEUED → DISPATCHED → RUNNING → SUCCEEDED | FAILED | CANCELLED, plus retry → QUEUED. */
export function allowedNext(from: RunStatus): readonly RunStatus[] {
  switch (from) {
    case 'QUEUED':
      return ['DISPATCHED', 'CANCELLED'];
    case 'DISPATCHED':
      // → QUEUED: the submit failed retryably or the task died before it reported; → FAILED: out of attempts.
      return ['RUNNING', 'QUEUED', 'FAILED', 'CANCELLED'];
    case 'RUNNING':
      return ['SUCCEEDED', 'FAILED', 'CANCELLED', 'QUEUED'];
    case 'FAILED':
    case 'CANCELLED':
      // A user's retryRun.
      return ['QUEUED'];
    case 'SUCCEEDED':
      return [];
    default:
      throw new UnreachableCaseError(from);
  }
}

export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return allowedNext(from).includes(to);
}

export class InvalidTransitionError extends Error {
  constructor(readonly from: RunStatus, readonly to: RunStatus) {
    super(`A run cannot go from ${from} to ${to}. From ${from} it may go to: ${allowedNext(from).join(', ') || '(nothing: terminal)'}.`);
    this.name = 'InvalidTransitionError';
  }
}

type RunUpdate = Parameters<Db['run']['updateMany']>[0]['data'];

/**
 * Moves run `id` from `from` to `to` and applies `data`, only if it is still in `from` (and matches `where`).
 * Returns true when this call made the change. Timings follow the state: startedAt on the first RUNNING,
 * finishedAt on a terminal state, cleared when it is queued again.
 */
export async function transition(
  db: Pick<Db, 'run'>,
  id: string,
  from: RunStatus | readonly RunStatus[],
  to: RunStatus,
  data: RunUpdate = {},
  where: { externalId?: string | null; attempt?: number } = {},
  now = new Date(),
): Promise<boolean> {
  const froms = typeof from === 'string' ? [from] : [...from];
  for (const f of froms) if (!canTransition(f, to)) throw new InvalidTransitionError(f, to);
  const timing: RunUpdate = {};
  if (TERMINAL.includes(to)) timing.finishedAt = now;
  if (to === 'QUEUED') {
    timing.finishedAt = null;
    timing.queuedAt = now;
  }
  const { count } = await db.run.updateMany({
    where: { id, status: { in: froms }, ...where },
    data: { ...timing, ...data, status: to },
  });
  return count === 1;
}
