// The serving half of `pretext bench embed` (issue 12): the same exported model served by a real Pretext platform
// (embedded PGlite, local object store, HTTP on loopback), loaded by a separate load-generator process:
//   http           a minimal node:http endpoint calling the platform's own runtime (same batcher, same pool): the
//                  floor any HTTP API pays (JSON body with packed pixels, base64 answer, no auth, no GraphQL)
//   graphqlBatch   GraphQL `embed`, 64 packed-pixel inputs per request
//   graphqlSingle  GraphQL `embed`, one packed-pixel input per request, at saturating concurrency
//   rest           POST /v1/embeddings, one packed-pixel input per request, encoding_format base64
// plus single-request latency (one caller), p99 at 50 % of graphqlSingle's throughput (open loop), GraphQL single
// with PNG inputs (decoded on the server), and graphqlBatch answered as JSON values instead of base64.
// Every GraphQL request is an automatic persisted query (hash only, registered once), as a production client sends.
// Each phase also reports the gateway main thread's CPU per request; PRETEXT_BENCH_PROFILE=<phase name> profiles one
// phase's measured window (docs/serving.md section 8).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import inspector from 'node:inspector';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { loadConfig } from '../src/config';
import { startHttpServer } from '../src/gateway/http';
import { decodePackedPixels } from '../src/inference/packed';
import type { ModelArtifact } from '../src/inference/service';
import { embeddingDim } from '../src/models/spec';
import { readModelMetadata } from '../src/models/onnx';
import { createLogger } from '../src/logger';
import { createPlatform } from '../src/platform';
import { tenantKey } from '../src/storage';
import { startLoadGenerator, type LoadJob, type LoadResult } from './load-generator';

export interface ServingBenchContext {
  artifact: ModelArtifact;
  /** Distinct valid images (uint8 HWC of the model's size), cycled through the requests. */
  images: Uint8Array[];
  quick: boolean;
  /** Worker threads of the inference pool (PRETEXT_INFERENCE_WORKERS); default the platform's. */
  workers?: number;
  maxBatchSize: number;
  maxWaitMs: number;
  /** Concurrent callers of the one-input phases. */
  concurrency: number;
  /** Progress lines (stderr in the CLI). */
  log?: (message: string) => void;
}

export interface Phase {
  /** Inputs per second. */
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  requestsPerSecond: number;
  inputsPerRequest: number;
  concurrency: number;
  /** CPU used during the phase, in cores: the server process (gateway + inference threads) and the load generator. */
  cpu: { server: number; loadGenerator: number };
  /** The gateway's main thread during the phase: event-loop utilization, and its CPU milliseconds per request
   *  (from /proc on Linux, else null): the per-request cost of the HTTP/GraphQL path itself, steadier than
   *  throughput on a shared machine (inference runs on worker threads and is not in it; event-loop time is not
   *  used for this because it also counts the time the OS gave the thread's core to an inference thread). */
  mainThread: { busy: number; cpuMsPerRequest: number | null };
  firstError?: string;
}

export interface ServingBenchResult {
  http: Phase;
  graphqlBatch: Phase;
  graphqlSingle: Phase;
  rest: Phase;
  singleRequestMs: number;
  p99AtHalfLoadMs: number;
  halfLoad: Phase;
  /** The floor (http) at the same open-loop rate as halfLoad: the tail the machine and the runtime alone give. */
  httpHalfLoad: Phase;
  graphqlSinglePng: Phase;
  graphqlBatchValues: Phase;
  workers: number;
  intraOpThreads: number | null;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A load-generator run with the server's CPU measured over the same window. */
async function measure(lg: ReturnType<typeof startLoadGenerator>, job: LoadJob, name: string, log?: (m: string) => void): Promise<Phase> {
  log?.(`serving bench: ${name}`);
  let serverCpu: NodeJS.CpuUsage | null = null;
  let serverAt = 0;
  let loop: EventLoopUtilization | null = null;
  let threadAt: number | null = null;
  // PRETEXT_BENCH_PROFILE=<phase name>: a V8 CPU profile of the gateway's main thread over that phase's measured
  // window, written to PRETEXT_BENCH_PROFILE_OUT (default ./<phase>.cpuprofile); read it with bench/profile-summary.ts.
  const profiling = process.env.PRETEXT_BENCH_PROFILE === name ? new inspector.Session() : null;
  const mark = setTimeout(() => {
    serverCpu = process.cpuUsage();
    serverAt = performance.now();
    loop = performance.eventLoopUtilization();
    threadAt = mainThreadCpuMs();
    if (profiling) {
      profiling.connect();
      profiling.post('Profiler.enable', () => profiling.post('Profiler.start'));
    }
  }, job.warmupMs);
  const r: LoadResult = await lg.run(job);
  clearTimeout(mark);
  const used = serverCpu ? process.cpuUsage(serverCpu) : process.cpuUsage();
  const seconds = serverCpu ? (performance.now() - serverAt) / 1000 : job.durationMs / 1000;
  const elu = performance.eventLoopUtilization(loop ?? undefined);
  const threadNow = mainThreadCpuMs();
  const threadMs = threadAt !== null && threadNow !== null ? threadNow - threadAt : null;
  if (profiling) await saveProfile(profiling, process.env.PRETEXT_BENCH_PROFILE_OUT ?? `${name}.cpuprofile`, log);
  return {
    perSecond: round(r.perSecond),
    p50Ms: round(r.p50Ms, 2),
    p99Ms: round(r.p99Ms, 2),
    failed: r.failed,
    requestsPerSecond: round(r.requestsPerSecond),
    inputsPerRequest: job.inputsPerRequest,
    concurrency: job.mode.kind === 'closed' ? job.mode.concurrency : 0,
    cpu: { server: round((used.user + used.system) / 1e6 / seconds, 2), loadGenerator: round(r.cpuCores, 2) },
    mainThread: { busy: round(elu.utilization, 3), cpuMsPerRequest: threadMs === null ? null : round(threadMs / Math.max(1, r.requests), 3) },
    ...(r.firstError ? { firstError: r.firstError } : {}),
  };
}

/** CPU time (user + system) of this process's main thread in ms, from /proc (clock ticks of 10 ms); null off Linux. */
function mainThreadCpuMs(): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5) (utime, stime) are the 12th and 13th after the command name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
/** USER_HZ: 100 on every Linux kernel ABI that Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

function saveProfile(session: inspector.Session, file: string, log?: (m: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    session.post('Profiler.stop', (err, result) => {
      session.disconnect();
      if (err) return reject(err);
      fs.writeFileSync(file, JSON.stringify(result.profile));
      log?.(`serving bench: main-thread profile written to ${file}`);
      resolve();
    });
  });
}

export async function measureServing(ctx: ServingBenchContext): Promise<ServingBenchResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-bench-embed-'));
  const operatorKey = crypto.randomBytes(24).toString('hex');
  const config = loadConfig({
    PRETEXT_DATA_DIR: dataDir,
    PRETEXT_ADMIN_KEY: operatorKey,
    PORT: '0',
    LOG_LEVEL: 'silent',
    NODE_ENV: 'production',
    PRETEXT_BATCH_MAX_SIZE: String(ctx.maxBatchSize),
    PRETEXT_BATCH_MAX_WAIT_MS: String(ctx.maxWaitMs),
    // A 64-input request of 28×28 pixels is ~70 KB of base64; the default 1 MiB limit holds it.
    ...(ctx.workers !== undefined ? { PRETEXT_INFERENCE_WORKERS: String(ctx.workers) } : {}),
  });
  ctx.log?.('serving bench: starting the platform');
  const platform = await createPlatform(config, { defaultMetrics: false, logger: createLogger('silent') });
  const server = await startHttpServer(platform, { port: 0, host: '127.0.0.1' });
  let floor: http.Server | undefined;
  const lg = startLoadGenerator();
  try {
    const post = async (query: string, variables: Record<string, unknown>, key: string) => {
      const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
      const body = (await res.json()) as { data?: any; errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data;
    };
    const created = await post(`mutation { createTenant(input: { name: "bench" }) { tenant { id } adminKey } }`, {}, operatorKey);
    const tenantId: string = created.createTenant.tenant.id;
    const key: string = created.createTenant.adminKey;
    // Saturating load is the point here: the tenant's rate limits are raised far above it (the limiter stays on the
    // request path and is measured with it; the platform default of 1 200 requests a minute would refuse the phases).
    await post(
      `mutation($i: SetTenantLimitsInput!) { setTenantLimits(input: $i) { id } }`,
      { i: { tenantId, requestsPerMinute: 100_000_000, inferenceInputsPerMinute: 100_000_000 } },
      operatorKey,
    );
    const spec = ctx.artifact.spec ?? readModelMetadata(ctx.artifact.onnx).spec;
    if (spec.input.kind !== 'image') throw new Error('the serving bench expects an image model');
    const { height, width, channels } = spec.input;
    const onnxKey = tenantKey(tenantId, 'models', 'bench', 'model.onnx');
    await platform.store.put(onnxKey, Buffer.from(ctx.artifact.onnx));
    const prisma = platform.db.prisma;
    const model = await prisma.model.create({ data: { tenantId, name: 'bench', modality: 'IMAGE' } });
    const version = await prisma.modelVersion.create({
      data: { tenantId, modelId: model.id, version: 1, onnxKey, inputSpec: { spec, preprocess: { modality: 'IMAGE' } } as never, embeddingDim: embeddingDim(spec) },
    });

    // The floor: node:http + JSON + the platform's runtime for the same model version (its cache entry, batcher, pool).
    const artifact: ModelArtifact = { modelVersionId: version.id, onnx: ctx.artifact.onnx, spec };
    const runtime = platform.services.inference;
    floor = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { inputs: Array<{ pixels: { base64: string; shape: number[] } }> };
            const inputs = body.inputs.map((x) => {
              const d = decodePackedPixels(x.pixels, { height, width, channels });
              if (!d.ok) throw new Error(d.message);
              return { pixels: d.value };
            });
            const out = await runtime.embed(artifact, inputs, { encoding: 'BASE64' });
            const json = JSON.stringify({ embeddings: out.vectors.map((v) => (v as { base64: string }).base64) });
            res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) }).end(json);
          } catch (e) {
            res.writeHead(500).end(String(e));
          }
        })();
      });
    });
    await new Promise<void>((resolve) => floor!.listen(0, '127.0.0.1', resolve));
    const floorUrl = `http://127.0.0.1:${(floor.address() as AddressInfo).port}/embed`;

    const pixels = ctx.images.map((px) => ({ pixels: { base64: Buffer.from(px).toString('base64'), shape: [height, width, channels] } }));
    const pngs = await Promise.all(ctx.images.map(async (px) => (await sharp(Buffer.from(px), { raw: { width, height, channels: channels as 1 | 3 } }).png().toBuffer()).toString('base64')));
    const BATCH = 64;
    const batches = (n: number) => Array.from({ length: n }, (_, b) => Array.from({ length: BATCH }, (_, i) => pixels[(b * BATCH + i) % pixels.length]!));

    // Automatic persisted queries: register each document once, then send only its hash.
    const QUERY_B64 = `query Embed($m: String!, $i: [EmbedInput!]!) { embed(model: $m, inputs: $i, options: { encoding: BASE64 }) { embeddings { base64 } } }`;
    const QUERY_VALUES = `query EmbedValues($m: String!, $i: [EmbedInput!]!) { embed(model: $m, inputs: $i) { embeddings { values } } }`;
    const apq = (query: string) => ({ persistedQuery: { version: 1, sha256Hash: crypto.createHash('sha256').update(query).digest('hex') } });
    for (const q of [QUERY_B64, QUERY_VALUES]) {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: q, variables: { m: 'bench', i: [pixels[0]] }, extensions: apq(q) }),
      });
      if (!res.ok) throw new Error(`registering a persisted query failed: ${await res.text()}`);
    }
    const gqlBody = (query: string, i: unknown[]) => JSON.stringify({ variables: { m: 'bench', i }, extensions: apq(query) });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
    const gqlUrl = `${server.url}/graphql`;
    const warmupMs = ctx.quick ? 500 : 1000;
    const durationMs = ctx.quick ? 1500 : 4000;
    const closed = (concurrency: number) => ({ kind: 'closed' as const, concurrency });
    const base = { headers, warmupMs, durationMs };

    const singles = pixels.map((p) => gqlBody(QUERY_B64, [p]));
    const floorBodies = pixels.map((p) => JSON.stringify({ inputs: [p] }));
    const restBodies = pixels.map((p) => JSON.stringify({ model: 'bench', input: [p], encoding_format: 'base64' }));
    const batchConcurrency = Math.max(2, Math.ceil((2 * ctx.maxBatchSize) / BATCH) + 2);
    // Warm-up: loads the session and JIT-compiles the hot paths of every route and body shape measured below (the
    // first runs showed later phases faster than earlier ones with a single short warm-up).
    const warm = { ...base, warmupMs: 0, durationMs: ctx.quick ? 300 : 1000 };
    await measure(lg, { ...warm, url: gqlUrl, bodies: singles, inputsPerRequest: 1, mode: closed(ctx.concurrency) }, 'warm-up', ctx.log);
    await measure(lg, { ...warm, url: floorUrl, headers: { 'content-type': 'application/json' }, bodies: floorBodies, inputsPerRequest: 1, mode: closed(ctx.concurrency) }, 'warm-up http', ctx.log);
    await measure(lg, { ...warm, url: gqlUrl, bodies: batches(8).map((i) => gqlBody(QUERY_B64, i)), inputsPerRequest: BATCH, mode: closed(batchConcurrency) }, 'warm-up batch', ctx.log);
    await measure(lg, { ...warm, url: `${server.url}/v1/embeddings`, bodies: restBodies, inputsPerRequest: 1, mode: closed(ctx.concurrency) }, 'warm-up rest', ctx.log);
    await measure(lg, { ...warm, url: gqlUrl, bodies: pngs.map((png) => gqlBody(QUERY_B64, [{ image: png }])), inputsPerRequest: 1, mode: closed(ctx.concurrency) }, 'warm-up png', ctx.log);

    const httpPhase = await measure(lg, { ...base, url: floorUrl, headers: { 'content-type': 'application/json' }, bodies: floorBodies, inputsPerRequest: 1, mode: closed(ctx.concurrency) }, 'http', ctx.log);
    const graphqlSingle = await measure(lg, { ...base, url: gqlUrl, bodies: singles, inputsPerRequest: 1, mode: closed(ctx.concurrency) }, 'graphqlSingle', ctx.log);
    const graphqlBatch = await measure(lg, { ...base, url: gqlUrl, bodies: batches(8).map((i) => gqlBody(QUERY_B64, i)), inputsPerRequest: BATCH, mode: closed(batchConcurrency) }, 'graphqlBatch', ctx.log);
    const rest = await measure(lg, {
      ...base,
      url: `${server.url}/v1/embeddings`,
      bodies: restBodies,
      inputsPerRequest: 1,
      mode: closed(ctx.concurrency),
    }, 'rest', ctx.log);
    const single = await measure(lg, { ...base, url: gqlUrl, bodies: singles, inputsPerRequest: 1, mode: closed(1) }, 'single request', ctx.log);
    const halfLoad = await measure(lg, { ...base, url: gqlUrl, bodies: singles, inputsPerRequest: 1, mode: { kind: 'open', ratePerSecond: Math.max(1, graphqlSingle.perSecond / 2) } }, 'half load', ctx.log);
    const httpHalfLoad = await measure(lg, { ...base, url: floorUrl, headers: { 'content-type': 'application/json' }, bodies: floorBodies, inputsPerRequest: 1, mode: { kind: 'open', ratePerSecond: Math.max(1, graphqlSingle.perSecond / 2) } }, 'http at the half-load rate', ctx.log);
    const graphqlSinglePng = await measure(lg, { ...base, url: gqlUrl, bodies: pngs.map((png) => gqlBody(QUERY_B64, [{ image: png }])), inputsPerRequest: 1, mode: closed(ctx.concurrency) }, 'graphqlSingle PNG', ctx.log);
    const graphqlBatchValues = await measure(lg, { ...base, url: gqlUrl, bodies: batches(8).map((i) => gqlBody(QUERY_VALUES, i)), inputsPerRequest: BATCH, mode: closed(batchConcurrency) }, 'graphqlBatch values', ctx.log);
    return {
      http: httpPhase,
      graphqlBatch,
      graphqlSingle,
      rest,
      singleRequestMs: single.p50Ms,
      p99AtHalfLoadMs: halfLoad.p99Ms,
      halfLoad,
      httpHalfLoad,
      graphqlSinglePng,
      graphqlBatchValues,
      workers: config.inference.workers,
      intraOpThreads: config.inference.intraOpThreads ?? (config.inference.workers > 0 ? Math.max(1, Math.floor(os.availableParallelism() / config.inference.workers)) : null),
    };
  } finally {
    await lg.close();
    await new Promise<void>((resolve) => (floor ? floor.close(() => resolve()) : resolve()));
    floor?.closeAllConnections();
    await server.close();
    await platform.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
