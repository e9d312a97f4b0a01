// Chooses the fastest TensorFlow.js backend this process can run, once. Native TensorFlow bindings
// (tfjs-node-gpu, tfjs-node) are optional packages: they exist in the GPU trainer image but cannot be installed
// everywhere (their install script downloads libtensorflow), so their absence is expected and only recorded.
// WebGPU (Dawn) comes from the GPU trainer image's own packages (./webgpu.ts). A GPU run tries GPU engines only
// (GPU_BACKENDS): when none starts it fails instead of falling back to a CPU engine.
import { tf } from './tf';
import { registerWasmKernels } from './kernels';
import { loadWebGpu } from './webgpu';

export const BACKEND_NAMES = ['webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
/** Engines that run on a GPU, in the order a GPU run tries them (see the README's GPU section for why). */
export const GPU_BACKENDS: readonly BackendName[] = ['webgpu', 'tensorflow-gpu'];
/** Engines a CPU run may use, fastest first. */
export const CPU_BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];
/** No explicit accelerator (local training, benchmarks): what this module always chose. */
export const DEFAULT_BACKENDS: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  reason?: string;
}

export interface BackendInfo {
  /** The backend now active in tfjs. */
  name: BackendName;
  /** Every backend tried, in order, with why it was not taken. */
  tried: BackendAttempt[];
}

export interface InitBackendOptions {
  /** Backends to try, in order. Default: tensorflow-gpu, tensorflow, wasm, cpu (fastest first). */
  prefer?: readonly BackendName[];
  /** Folder holding the GPU packages (webgpu); default: infra/trainer-gpu. */
  gpuPackages?: string;
}

// tfjs registers both native bindings under one backend name.
const TFJS_NAME: Record<BackendName, string> = {
  webgpu: 'webgpu',
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

const NATIVE_PACKAGE: Partial<Record<BackendName, string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

let pending: Promise<BackendInfo> | null = null;
let current: BackendInfo | null = null;

/**
 * Activates the first backend of `prefer` that loads. Idempotent: later calls return the first call's result
 * (tfjs holds one global engine, so a process trains on one backend).
 */
export function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const prefer = [...(opts.prefer ?? DEFAULT_BACKENDS)];
  if (prefer.length === 0) throw new Error(`prefer is empty. Should list some of: ${BACKEND_NAMES.join(', ')}.`);
  for (const name of prefer) {
    if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
      throw new Error(`Unsupported backend: "${String(name)}". Should be one of: ${BACKEND_NAMES.join(', ')}.`);
    }
  }
  pending ??= choose(prefer, opts.gpuPackages).then((info) => (current = info));
  return pending;
}

/** The backend chosen by initBackend, or null before it has finished. */
export function currentBackend(): BackendInfo | null {
  return current;
}

/** Thrown when none of the preferred backends starts; `tried` says why, engine by engine. */
export class NoBackendError extends Error {
  constructor(readonly tried: BackendAttempt[]) {
    super(`No TensorFlow.js backend could start: ${tried.map((t) => `${t.name} (${t.reason})`).join('; ')}`);
    this.name = 'NoBackendError';
  }
}

async function choose(prefer: BackendName[], gpuPackages: string | undefined): Promise<BackendInfo> {
  const tried: BackendAttempt[] = [];
  for (const name of prefer) {
    const reason = await tryBackend(name, gpuPackages);
    tried.push(reason === null ? { name, ok: true } : { name, ok: false, reason });
    if (reason === null) return { name, tried };
  }
  throw new NoBackendError(tried);
}

/** Returns null when the backend is now active, else why not. */
async function tryBackend(name: BackendName, gpuPackages: string | undefined): Promise<string | null> {
  try {
    const pkg = NATIVE_PACKAGE[name];
    if (name === 'webgpu') {
      const loaded = await loadWebGpu(gpuPackages);
      if (loaded !== null) return loaded;
    } else if (pkg) {
      const loaded = loadOptional(pkg);
      if (loaded !== null) return loaded;
    } else if (name === 'wasm') {
      registerWasmKernels();
    } else {
      require('@tensorflow/tfjs-backend-cpu');
    }
    const ok = await tf.setBackend(TFJS_NAME[name]);
    if (!ok) return `tf.setBackend('${TFJS_NAME[name]}') failed to initialise`;
    await tf.ready();
    // libtensorflow GPU runs on the CPU when it finds no usable CUDA device; that is not a GPU engine.
    if (name === 'tensorflow-gpu' && (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice !== true) {
      return 'libtensorflow loaded but found no usable CUDA device (it would run on the CPU)';
    }
    return null;
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0]! : String(err);
  }
}

function loadOptional(pkg: string): string | null {
  try {
    require.resolve(pkg);
  } catch {
    return `${pkg} is not installed`;
  }
  require(pkg);
  return null;
}
