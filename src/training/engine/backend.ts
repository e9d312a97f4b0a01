// Chooses the fastest TensorFlow.js backend this process can run, once. Native TensorFlow bindings
// (tfjs-node-gpu, tfjs-node) are optional packages: they exist in the GPU trainer image but cannot be installed
// everywhere (their install script downloads libtensorflow), so their absence is expected and only recorded.
import { tf } from './tf';
import { registerWasmKernels } from './kernels';

export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

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
  /** Backends to try, in order. Default: all of BACKEND_NAMES (fastest first). */
  prefer?: BackendName[];
}

// tfjs registers both native bindings under one backend name.
const TFJS_NAME: Record<BackendName, string> = {
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
  const prefer = opts.prefer ?? [...BACKEND_NAMES];
  if (prefer.length === 0) throw new Error(`prefer is empty. Should list some of: ${BACKEND_NAMES.join(', ')}.`);
  for (const name of prefer) {
    if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
      throw new Error(`Unsupported backend: "${String(name)}". Should be one of: ${BACKEND_NAMES.join(', ')}.`);
    }
  }
  pending ??= choose(prefer).then((info) => (current = info));
  return pending;
}

/** The backend chosen by initBackend, or null before it has finished. */
export function currentBackend(): BackendInfo | null {
  return current;
}

async function choose(prefer: BackendName[]): Promise<BackendInfo> {
  const tried: BackendAttempt[] = [];
  for (const name of prefer) {
    const reason = await tryBackend(name);
    tried.push(reason === null ? { name, ok: true } : { name, ok: false, reason });
    if (reason === null) return { name, tried };
  }
  throw new Error(`No TensorFlow.js backend could start: ${tried.map((t) => `${t.name} (${t.reason})`).join('; ')}`);
}

/** Returns null when the backend is now active, else why not. */
async function tryBackend(name: BackendName): Promise<string | null> {
  try {
    const pkg = NATIVE_PACKAGE[name];
    if (pkg) {
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
