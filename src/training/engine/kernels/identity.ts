// Identity (and same-dtype Cast) for wasm without a copy, and a correct float → bool Cast. tfjs clones every tensor it saves for the backward
// pass through the Identity kernel, and the wasm kernel copies the data each time (a Transformer step made 450
// such copies, 56 of them 4096x512). Tensors are immutable and no wasm kernel writes into its inputs, so the
// output can share the input's buffer under one more reference, as the cpu backend's Identity does.
import { tf } from '../tf';
import { dispose, runKernel, type WasmKernelFunc } from './wasm_util';

const shareBuffer: WasmKernelFunc = ({ inputs, backend }) => {
  const x = inputs['x']!;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

export function makeIdentityConfig(original: tf.KernelConfig): tf.KernelConfig {
  const originalFunc = original.kernelFunc as unknown as WasmKernelFunc;
  const kernelFunc: WasmKernelFunc = (args) => (args.inputs['x']!.dtype === 'string' ? originalFunc(args) : shareBuffer(args));
  return { ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

// tfjs-backend-wasm 4.22 casts float32 to bool by truncating to an integer and keeping its low byte
// (-3.7 → 253, 0.4 → 0); TensorFlow's rule is x ≠ 0, which NotEqual computes.
export function makeCastConfig(original: tf.KernelConfig): tf.KernelConfig {
  const originalFunc = original.kernelFunc as unknown as WasmKernelFunc;
  const kernelFunc: WasmKernelFunc = (args) => {
    const x = args.inputs['x']!;
    const { dtype } = args.attrs as unknown as tf.CastAttrs;
    if (dtype === x.dtype && dtype !== 'string') return shareBuffer(args);
    if (dtype === 'bool' && (x.dtype === 'float32' || x.dtype === 'int32')) {
      const zero = args.backend.makeOutput([], x.dtype);
      args.backend.typedArrayFromHeap(zero)[0] = 0;
      const out = runKernel(args.backend, 'NotEqual', { a: x, b: zero });
      dispose(args.backend, zero);
      return out;
    }
    return originalFunc(args);
  };
  return { ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
