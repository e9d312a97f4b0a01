// Runs as tenants see them: read, list, cancel, retry; metrics, logs and the registered model.
import type { Db, MetricPoint, ModelVersion, Run, RunLog, RunStatus } from '../../db/client';
import { isUuid } from '../../db/errors';
import { conflict, notFound } from '../../errors';
import { recordAudit } from '../audit/service';
import { actorOf, type Principal } from '../auth/principal';
import { requireTenant } from '../experiments/service';
import type { RunLifecycle } from './lifecycle';
import { decodeCursor, encodeCursor, type Page } from './pagination';
import { ACTIVE, transition } from './state';

export class RunService {
  constructor(
    private readonly db: Db,
    private readonly lifecycle: RunLifecycle,
  ) {}

  async get(p: Principal, id: string): Promise<Run> {
    const reader = requireTenant(p, 'READER');
    const row = isUuid(id) ? await this.db.run.findFirst({ where: { id, tenantId: reader.tenantId } }) : null;
    if (!row) throw notFound('Run', id);
    return row;
  }

  async list(p: Principal, opts: { status?: RunStatus | null; first: number; after?: string | null }): Promise<Page<Run>> {
    const reader = requireTenant(p, 'READER');
    const take = Math.min(Math.max(opts.first, 1), 100);
    const cursor = opts.after ? decodeCursor(opts.after) : null;
    const rows = await this.db.run.findMany({
      where: {
        tenantId: reader.tenantId,
        ...(opts.status ? { status: opts.status } : {}),
        ...(cursor ? { OR: [{ createdAt: { lt: cursor.at } }, { createdAt: cursor.at, id: { lt: cursor.id } }] } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: take + 1,
    });
    const nodes = rows.slice(0, take);
    const last = nodes[nodes.length - 1];
    return { nodes, pageInfo: { hasNextPage: rows.length > take, endCursor: last ? encodeCursor(last.createdAt, last.id) : null } };
  }

  /** Cancels a run in any unfinished state and stops its task. Cancelling a finished run is a CONFLICT. */
  async cancel(p: Principal, id: string, now = new Date()): Promise<Run> {
    const member = requireTenant(p, 'MEMBER');
    const run = isUuid(id) ? await this.db.run.findFirst({ where: { id, tenantId: member.tenantId } }) : null;
    if (!run) throw notFound('Run', id);
    if (run.status === 'CANCELLED') return run; // cancelling twice is a no-op
    if (!ACTIVE.includes(run.status)) throw conflict(`Run ${id} is ${run.status}; only QUEUED, DISPATCHED or RUNNING runs can be cancelled.`);
    // The state may change under us (dispatch, completion): retry against the status we now see.
    for (let i = 0; i < 5; i++) {
      const cur = await this.db.run.findFirstOrThrow({ where: { id, tenantId: member.tenantId } });
      if (!ACTIVE.includes(cur.status)) {
        if (cur.status === 'CANCELLED') return cur;
        throw conflict(`Run ${id} is ${cur.status}; only QUEUED, DISPATCHED or RUNNING runs can be cancelled.`);
      }
      if (await transition(this.db, id, cur.status, 'CANCELLED', { tokenHash: null, error: 'cancelled by the user' }, {}, now)) {
        await this.lifecycle.stopTask(cur.externalId).catch(() => undefined);
        await this.db.runLog.create({ data: { tenantId: cur.tenantId, runId: id, attempt: cur.attempt, level: 'warn', message: `cancelled by ${actorOf(p)} while ${cur.status}` } });
        await recordAudit(this.db, { tenantId: member.tenantId, actor: actorOf(p), action: 'run.cancel', targetType: 'Run', targetId: id, data: { from: cur.status } });
        return this.db.run.findFirstOrThrow({ where: { id } });
      }
    }
    throw conflict(`Run ${id} kept changing state; try again`);
  }

  /** A FAILED or CANCELLED run goes back to QUEUED with a fresh attempt budget; it resumes from its checkpoint. */
  async retry(p: Principal, id: string, now = new Date()): Promise<Run> {
    const member = requireTenant(p, 'MEMBER');
    const run = isUuid(id) ? await this.db.run.findFirst({ where: { id, tenantId: member.tenantId } }) : null;
    if (!run) throw notFound('Run', id);
    if (run.status !== 'FAILED' && run.status !== 'CANCELLED') throw conflict(`Run ${id} is ${run.status}; only FAILED or CANCELLED runs can be retried.`);
    const exp = run.experimentId ? await this.db.experiment.findFirst({ where: { id: run.experimentId, tenantId: run.tenantId } }) : null;
    // PRETRAIN runs take the budget from their experiment, FINETUNE runs from their own config.
    const budget = Number((exp?.resources as { maxAttempts?: number } | null)?.maxAttempts ?? (run.config as { maxAttempts?: number } | null)?.maxAttempts ?? 3);
    const moved = await transition(this.db, id, run.status, 'QUEUED', { error: null, notBefore: null, maxAttempts: run.attempt + budget, externalId: null }, {}, now);
    if (!moved) throw conflict(`Run ${id} changed state meanwhile; read it again`);
    await recordAudit(this.db, { tenantId: member.tenantId, actor: actorOf(p), action: 'run.retry', targetType: 'Run', targetId: id });
    return this.db.run.findFirstOrThrow({ where: { id } });
  }

  /** Metric time series of a run (all attempts, ordered by step); `name` filters one series. */
  metrics(run: Run, name?: string | null, last = 1000): Promise<MetricPoint[]> {
    return this.db.metricPoint
      .findMany({ where: { runId: run.id, tenantId: run.tenantId, ...(name ? { name } : {}) }, orderBy: [{ step: 'desc' }, { id: 'desc' }], take: Math.min(Math.max(last, 1), 10_000) })
      .then((rows) => rows.reverse());
  }

  logs(run: Run, tail = 100): Promise<RunLog[]> {
    return this.db.runLog
      .findMany({ where: { runId: run.id, tenantId: run.tenantId }, orderBy: { id: 'desc' }, take: Math.min(Math.max(tail, 1), 1000) })
      .then((rows) => rows.reverse());
  }

  model(run: Run): Promise<(ModelVersion & { model: { id: string; name: string } }) | null> {
    return this.db.modelVersion.findFirst({ where: { runId: run.id, tenantId: run.tenantId }, include: { model: { select: { id: true, name: true } } } });
  }
}
