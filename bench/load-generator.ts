// The load generator of `pretext bench embed`, in its own process so its HTTP client work never shares the
// server's event loop or CPU accounting. Plain node:http with keep-alive sockets (cheaper per request than fetch).
//
//   const lg = startLoadGenerator();
//   const r = await lg.run({ url, headers, bodies, inputsPerRequest, mode: { kind: 'closed', concurrency: 128 }, ... });
//   await lg.close();
//
// closed loop: `concurrency` callers, each sending its next request when the previous one answered (saturation).
// open loop:   requests start at a fixed rate whatever the answers (a given load); latency counts from the
//              scheduled start, so a stalled server cannot hide queueing delay (no coordinated omission).
// A request fails when its status is not 200 or a GraphQL body carries errors.
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadJob {
  url: string;
  headers: Record<string, string>;
  /** Request bodies, cycled. */
  bodies: string[];
  inputsPerRequest: number;
  mode: { kind: 'closed'; concurrency: number } | { kind: 'open'; ratePerSecond: number };
  warmupMs: number;
  durationMs: number;
}

export interface LoadResult {
  requests: number;
  /** Inputs per second (requests × inputsPerRequest). */
  perSecond: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  firstError?: string;
  /** CPU the load generator used during the measurement, in cores (1 = one core busy all the time). */
  cpuCores: number;
}

export interface LoadGenerator {
  run(job: LoadJob): Promise<LoadResult>;
  close(): Promise<void>;
}

export function startLoadGenerator(): LoadGenerator {
  const child: ChildProcess = fork(__filename, ['--load-generator'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let next = 0;
  const pending = new Map<number, { resolve: (r: LoadResult) => void; reject: (e: Error) => void }>();
  child.on('message', (m: { id: number; result?: LoadResult; error?: string }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.result) p.resolve(m.result);
    else p.reject(new Error(m.error ?? 'load generator failed'));
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`load generator exited with ${code}`));
    pending.clear();
  });
  return {
    run(job) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, job });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send({ exit: true });
      });
    },
  };
}

// --- the child ------------------------------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function runJob(job: LoadJob): Promise<LoadResult> {
  const target = new URL(job.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.mode.kind === 'closed' ? job.mode.concurrency : 1024 });
  const bodies = job.bodies.map((b) => Buffer.from(b));
  let cursor = 0;
  const send = (): Promise<{ ok: boolean; error?: string }> =>
    new Promise((resolve) => {
      const body = bodies[cursor++ % bodies.length]!;
      const req = http.request(
        { host: target.hostname, port: target.port, path: target.pathname + target.search, method: 'POST', agent, headers: { ...job.headers, 'content-length': body.length } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode !== 200) return resolve({ ok: false, error: `HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}` });
            const head = chunks[0]?.subarray(0, 64).toString('utf8') ?? '';
            // Apollo writes errors first; a GraphQL failure answers 200 only with partial data, never silently.
            if (head.startsWith('{"errors"')) return resolve({ ok: false, error: Buffer.concat(chunks).toString('utf8').slice(0, 300) });
            resolve({ ok: true });
          });
        },
      );
      req.on('error', (err) => resolve({ ok: false, error: err.message }));
      req.end(body);
    });

  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const measureFrom = started + job.warmupMs;
  const deadline = measureFrom + job.durationMs;
  let cpuAtStart: NodeJS.CpuUsage | null = null;
  const startCpu = setTimeout(() => (cpuAtStart = process.cpuUsage()), job.warmupMs);
  const record = (t0: number, r: { ok: boolean; error?: string }) => {
    // Closed loop: only requests that start and end inside the window count, so the rate is what the window saw.
    // Open loop: every request scheduled inside the window counts, however late it answers.
    if (t0 < measureFrom || (job.mode.kind === 'closed' && performance.now() > deadline)) return;
    if (r.ok) latencies.push(performance.now() - t0);
    else {
      failed++;
      firstError ??= r.error;
    }
  };

  if (job.mode.kind === 'closed') {
    await Promise.all(
      Array.from({ length: job.mode.concurrency }, async () => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          record(t0, await send());
        }
      }),
    );
  } else {
    const interval = 1000 / job.mode.ratePerSecond;
    const inFlight: Promise<void>[] = [];
    let k = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        // Start every request whose scheduled time has come (timers are coarser than the interval at high rates).
        while (started + k * interval <= now && started + k * interval < deadline) {
          const t0 = started + k * interval;
          k++;
          inFlight.push(send().then((r) => record(t0, r)));
        }
        if (started + k * interval >= deadline) return resolve();
        setTimeout(tick, Math.max(0, Math.min(interval, started + k * interval - performance.now())));
      };
      tick();
    });
    await Promise.all(inFlight);
  }
  clearTimeout(startCpu);
  const cpu = process.cpuUsage(cpuAtStart ?? undefined);
  const seconds = (Math.min(performance.now(), deadline) - measureFrom) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    requestsPerSecond: latencies.length / seconds,
    perSecond: (latencies.length * job.inputsPerRequest) / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    failed,
    ...(firstError ? { firstError } : {}),
    cpuCores: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}

if (process.argv.includes('--load-generator')) {
  process.on('message', (m: { id: number; job?: LoadJob; exit?: boolean }) => {
    if (m.exit) process.exit(0);
    runJob(m.job!).then(
      (result) => process.send!({ id: m.id, result }),
      (err: unknown) => process.send!({ id: m.id, error: String(err) }),
    );
  });
}
