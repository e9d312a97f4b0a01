// Liveness heartbeats from a worker thread. tfjs-wasm kernels run synchronously and long phases without optimizer
// steps (embedding every row for a probe or an evaluation report, fitting a linear head on tens of thousands of
// rows) chain only immediately-resolved promises, so timers on the main thread never fire and the supervisor would
// take a busy trainer for a dead one (RUN_HEARTBEAT_STALE_SECONDS). A worker thread has its own event loop: it
// keeps reporting "alive" (no step, so progress is untouched) for as long as the process lives; step progress is
// still reported by the task itself. A hung trainer is bounded by the run timeout instead.
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const beat = () =>
  fetch(workerData.url, { method: 'POST', headers: { authorization: 'Bearer ' + workerData.token, 'content-type': 'application/json' }, body: '{}' })
    .then((r) => r.arrayBuffer())
    .catch(() => undefined);
setInterval(beat, workerData.intervalMs);
`;

export interface Liveness {
  stop(): Promise<void>;
}

export function startLiveness(opts: { gatewayUrl: string; token: string; intervalSeconds: number }): Liveness {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { url: `${opts.gatewayUrl.replace(/\/+$/, '')}/internal/trainer/heartbeat`, token: opts.token, intervalMs: Math.max(100, opts.intervalSeconds * 1000) },
  });
  // Never the reason the process stays up.
  worker.unref();
  return {
    stop: async () => {
      await worker.terminate();
    },
  };
}
