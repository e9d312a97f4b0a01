// Shared set-up for the job tests: a platform whose local dispatcher runs the real trainer entrypoint
// (src/training/main.ts through tsx, so no build is needed) with short intervals, and a tiny READY dataset.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type DatabaseConfig } from '../../src/config';
import { startHttpServer } from '../../src/gateway/http';
import type { Dispatcher } from '../../src/jobs/dispatchers';
import { createLogger } from '../../src/logger';
import { createPlatform, type Platform } from '../../src/platform';
import { createReadyDatasetVersion, tinySequenceJsonl } from '../helpers/datasets';
import { testDatabaseConfig } from '../helpers/db';
import type { GqlResponse, SeededTenant } from '../helpers/platform';

export const TRAINER_COMMAND = JSON.stringify([process.execPath, '--import', 'tsx', path.resolve(__dirname, '../../src/training/main.ts')]);

export function jobEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    TRAINER_COMMAND,
    RUN_WORKER: 'true',
    WORKER_POLL_MS: '150',
    RUN_HEARTBEAT_SECONDS: '0.2',
    RUN_HEARTBEAT_STALE_SECONDS: '60',
    RUN_RETRY_BASE_MS: '100',
    LOCAL_MAX_CONCURRENT: '2',
    ...overrides,
  };
}

export interface JobPlatform {
  platform: Platform;
  url: string;
  dataDir: string;
  operatorKey: string;
  /** Tenants seeded here: the only ones this platform's worker dispatches and supervises. */
  tenants: string[];
  exec(query: string, variables?: Record<string, unknown>, opts?: { key?: string }): Promise<GqlResponse<any>>;
  seedTenant(prefix?: string): Promise<SeededTenant>;
  /** Stops the server and the platform (its local trainer children are killed); keeps the data for a restart. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export interface JobPlatformOptions {
  env?: Record<string, string>;
  /** Reuse another platform's data dir and database (a gateway restart). */
  reuse?: { dataDir: string; operatorKey: string; tenants: string[] };
  dispatcher?: Dispatcher;
  /** A database of the test's own (e.g. a Postgres it stops and starts); default: testDatabaseConfig(). */
  database?: DatabaseConfig;
}

/**
 * A platform for job tests. Embedded PGlite gets a one-connection pool: its socket server multiplexes every client
 * onto one session, and under the concurrent load a running trainer produces (worker ticks, trainer reports,
 * GraphQL polls) queries from different connections interleave and corrupt each other's results. Real Postgres
 * (DATABASE_URL) keeps the normal pool.
 */
export async function startJobPlatform(opts: JobPlatformOptions = {}): Promise<JobPlatform> {
  const dataDir = opts.reuse?.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-jobs-'));
  const operatorKey = opts.reuse?.operatorKey ?? `op_${crypto.randomBytes(24).toString('hex')}`;
  const base = loadConfig({
    NODE_ENV: 'test',
    PRETEXT_DATA_DIR: dataDir,
    PRETEXT_ADMIN_KEY: operatorKey,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.homedir(),
    ...jobEnv(opts.env),
  });
  const db = opts.database ?? testDatabaseConfig();
  const database = db.kind === 'embedded' ? { kind: 'embedded' as const, dataDir: path.join(dataDir, 'pgdata'), poolSize: 1 } : db;
  // Test files share one database in CI and run in parallel: each file's worker handles only the tenants it seeded.
  const tenants = opts.reuse?.tenants ?? [];
  const platform = await createPlatform(
    { ...base, database },
    { defaultMetrics: false, logger: createLogger(base.logLevel), jobTenantScope: () => tenants, ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}) },
  );
  const server = await startHttpServer(platform, { port: 0, host: '127.0.0.1' });
  const exec = async (query: string, variables: Record<string, unknown> = {}, o: { key?: string } = {}): Promise<GqlResponse<any>> => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(o.key ? { authorization: `Bearer ${o.key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  };
  let stopped = false;
  const jp: JobPlatform = {
    platform,
    url: server.url,
    dataDir,
    operatorKey,
    tenants,
    exec,
    async seedTenant(prefix = 'j') {
      const name = `${prefix}-${crypto.randomBytes(5).toString('hex')}`;
      const created = await exec(`mutation($n: String!) { createTenant(input: { name: $n }) { tenant { id name } adminKey } }`, { n: name }, { key: operatorKey });
      if (!created.body.data) throw new Error(`seedTenant failed: ${JSON.stringify(created.body.errors)}`);
      const { tenant, adminKey } = created.body.data.createTenant as { tenant: { id: string; name: string }; adminKey: string };
      tenants.push(tenant.id);
      const mk = async (role: 'MEMBER' | 'READER') => {
        const r = await exec(`mutation($r: ApiKeyRole!) { createApiKey(input: { name: "seed", role: $r }) { secret } }`, { r: role }, { key: adminKey });
        if (!r.body.data) throw new Error(`seed key failed: ${JSON.stringify(r.body.errors)}`);
        return (r.body.data.createApiKey as { secret: string }).secret;
      };
      return { id: tenant.id, name: tenant.name, keys: { ADMIN: adminKey, MEMBER: await mk('MEMBER'), READER: await mk('READER') } };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await platform.close();
    },
    async close() {
      await jp.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return jp;
}

type TestPlatform = JobPlatform;

export async function readySequenceVersion(t: TestPlatform, tenant: SeededTenant): Promise<string> {
  const v = await createReadyDatasetVersion(t.platform, tenant.id, [{ name: 'waves.jsonl', content: tinySequenceJsonl(48, 16) }], { modality: 'SEQUENCE', length: 16, features: 2 });
  return v.versionId;
}

export const CREATE = `mutation($input: CreateExperimentInput!) {
  createExperiment(input: $input) { experiment { id name } run { id status attempt } }
}`;

export const RUN = `query($id: ID!) {
  run(id: $id) { id status progress attempt step totalSteps error checkpointStep dispatcher externalId
    metrics(name: "loss") { step value } logs(tail: 200) { at level message attempt }
    model { modelId modelVersionId name version onnxKey embeddingDim } }
}`;

export function experimentInput(versionId: string, extra: { steps?: number; checkpointEvery?: number; resources?: Record<string, number> } = {}) {
  return {
    datasetVersionId: versionId,
    pretext: 'MASKED',
    encoder: { kind: 'sequence', dim: 16, layers: 1 },
    hyperparameters: { batchSize: 8, steps: extra.steps ?? 8, checkpointEvery: extra.checkpointEvery ?? 4, learningRate: 0.003, warmupSteps: 0, seed: 3, backend: 'wasm' },
    resources: { timeoutSeconds: 300, maxAttempts: 3, ...(extra.resources ?? {}) },
  };
}

export async function getRun(t: TestPlatform, key: string, id: string): Promise<Record<string, any>> {
  const r = await t.exec(RUN, { id }, { key });
  if (!r.body.data) throw new Error(`run query failed: ${JSON.stringify(r.body.errors)}`);
  return r.body.data.run as Record<string, any>;
}

/** Polls the run until `pred` holds (or fails with the last state seen). */
export async function waitForRun(t: TestPlatform, key: string, id: string, pred: (run: Record<string, any>) => boolean, timeoutMs = 90_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, any> = {};
  while (Date.now() < deadline) {
    last = await getRun(t, key, id);
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${id} did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify({ ...last, metrics: undefined })}`);
}

/**
 * Waits (polling the database directly, every 20 ms) until the run is RUNNING with a checkpoint at or past
 * `minCheckpoint` and steps still to go, and returns the trainer's pid (which it logs when it starts).
 */
export async function waitForMidRun(t: TestPlatform, id: string, minCheckpoint: number, timeoutMs = 90_000): Promise<{ pid: number; checkpointStep: number; step: number }> {
  const db = t.platform.db.prisma;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const run = await db.run.findUniqueOrThrow({ where: { id } });
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status)) throw new Error(`run ${id} finished (${run.status}) before it could be interrupted; give it more steps`);
    if (run.status === 'RUNNING' && (run.checkpointStep ?? 0) >= minCheckpoint && run.totalSteps !== null && run.step < run.totalSteps - 2) {
      const logs = await db.runLog.findMany({ where: { runId: id, attempt: run.attempt } });
      const line = logs.find((l) => /trainer pid=\d+/.test(l.message));
      if (line) return { pid: Number(/pid=(\d+)/.exec(line.message)![1]), checkpointStep: run.checkpointStep!, step: run.step };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`run ${id} did not reach a checkpoint ≥ ${minCheckpoint} in ${timeoutMs} ms`);
}
