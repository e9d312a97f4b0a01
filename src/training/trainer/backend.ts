// The trainer's backend switch. The engine (src/training/engine) decides what "fastest" means and patches wasm's
// missing gradient kernels; this adds an explicit per-run choice (tests pin 'wasm' or 'cpu').
import { tf } from '../engine/tf';
import { initBackend } from '../engine/backend';
import { registerWasmKernels } from '../engine/kernels';
import { BACKENDS, type BackendName } from '../../contracts/train-config';

// The names are part of the wire contract (a run's `train.backend`), so they live in src/contracts.
export { BACKENDS, type BackendName };

/** Activates `name` (or the engine's fastest available when omitted) and returns the active tfjs backend's name. */
export async function useBackend(name?: BackendName): Promise<string> {
  if (name === undefined) {
    await initBackend();
    return tf.getBackend();
  }
  if (!BACKENDS.includes(name)) throw new Error(`Unsupported backend: "${String(name)}". Should be one of: ${BACKENDS.join(', ')}.`);
  if (tf.getBackend() === name) return name;
  if (name === 'wasm') registerWasmKernels();
  else require('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend(name))) throw new Error(`Could not initialise the ${name} backend. Should be one of: ${BACKENDS.join(', ')}.`);
  await tf.ready();
  return tf.getBackend();
}
