// The trainer container's entrypoint (`node dist/src/training/main.js`), the same for every dispatcher. It holds
// no credentials: PRETEXT_GATEWAY_URL, PRETEXT_RUN_ID and a job-scoped PRETEXT_JOB_TOKEN are all it gets. It reads
// its spec from the gateway, streams its shards through presigned URLs, trains with callbacks wired to the trainer
// API, uploads checkpoints (and resumes from the last one), exports ONNX (+ tokenizer.json) and reports completion.
import { Readable } from 'node:stream';
import type { Manifest, Row } from '../ingest/types';
import { readShards } from '../ingest/shard-reader';
import type { IngestStore } from '../ingest/store';
import { embeddingDim } from '../models/spec';
import type { TrainerSpec } from '../modules/runs/trainer';
import { deserializeCheckpoint, serializeCheckpoint, type Checkpoint, type CheckpointStore } from './trainer/checkpoint';
import type { TrainConfig } from './trainer/config';

class GatewayClient {
  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {}

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let lastErr: unknown;
    // Transient gateway trouble (a restart) must not kill a long run: retry with backoff for about a minute.
    for (let i = 0; i < 8; i++) {
      try {
        const res = await fetch(`${this.base}/internal/trainer${path}`, {
          method,
          headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        if (res.ok) return (text ? JSON.parse(text) : {}) as T;
        const message = `${method} ${path} → ${res.status}: ${text.slice(0, 500)}`;
        if (res.status < 500) throw Object.assign(new Error(message), { fatal: true });
        lastErr = new Error(message);
      } catch (err) {
        if ((err as { fatal?: boolean }).fatal) throw err;
        lastErr = err;
      }
      await new Promise((r) => setTimeout(r, Math.min(10_000, 250 * 2 ** i)));
    }
    throw lastErr;
  }
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`download failed: ${res.status} ${(await res.text()).slice(0, 200)}`);
  return Buffer.from(await res.arrayBuffer());
}

async function upload(api: GatewayClient, path: string, body: Uint8Array): Promise<string> {
  const { key, url } = await api.call<{ key: string; url: string }>('POST', '/presign', { path, method: 'PUT' });
  const res = await fetch(url, { method: 'PUT', body });
  if (!res.ok) throw new Error(`upload of ${key} failed: ${res.status} ${(await res.text()).slice(0, 200)}`);
  return key;
}

/** Checkpoints in the run's output prefix, through presigned URLs; the gateway records the latest one. */
class GatewayCheckpointStore implements CheckpointStore {
  constructor(
    private readonly api: GatewayClient,
    private readonly initial: TrainerSpec['checkpoint'],
    /** Runs before the gateway records the checkpoint: metrics up to its step must be stored first, or a crash
     * between the two would lose them (the next attempt resumes after the checkpoint and never re-reports them). */
    private readonly beforeRecord: () => Promise<void>,
  ) {}

  async save(ckpt: Checkpoint): Promise<string> {
    const dir = `checkpoints/step-${String(ckpt.step).padStart(8, '0')}`;
    const { json, tensors } = serializeCheckpoint(ckpt);
    await upload(this.api, `${dir}/tensors.bin`, tensors);
    await upload(this.api, `${dir}/checkpoint.json`, Buffer.from(json));
    await this.beforeRecord();
    await this.api.call('POST', '/checkpoint', { step: ckpt.step, path: dir });
    return dir;
  }

  async latest(): Promise<Checkpoint | null> {
    if (!this.initial) return null;
    return deserializeCheckpoint((await download(this.initial.jsonUrl)).toString('utf8'), await download(this.initial.tensorsUrl));
  }
}

export async function runTrainerTask(env: { gatewayUrl: string; runId: string; token: string }): Promise<void> {
  const api = new GatewayClient(env.gatewayUrl.replace(/\/+$/, ''), env.token);
  const spec = await api.call<TrainerSpec>('GET', '/spec');
  const pendingLogs: Array<{ level: string; message: string }> = [];
  const log = (level: 'info' | 'warn' | 'error', message: string) => {
    pendingLogs.push({ level, message });
    process.stderr.write(`[trainer ${level}] ${message}\n`);
  };
  const flushLogs = async () => {
    if (pendingLogs.length) await api.call('POST', '/logs', { lines: pendingLogs.splice(0) });
  };
  log('info', `trainer pid=${process.pid} attempt=${spec.attempt} started${spec.checkpoint ? `; resuming from checkpoint step ${spec.checkpoint.step}` : ''}`);
  await flushLogs();

  try {
    const urls = new Map([[spec.manifest.key, spec.manifest.url], ...spec.shards.map((s) => [s.key, s.url] as [string, string])]);
    const store: IngestStore = {
      getObject: async (key) => {
        const url = urls.get(key);
        if (!url) throw new Error(`no presigned URL for ${key}: the job token grants only this run's inputs`);
        return Readable.from([await download(url)]);
      },
      putObject: async () => {
        throw new Error('the trainer never writes dataset objects');
      },
      deleteObject: async () => {
        throw new Error('the trainer never deletes dataset objects');
      },
    };
    const manifest = JSON.parse((await download(spec.manifest.url)).toString('utf8')) as Manifest;
    const rows: Row[] = [];
    for await (const row of readShards(store, manifest)) rows.push(row);

    let lastBeat = 0;
    const metricBuffer: Array<{ step: number; name: string; value: number; epoch?: number }> = [];
    const flushMetrics = async () => {
      if (metricBuffer.length) await api.call('POST', '/metrics', { points: metricBuffer.splice(0) });
    };
    const config = { ...(spec.train as Omit<TrainConfig, 'shape'>), shape: manifest.shape, resume: spec.checkpoint !== null } as TrainConfig;
    // Loaded here, not at the top: tfjs start-up is the slow part, and a bad spec should fail before it.
    const { train } = await import('./trainer/train');
    const { exportOnnx } = await import('../models/onnx');
    const result = await train(config, {
      data: rows,
      store: new GatewayCheckpointStore(api, spec.checkpoint, flushMetrics),
      callbacks: {
        onStep: async (m) => {
          metricBuffer.push({ step: m.step, name: 'loss', value: m.loss, epoch: m.epoch }, { step: m.step, name: 'learning_rate', value: m.learningRate });
          const now = Date.now();
          if (now - lastBeat >= spec.heartbeatSeconds * 1000 || m.step === m.totalSteps) {
            lastBeat = now;
            await flushMetrics();
            await flushLogs();
            await api.call('POST', '/heartbeat', { step: m.step, totalSteps: m.totalSteps });
          }
        },
        onCheckpoint: async (c) => {
          await flushMetrics();
          log('info', `checkpoint at step ${c.step}`);
        },
        onEval: async (e) => {
          metricBuffer.push({ step: e.step, name: 'knn_accuracy', value: e.knnAccuracy });
        },
        onLog: (level, message) => log(level, message),
      },
    });
    try {
      await flushMetrics();
      const onnx = exportOnnx(result.spec, result.model.getWeights());
      const onnxKey = await upload(api, 'model/model.onnx', onnx);
      const tokenizerJson = result.tokenizer?.toJSON();
      const tokenizerKey = tokenizerJson ? await upload(api, 'model/tokenizer.json', Buffer.from(tokenizerJson)) : null;
      const seq = result.spec.input.kind === 'sequence' ? result.spec.input.length : undefined;
      const preprocess = {
        modality: config.modality,
        pretext: config.pretext,
        ...(config.modality === 'TEXT' ? { maxLength: config.maxLength ?? 64 } : {}),
        ...(config.modality === 'SEQUENCE' ? { sequenceLength: seq, normalization: result.normalization } : {}),
        ...(config.modality === 'IMAGE' && result.spec.input.kind === 'sequence' ? { imageAsRows: true } : {}),
      };
      log('info', `trained ${result.steps} steps (${result.stepsThisRun} this attempt${result.resumedFrom !== null ? `, resumed from ${result.resumedFrom}` : ''}); final loss ${result.finalLoss.toFixed(4)}`);
      await flushLogs();
      await api.call('POST', '/complete', {
        onnxKey,
        tokenizerKey,
        inputSpec: { spec: result.spec, preprocess },
        embeddingDim: embeddingDim(result.spec),
        evaluation: result.evaluation ? { ...result.evaluation } : null,
      });
    } finally {
      result.model.dispose();
      result.heads.dispose();
    }
  } catch (err) {
    log('error', (err as Error).stack ?? String(err));
    await flushLogs().catch(() => undefined);
    await api.call('POST', '/fail', { error: (err as Error).message }).catch(() => undefined);
    throw err;
  }
}

if (require.main === module) {
  const { PRETEXT_GATEWAY_URL, PRETEXT_RUN_ID, PRETEXT_JOB_TOKEN } = process.env;
  if (!PRETEXT_GATEWAY_URL || !PRETEXT_RUN_ID || !PRETEXT_JOB_TOKEN) {
    process.stderr.write('The trainer needs PRETEXT_GATEWAY_URL, PRETEXT_RUN_ID and PRETEXT_JOB_TOKEN (set by the dispatcher).\n');
    process.exit(2);
  }
  runTrainerTask({ gatewayUrl: PRETEXT_GATEWAY_URL, runId: PRETEXT_RUN_ID, token: PRETEXT_JOB_TOKEN }).then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
