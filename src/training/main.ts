// The trainer container's entrypoint (`node dist/src/training/main.js`), the same for every dispatcher and both run
// kinds. It holds no credentials: PRETEXT_GATEWAY_URL, PRETEXT_RUN_ID and a job-scoped PRETEXT_JOB_TOKEN are all it
// gets. It reads its spec from the gateway, streams its dataset shards through presigned URLs, runs the task
// (PRETRAIN: src/training/task/pretrain.ts, FINETUNE: src/training/task/finetune.ts) with logs, metrics and
// heartbeats reported as it goes, and reports completion (or the failure) to the trainer API.
import type { TrainerSpec } from '../contracts/trainer-wire';
import type { TaskContext } from './task/context';
import { GatewayClient, readVersion } from './task/gateway-client';
import { startLiveness } from './task/liveness';

export async function runTrainerTask(env: { gatewayUrl: string; runId: string; token: string; gpuPackages?: string }): Promise<void> {
  const api = new GatewayClient(env.gatewayUrl.replace(/\/+$/, ''), env.token);
  const spec = await api.call<TrainerSpec>('GET', '/spec');
  const pendingLogs: Array<{ level: string; message: string }> = [];
  const metricBuffer: Array<{ step: number; name: string; value: number; epoch?: number }> = [];
  let lastBeat = 0;
  const log: TaskContext['log'] = (level, message) => {
    pendingLogs.push({ level, message });
    process.stderr.write(`[trainer ${level}] ${message}\n`);
  };
  const flushLogs = async () => {
    if (pendingLogs.length) await api.call('POST', '/logs', { lines: pendingLogs.splice(0) });
  };
  const flushMetrics = async () => {
    if (metricBuffer.length) await api.call('POST', '/metrics', { points: metricBuffer.splice(0) });
  };
  const liveness = startLiveness({ gatewayUrl: env.gatewayUrl, token: env.token, intervalSeconds: spec.heartbeatSeconds });
  log('info', `trainer pid=${process.pid} attempt=${spec.attempt} ${spec.kind ?? 'PRETRAIN'} started${spec.checkpoint ? `; resuming from checkpoint step ${spec.checkpoint.step}` : ''}`);
  await flushLogs();

  try {
    // The device first: a GPU run without a GPU engine fails here, before any data is read (never retried).
    const { startEngine } = await import('./engine/device-probe');
    const pin = spec.train?.backend ?? spec.finetune?.backend;
    const device = await startEngine(spec.accelerator ?? 'CPU', { ...(env.gpuPackages ? { gpuPackages: env.gpuPackages } : {}), ...(pin ? { pin } : {}) });
    await api.call('POST', '/device', device);
    log('info', `device: ${device.device} via ${device.engine} (${device.accelerator}); probe ${device.probe.size}² matmul in ${device.probe.milliseconds.toFixed(1)} ms, max error ${device.probe.maxAbsError.toExponential(1)}`);
    const { manifest, rows } = await readVersion(spec);
    const ctx: TaskContext = {
      api,
      spec,
      manifest,
      rows,
      log,
      flushLogs,
      metric: (p) => void metricBuffer.push(p),
      flushMetrics,
      heartbeat: async (step, totalSteps, force = false) => {
        const now = Date.now();
        if (!force && now - lastBeat < spec.heartbeatSeconds * 1000) return;
        lastBeat = now;
        await flushMetrics();
        await flushLogs();
        await api.call('POST', '/heartbeat', { step, totalSteps });
      },
    };
    const run = spec.kind === 'FINETUNE' ? (await import('./task/finetune')).runFineTuneTask : (await import('./task/pretrain')).runPretrainTask;
    const report = await run(ctx);
    await flushMetrics();
    await flushLogs();
    await api.call('POST', '/complete', report);
  } catch (err) {
    log('error', (err as Error).stack ?? String(err));
    await flushLogs().catch(() => undefined);
    // Deterministic failures (bad labels, an incompatible base) say so; retrying them would only fail again.
    await api.call('POST', '/fail', { error: (err as Error).message, retryable: (err as { retryable?: boolean }).retryable !== false }).catch(() => undefined);
    throw err;
  } finally {
    await liveness.stop();
  }
}

if (require.main === module) {
  // PRETEXT_GPU_PACKAGES: where the GPU trainer image installed its GPU packages (default: infra/trainer-gpu).
  const { PRETEXT_GATEWAY_URL, PRETEXT_RUN_ID, PRETEXT_JOB_TOKEN, PRETEXT_GPU_PACKAGES } = process.env;
  if (!PRETEXT_GATEWAY_URL || !PRETEXT_RUN_ID || !PRETEXT_JOB_TOKEN) {
    process.stderr.write('The trainer needs PRETEXT_GATEWAY_URL, PRETEXT_RUN_ID and PRETEXT_JOB_TOKEN (set by the dispatcher).\n');
    process.exit(2);
  }
  runTrainerTask({ gatewayUrl: PRETEXT_GATEWAY_URL, runId: PRETEXT_RUN_ID, token: PRETEXT_JOB_TOKEN, ...(PRETEXT_GPU_PACKAGES ? { gpuPackages: PRETEXT_GPU_PACKAGES } : {}) }).then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
