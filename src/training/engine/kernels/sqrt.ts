// Sqrt for wasm as one loop over the wasm heap. The wasm kernel costs ~19 ns per element (Adam takes the square
// root of its second-moment estimate for every weight on every step: 7.7 ms of a 40 ms MLP step); V8 compiles
// Math.sqrt to the hardware instruction, ~1 ns per element. IEEE square root is correctly rounded, so float32
// results are identical to the original kernel's.
import { tf } from '../tf';
import { sizeOf, type WasmKernelFunc } from './wasm_util';

export function makeSqrtConfig(original: tf.KernelConfig): tf.KernelConfig {
  const originalFunc = original.kernelFunc as unknown as WasmKernelFunc;
  const kernelFunc: WasmKernelFunc = (args) => {
    const x = args.inputs['x']!;
    if (x.dtype !== 'float32') return originalFunc(args);
    const out = args.backend.makeOutput(x.shape, 'float32');
    const dst = args.backend.typedArrayFromHeap(out) as Float32Array;
    const src = args.backend.typedArrayFromHeap(x) as Float32Array;
    const n = sizeOf(x.shape);
    for (let i = 0; i < n; i++) dst[i] = Math.sqrt(src[i]!);
    return out;
  };
  return { ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
