// Composition root: opens the database and object store, builds the services and the Apollo server. The HTTP
// server, the Lambda handler, the CLI and the tests all start Pretext through here, so they share one wiring.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ApolloServer } from '@apollo/server';
import type { Config } from './config';
import { openDatabase, type Database } from './db';
import { scopeOfPrincipal, setRequestScope } from './db/scope';
import { AppError, ErrorCode } from './errors';
import { createApolloServer } from './gateway/apollo';
import type { GatewayContext } from './gateway/context';
import { createGatewayMetrics, type GatewayMetrics } from './gateway/metrics';
import { createLogger, type Logger } from './logger';
import { createServices, type Services } from './modules';
import { hashSecret } from './modules/apikeys/secrets';
import { createObjectStore, type ObjectStore } from './storage';
import { databaseUnavailable, isDatabaseUnavailable } from './gateway/database-outage';
import type { Dispatcher } from './jobs/dispatchers';
import { createJobsRuntime, type JobsRuntime } from './modules/runs/runtime';

export interface Platform {
  config: Config;
  log: Logger;
  db: Database;
  store: ObjectStore;
  services: Services;
  metrics: GatewayMetrics;
  apollo: ApolloServer<GatewayContext>;
  /** Base URL clients reach this gateway at (set by the HTTP server once it listens). */
  publicUrl: { value: string };
  /** Set when this start generated the operator key (it is shown once, then only its hash is kept). */
  generatedOperatorKey?: string;
  /** Signing secret for local presigned URLs (the /storage route verifies with it). */
  signingSecret: string;
  buildContext(headers: Record<string, string | string[] | undefined>, request?: { bodyBytes?: number }): Promise<GatewayContext>;
  /** Training jobs: the dispatcher and the queue worker + supervisor (`jobs.worker().start()`; serve does it). */
  jobs: JobsRuntime;
  close(): Promise<void>;
}

export interface PlatformOptions {
  /** Generate and persist an operator key when none is configured (what `pretext serve` does). */
  generateOperatorKey?: boolean;
  logger?: Logger;
  /** Collect process-level default metrics (off in tests, which create many platforms in one process). */
  defaultMetrics?: boolean;
  /** Use this dispatcher instead of the configured one (tests point a cloud dispatcher at a loopback endpoint). */
  dispatcher?: Dispatcher;
  /** Limit this process's queue worker and supervisor to some tenants (a dedicated pool; tests sharing a database). */
  jobTenantScope?: () => readonly string[] | null;
}

function readOrCreateSecretFile(file: string): string {
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const secret = crypto.randomBytes(32).toString('base64url');
  fs.writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
  return secret;
}

/** The operator key: from config, else a hash persisted under the data dir, else (optionally) a new one. */
function resolveOperatorKey(config: Config, generate: boolean): { hash: string | null; generated?: string } {
  if (config.adminKey) return { hash: hashSecret(config.adminKey) };
  const file = path.join(config.dataDir, 'operator-key.sha256');
  if (fs.existsSync(file)) return { hash: fs.readFileSync(file, 'utf8').trim() };
  if (!generate) return { hash: null };
  const key = `pt_operator_${crypto.randomBytes(32).toString('base64url')}`;
  fs.mkdirSync(config.dataDir, { recursive: true });
  fs.writeFileSync(file, hashSecret(key), { mode: 0o600, flag: 'wx' });
  return { hash: hashSecret(key), generated: key };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name] ?? headers[name.toLowerCase()] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(v) ? v[0] : v;
}

export async function createPlatform(config: Config, opts: PlatformOptions = {}): Promise<Platform> {
  const log = opts.logger ?? createLogger(config.logLevel);
  const operator = resolveOperatorKey(config, opts.generateOperatorKey ?? false);
  const signingSecret =
    config.signingSecret ?? (config.storage.kind === 'local' ? readOrCreateSecretFile(path.join(config.dataDir, 'signing-secret')) : crypto.randomBytes(32).toString('hex'));
  const publicUrl = { value: config.publicUrl ?? `http://${config.host}:${config.port}` };
  const db = await openDatabase(config.database);
  const store = createObjectStore(config.storage, { signingSecret, publicUrl: () => publicUrl.value });
  const jobs = createJobsRuntime(config, log, opts.dispatcher);
  const metrics = createGatewayMetrics({ defaultMetrics: opts.defaultMetrics ?? true });
  const services = createServices({
    rateLimits: config.rateLimits,
    observeRateLimit: (kind, allowed, cost) => metrics.observeRateLimit(kind, allowed, cost),
    db: db.prisma,
    store,
    log,
    operatorKeyHash: operator.hash,
    datasets: config.datasets,
    storage: config.storage,
    platformDispatcher: jobs.platformDispatcher,
    inference: config.inference,
    jobs: {
      config: config.jobs,
      dispatcher: jobs.dispatcher,
      gatewayUrl: () => publicUrl.value,
      ...(opts.jobTenantScope ? { tenantScope: opts.jobTenantScope } : {}),
    },
  });
  jobs.attach(services.runLifecycle);
  if (config.jobs.worker) jobs.worker().start();
  // Background maintenance belongs to the worker process (`pretext serve`): finish dataset processing a previous
  // process left behind, and reconcile the store with the rows from the worker tick (abandoned multipart uploads,
  // interrupted purges, objects orphaned by a crash).
  if (config.jobs.worker) {
    const { processingJobs, spaceJobs } = services;
    if (processingJobs && spaceJobs) {
      // Processing and space builds run as dispatched jobs: each tick submits, watches and merges them (nothing to
      // recover here: a job's state lives in its row and with the dispatcher).
      jobs.worker().every('datasets.processingJobs', config.jobs.pollMs, () => processingJobs.pass());
      jobs.worker().every('spaces.buildJobs', config.jobs.pollMs, () => spaceJobs.pass());
    } else {
      void services.datasets.processor.recoverAtStartup().catch((err: unknown) => log.error({ err }, 'dataset recovery failed'));
    }
    jobs.worker().every('datasets.reconcile', Math.min(config.datasets.abandonedUploadMs, 3_600_000), () => services.datasets.reconciler.run());
  }
  const apollo = createApolloServer({ env: config.env, introspection: config.introspection, limits: config.limits, metrics, log });

  return {
    config,
    log,
    db,
    store,
    services,
    metrics,
    apollo,
    publicUrl,
    signingSecret,
    jobs,
    ...(operator.generated ? { generatedOperatorKey: operator.generated } : {}),
    async buildContext(headers, request = {}) {
      const requestId = header(headers, 'x-request-id')?.slice(0, 128) || crypto.randomUUID();
      const reqLog = log.child({ requestId });
      try {
        const principal = await services.auth.authenticate(header(headers, 'authorization'));
        // Row-level security: the rest of the request runs as this principal's tenant (or the operator role).
        setRequestScope(scopeOfPrincipal(principal));
        return { requestId, principal, services, log: reqLog, ...(request.bodyBytes !== undefined ? { bodyBytes: request.bodyBytes } : {}) };
      } catch (err) {
        if (err instanceof AppError) throw err;
        if (isDatabaseUnavailable(err)) {
          reqLog.warn({ err }, 'authentication failed: the database is unavailable');
          throw databaseUnavailable();
        }
        reqLog.error({ err }, 'authentication failed unexpectedly');
        throw new AppError(ErrorCode.INTERNAL, 'Authentication is temporarily unavailable; try again');
      }
    },
    async close() {
      await jobs.close().catch((err: unknown) => log.warn({ err }, 'jobs runtime did not stop cleanly'));
      await services.datasets.processor.close();
      await services.spaces.close();
      await services.inferenceUsage.close();
      await services.inference.close();
      await apollo.stop().catch(() => undefined);
      await db.close();
      (store as { destroy?: () => void }).destroy?.();
    },
  };
}
