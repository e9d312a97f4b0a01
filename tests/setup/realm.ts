// Makes this test file's typed-array globals the ones of Node's main realm.
//
// Why: jest runs each test file in its own vm context with its own Float32Array etc. onnxruntime-node's native
// binding creates output arrays in the main realm and hands them to onnxruntime-common's Tensor constructor,
// which checks `data instanceof Float32Array` against the test context's constructor and throws
// ("A float32 tensor's data must be type of function Float32Array()") — jest issue 11864.
// Importing this module FIRST in a test file (before onnxruntime/tfjs load) makes both sides agree. It belongs in
// jest's setupFiles (tests/setup/env.ts) once the lead adopts it for every suite.
import * as vm from 'node:vm';

const NAMES = [
  'ArrayBuffer',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

// runInThisContext evaluates in the main context, not jest's sandbox.
const outer = vm.runInThisContext(`({ ${NAMES.join(', ')} })`) as Record<(typeof NAMES)[number], unknown>;
for (const name of NAMES) {
  Object.defineProperty(globalThis, name, { value: outer[name], writable: true, configurable: true });
}

export {};
