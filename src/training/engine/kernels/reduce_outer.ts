// Sum and Mean over leading axes for wasm. The wasm reduction kernels reduce innermost axes only, so for
// axes [0..k) they first transpose the whole input with their own slow transpose: a conv bias gradient
// (sum over N, H, W of a 256x28x28x32 tensor) took 0.2 s. Reducing leading axes is a row-by-row accumulation
// into C running sums, one pass over the wasm heap (float64 accumulators). Other axis sets keep the original.
//
//   Sum:  out[c] = Σ_r x[r, c]        Mean: out[c] = Σ_r x[r, c] / R      x viewed as [R, C]
import { tf } from '../tf';
import { sizeOf, type WasmKernelFunc } from './wasm_util';

export function makeOuterReduceConfig(original: tf.KernelConfig, mean: boolean): tf.KernelConfig {
  const originalFunc = original.kernelFunc as unknown as WasmKernelFunc;
  const kernelFunc: WasmKernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs['x']!;
    const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== 'float32') return originalFunc(args);

    const rows = sizeOf(x.shape.slice(0, axes.length));
    const cols = sizeOf(x.shape.slice(axes.length));
    const outShape = keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : x.shape.slice(axes.length);
    const out = backend.makeOutput(outShape, 'float32');
    const src = backend.typedArrayFromHeap(x);
    const acc = new Float64Array(cols);
    for (let r = 0, off = 0; r < rows; r++, off += cols) {
      for (let c = 0; c < cols; c++) acc[c] += src[off + c]!;
    }
    if (mean && rows > 0) for (let c = 0; c < cols; c++) acc[c] /= rows;
    backend.typedArrayFromHeap(out).set(acc);
    return out;
  };
  return { ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
