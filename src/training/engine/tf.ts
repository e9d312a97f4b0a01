// The one module training code takes TensorFlow.js from. Every backend (tfjs-node-gpu, tfjs-node, wasm, cpu)
// registers into the same @tensorflow/tfjs-core engine, so callers stay backend-agnostic; which backend is active
// is decided by ./backend.ts at start-up.
import * as tf from '@tensorflow/tfjs';

export { tf };
export type Tensor = tf.Tensor;
