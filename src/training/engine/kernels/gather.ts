// GatherV2 for wasm along axis 0 (embedding lookups: a [V, ...inner] table, int32 ids of any shape):
//
//   out[k, ...] = x[ids[k], ...]      out: [...ids.shape, ...inner]
//
// tfjs-backend-wasm 4.22 checks every index with an assertion that allocates a message closure, then copies
// element by element through generic strides. One bounds check and one row copy per index, measured on this
// 2-core machine (lookup + sum over T, read back): [64, 128] ids into a [4000, 64] table 16.7 → 1.0 ms (with the
// gradient 28.4 → 11.7 ms); [256, 1024] ids 636 → 243 ms. Other axes, batch dims and dtypes go to the original.
import { tf } from '../tf';
import { dispose, sizeOf, type WasmKernelFunc } from './wasm_util';

export function makeGatherConfig(original: tf.KernelConfig): tf.KernelConfig {
  const originalFunc = original.kernelFunc as unknown as WasmKernelFunc;
  const kernelFunc: WasmKernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs['x']!;
    const indices = inputs['indices']!;
    const { axis, batchDims } = attrs as unknown as tf.GatherV2Attrs;
    const rank = x.shape.length;
    const parsedAxis = axis < 0 ? axis + rank : axis;
    if (parsedAxis !== 0 || (batchDims ?? 0) !== 0 || rank < 1 || (x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') {
      return originalFunc(args);
    }
    const rows = x.shape[0]!;
    const innerShape = x.shape.slice(1);
    const inner = sizeOf(innerShape);
    const count = sizeOf(indices.shape);
    const out = backend.makeOutput([...indices.shape, ...innerShape], x.dtype);
    // Views are taken after makeOutput: an allocation may grow (and so detach) the wasm heap.
    const outValues = backend.typedArrayFromHeap(out);
    const xValues = backend.typedArrayFromHeap(x);
    const idValues = backend.typedArrayFromHeap(indices);
    for (let k = 0; k < count; k++) {
      const r = idValues[k]!;
      if (!(r >= 0 && r < rows)) {
        dispose(backend, out);
        // The message of the original kernel (and of the cpu backend), so callers see the same error.
        throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
      }
      outValues.set(xValues.subarray(r * inner, (r + 1) * inner), k * inner);
    }
    return out;
  };
  return { ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
