// The trainer's proof of its device, run once at start: activate an engine the run's accelerator allows (a GPU
// run gets GPU engines only, never a silent CPU fallback), run a small matmul on it against a float64 reference,
// and describe the device (name, memory where something reports it). The report is sent to the gateway and stored
// on the run (`Run.device`).
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { gpuUnavailableMessage, type Accelerator, type DeviceReport } from '../../contracts/accelerator';
import { CPU_BACKENDS, GPU_BACKENDS, NoBackendError, initBackend, type BackendInfo, type BackendName } from './backend';
import { tf } from './tf';
import { webGpuAdapter } from './webgpu';

/** A GPU run whose trainer has no GPU engine. Not retryable: another attempt on the same image fails the same way. */
export class GpuUnavailableError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'GpuUnavailableError';
  }
}

export interface StartEngineOptions {
  /** Folder holding the GPU packages (default: infra/trainer-gpu in this tree). */
  gpuPackages?: string;
  /** n of the probe's n×n matmul (default 128). */
  probeSize?: number;
  /** CPU runs whose hyperparameters pin a backend (wasm | cpu): probe that one, since training will use it. */
  pin?: BackendName;
}

/** Largest |device − float64 reference| the probe accepts (entries are sums of n products of values in [-1, 1]). */
export const PROBE_TOLERANCE = 1e-3;

/** Activates the engine for `accelerator` and proves it; throws GpuUnavailableError when a GPU run has no GPU. */
export async function startEngine(accelerator: Accelerator, opts: StartEngineOptions = {}): Promise<DeviceReport> {
  let info: BackendInfo;
  try {
    if (accelerator === 'GPU' && opts.pin && !GPU_BACKENDS.includes(opts.pin)) throw new GpuUnavailableError(`accelerator GPU cannot train on the pinned CPU backend "${opts.pin}"`);
    const prefer = accelerator === 'GPU' ? GPU_BACKENDS : opts.pin ? [opts.pin] : CPU_BACKENDS;
    info = await initBackend({ prefer, ...(opts.gpuPackages ? { gpuPackages: opts.gpuPackages } : {}) });
  } catch (err) {
    if (accelerator === 'GPU' && err instanceof NoBackendError) {
      throw new GpuUnavailableError(gpuUnavailableMessage(err.tried.map((t) => ({ backend: t.name, ok: t.ok, ...(t.reason ? { reason: t.reason } : {}) }))));
    }
    throw err;
  }
  const probe = await probeMatmul(opts.probeSize ?? 128);
  if (!(probe.maxAbsError <= PROBE_TOLERANCE)) {
    const message = `the ${info.name} engine computed a ${probe.size}×${probe.size} matmul off by ${probe.maxAbsError} (tolerance ${PROBE_TOLERANCE}); its results cannot be trusted`;
    throw accelerator === 'GPU' ? new GpuUnavailableError(message) : new Error(message);
  }
  return { accelerator, ...describe(info), probe, tried: info.tried.map((t) => ({ backend: t.name, ok: t.ok, ...(t.reason ? { reason: t.reason } : {}) })) };
}

/** A seeded n×n · n×n product on the active backend, timed with read-back, compared with a float64 product. */
export async function probeMatmul(n: number): Promise<DeviceReport['probe']> {
  const a = seeded(n * n, 1);
  const b = seeded(n * n, 2);
  const t0 = performance.now();
  const ta = tf.tensor2d(a, [n, n]);
  const tb = tf.tensor2d(b, [n, n]);
  const tc = tf.matMul(ta, tb);
  const got = await tc.data();
  const milliseconds = performance.now() - t0;
  tf.dispose([ta, tb, tc]);
  let maxAbsError = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k]! * b[k * n + j]!;
      const e = Math.abs(s - got[i * n + j]!);
      if (!(e <= maxAbsError)) maxAbsError = Number.isNaN(e) ? Infinity : e;
    }
  }
  return { size: n, milliseconds, maxAbsError: Number.isFinite(maxAbsError) ? maxAbsError : Number.MAX_VALUE };
}

function describe(info: BackendInfo): Omit<DeviceReport, 'accelerator' | 'probe' | 'tried'> {
  const core = tf.version_core;
  switch (info.name) {
    case 'webgpu': {
      const a = webGpuAdapter();
      const smi = nvidiaSmi();
      return {
        backend: 'webgpu',
        engine: `@tensorflow/tfjs-backend-webgpu@${core} on Dawn (webgpu)`,
        device: a?.description ?? smi?.name ?? 'WebGPU adapter',
        vendor: a?.vendor ?? null,
        memoryBytes: smi?.memoryBytes ?? null,
        memorySource: smi ? 'nvidia-smi' : null,
        maxBufferBytes: a?.maxBufferBytes ?? null,
      };
    }
    case 'tensorflow-gpu': {
      const smi = nvidiaSmi();
      return { backend: 'tensorflow', engine: `@tensorflow/tfjs-node-gpu@${core}`, device: smi?.name ?? 'CUDA device', vendor: 'NVIDIA', memoryBytes: smi?.memoryBytes ?? null, memorySource: smi ? 'nvidia-smi' : null, maxBufferBytes: null };
    }
    default: {
      const cpus = os.cpus();
      const pkg = info.name === 'tensorflow' ? '@tensorflow/tfjs-node' : `@tensorflow/tfjs-backend-${info.name}`;
      return {
        backend: info.name,
        engine: `${pkg}@${core}`,
        device: `${cpus[0]?.model?.trim() || os.arch()} (${cpus.length} cores)`,
        vendor: null,
        memoryBytes: os.totalmem(),
        memorySource: 'os.totalmem',
        maxBufferBytes: null,
      };
    }
  }
}

/** The first GPU's name and memory from nvidia-smi, where the driver utilities are mounted; null otherwise. */
function nvidiaSmi(): { name: string; memoryBytes: number } | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    const [name, mib] = (out.split('\n')[0] ?? '').split(',').map((s) => s.trim());
    const memoryMiB = Number(mib);
    return name && Number.isFinite(memoryMiB) ? { name, memoryBytes: Math.round(memoryMiB * 2 ** 20) } : null;
  } catch {
    return null;
  }
}

function seeded(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}
