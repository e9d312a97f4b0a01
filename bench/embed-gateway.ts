// The gateway half of `pretext bench embed`: the same exported model served by a real Pretext platform (embedded
// PGlite, local object store, HTTP server on loopback), measured with concurrent GraphQL `embed` requests, one
// PNG image each, so dynamic batching has to merge them.
import { fork } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../src/config';
import { startHttpServer } from '../src/gateway/http';
import { embeddingDim } from '../src/models/spec';
import { readModelMetadata } from '../src/models/onnx';
import { createLogger } from '../src/logger';
import { createPlatform } from '../src/platform';
import { tenantKey } from '../src/storage';
import type { GatewayBenchContext, GatewayBenchResult } from './embed';

export async function measureGateway(ctx: GatewayBenchContext): Promise<GatewayBenchResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-bench-embed-'));
  const operatorKey = crypto.randomBytes(24).toString('hex');
  const config = loadConfig({ PRETEXT_DATA_DIR: dataDir, PRETEXT_ADMIN_KEY: operatorKey, PORT: '0', LOG_LEVEL: 'silent', NODE_ENV: 'production' });
  const platform = await createPlatform(config, { defaultMetrics: false, logger: createLogger('silent') });
  const server = await startHttpServer(platform, { port: 0, host: '127.0.0.1' });
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
    const spec = ctx.artifact.spec ?? readModelMetadata(ctx.artifact.onnx).spec;
    const onnxKey = tenantKey(tenantId, 'models', 'bench', 'model.onnx');
    await platform.store.put(onnxKey, Buffer.from(ctx.artifact.onnx));
    const prisma = platform.db.prisma;
    const model = await prisma.model.create({ data: { tenantId, name: 'bench', modality: 'IMAGE' } });
    await prisma.modelVersion.create({
      data: { tenantId, modelId: model.id, version: 1, onnxKey, inputSpec: { spec, preprocess: { modality: 'IMAGE' } } as never, embeddingDim: embeddingDim(spec) },
    });
    const input = ctx.input as { pixels?: ArrayLike<number> };
    if (spec.input.kind !== 'image' || !input.pixels) throw new Error('the gateway bench expects an image model and a pixels input');
    const { height, width, channels } = spec.input;
    const png = (await sharp(Buffer.from(Uint8Array.from(input.pixels)), { raw: { width, height, channels: channels as 1 | 3 } }).png().toBuffer()).toString('base64');
    const query = `query($i: [EmbedInput!]!) { embed(model: "bench", inputs: $i) { dims } }`;
    // Warm up: loads the session and JIT paths.
    for (let i = 0; i < 20; i++) await post(query, { i: [{ image: png }] }, key);
    // The load comes from a separate process, so client-side HTTP work does not share the server's event loop.
    return await runLoadGenerator({
      url: `${server.url}/graphql`,
      key,
      body: JSON.stringify({ query, variables: { i: [{ image: png }] } }),
      // Enough concurrent callers to fill batches; far more would only measure connection handling.
      concurrency: Math.min(ctx.concurrency, 128),
      durationMs: Math.max(ctx.durationMs, 1000) * 2,
    });
  } finally {
    await server.close();
    await platform.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

interface LoadJob { url: string; key: string; body: string; concurrency: number; durationMs: number }

function runLoadGenerator(job: LoadJob): Promise<GatewayBenchResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--load-generator'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve(m as GatewayBenchResult));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`load generator exited with ${code}`))));
    child.send(job);
  });
}

async function loadGenerator(job: LoadJob): Promise<GatewayBenchResult> {
  const latencies: number[] = [];
  let done = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + job.durationMs;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const res = await fetch(job.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${job.key}` }, body: job.body });
        const body = (await res.json()) as { errors?: unknown };
        if (body.errors) failed += 1;
        else {
          latencies.push(performance.now() - t0);
          done += 1;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return { perSecond: done / seconds, p50Ms: pct(50), p99Ms: pct(99), concurrency: job.concurrency, ...(failed ? { failed } : {}) } as GatewayBenchResult;
}

if (process.argv.includes('--load-generator')) {
  process.once('message', (job) => {
    loadGenerator(job as LoadJob).then(
      (r) => process.send!(r, () => process.exit(0)),
      (err: unknown) => {
        process.stderr.write(`load generator failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  });
}
