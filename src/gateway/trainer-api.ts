// REST shim for trainer tasks under /internal/trainer/*. Not GraphQL: a trainer has no API key, only its
// job-scoped token (Authorization: Bearer ptj_…), and this surface is exactly what that token may do.
import express from 'express';
import { asOperator, withTenant } from '../db/scope';
import type { Logger } from '../logger';
import { isDatabaseUnavailable } from './database-outage';
import { TrainerApiError, type TrainerService } from '../modules/runs/trainer';

export function trainerRouter(trainer: TrainerService, log: Logger): express.Router {
  const r = express.Router();
  r.use(express.json({ limit: '2mb' }));

  type Handler = (run: Awaited<ReturnType<TrainerService['authenticate']>>, body: Record<string, unknown>) => Promise<unknown>;
  const route = (method: 'get' | 'post', path: string, fn: Handler, opts: { allowSucceeded?: boolean } = {}) => {
    r[method](path, async (req, res) => {
      try {
        // Row-level security: the token lookup spans tenants, so it runs as the explicit operator role; everything the
        // token then does runs in its run's tenant scope (pretext_app), so a job token can reach no other tenant's rows.
        const run = await asOperator('trainer-token', () => trainer.authenticate(req.headers.authorization, opts));
        res.json(await withTenant(run.tenantId, () => fn(run, (req.body ?? {}) as Record<string, unknown>)));
      } catch (err) {
        if (err instanceof TrainerApiError) {
          res.status(err.status).json({ error: err.message });
          return;
        }
        // A database restart: the trainer's client retries 5xx with backoff, so this is a wait, not a failure.
        if (isDatabaseUnavailable(err)) {
          log.warn({ err, path }, 'trainer API: the database is unavailable');
          res.status(503).json({ error: 'the database is unavailable; retry shortly' });
          return;
        }
        log.error({ err, path }, 'trainer API error');
        res.status(500).json({ error: 'internal error' });
      }
    });
  };

  route('get', '/spec', (run) => trainer.spec(run));
  route('post', '/presign', (run, b) => trainer.presign(run, b));
  route('post', '/device', (run, b) => trainer.device(run, b));
  route('post', '/heartbeat', (run, b) => trainer.heartbeat(run, b));
  route('post', '/metrics', (run, b) => trainer.metrics(run, b));
  route('post', '/logs', (run, b) => trainer.logs(run, b));
  route('post', '/checkpoint', (run, b) => trainer.checkpoint(run, b));
  route('post', '/fail', (run, b) => trainer.fail(run, b));
  route('post', '/complete', (run, b) => trainer.complete(run, b as never), { allowSucceeded: true });
  return r;
}
