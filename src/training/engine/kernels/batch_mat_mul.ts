// BatchMatMul for wasm without transpose flags. The wasm kernel runs XNNPACK only for plain a·b; with
// transposeA/transposeB (every weight gradient: dW = xᵀ·dy, dx = dy·Wᵀ) it falls back to a scalar loop that is
// ~10x slower. Transposing explicitly first (one memory pass) and calling the plain kernel is far cheaper.
// The same scalar loop serves every batched product (batch > 1, e.g. attention's [B·H, S, dk] · [B·H, dk, S]:
// ~2 GFLOP/s), so large enough batched products run as one XNNPACK GEMM per batch entry on views into the
// operands, with no copies in.
import { tf } from '../tf';
import { alias, dispose, rememberOriginal, releaseAlias, runKernel, sizeOf, transposeInner, type WasmBackend, type WasmKernelFunc } from './wasm_util';

// Below this many multiply-adds per batch entry the call overhead of a GEMM per entry (~10 µs) exceeds the
// scalar loop's cost.
const PER_ENTRY_MIN_MACS = 8192;

export function makeBatchMatMulConfig(original: tf.KernelConfig): tf.KernelConfig {
  rememberOriginal('BatchMatMul', original.kernelFunc as unknown as WasmKernelFunc);
  const kernelFunc: WasmKernelFunc = ({ inputs, backend, attrs }) => {
    const { transposeA, transposeB } = attrs as { transposeA?: boolean; transposeB?: boolean };
    return untransposedMatMul(backend, 'BatchMatMul', inputs, attrs, !!transposeA, !!transposeB);
  };
  return { ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

/** Shared by BatchMatMul and _FusedMatMul: materialise the transposes, then run the original kernel. */
export function untransposedMatMul(
  backend: WasmBackend,
  kernelName: string,
  inputs: Record<string, tf.TensorInfo>,
  attrs: tf.NamedAttrMap,
  transposeA: boolean,
  transposeB: boolean,
): tf.TensorInfo {
  const a = transposeA ? transposeInner(backend, inputs['a']!) : inputs['a']!;
  const b = transposeB ? transposeInner(backend, inputs['b']!) : inputs['b']!;
  const out = kernelName === 'BatchMatMul' && perEntryWorthIt(a, b)
    ? perEntryMatMul(backend, a, b)
    : runKernel(backend, kernelName, { ...inputs, a, b }, { ...attrs, transposeA: false, transposeB: false });
  if (transposeA) dispose(backend, a);
  if (transposeB) dispose(backend, b);
  return out;
}

function perEntryWorthIt(a: tf.TensorInfo, b: tf.TensorInfo): boolean {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 3 && b.shape.length < 3) return false;
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  if (Math.max(batchA, batchB) < 2) return false;
  // Only equal batch shapes, or one side unbatched (broadcast); other broadcasts keep the original kernel.
  const sameBatch = a.shape.length === b.shape.length && a.shape.slice(0, -2).every((d, i) => d === b.shape[i]);
  if (!sameBatch && batchA !== 1 && batchB !== 1) return false;
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  return m * k * n >= PER_ENTRY_MIN_MACS;
}

/** a: [...batch, m, k] · b: [...batch, k, n] as one plain GEMM per batch entry on aliased views. */
function perEntryMatMul(backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const outer = a.shape.length >= b.shape.length ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  const out = backend.makeOutput([...outer, m, n], 'float32');
  for (let e = 0; e < batch; e++) {
    const aView = alias(backend, a, batchA === 1 ? 0 : e * m * k, [m, k]);
    const bView = alias(backend, b, batchB === 1 ? 0 : e * k * n, [k, n]);
    const product = runKernel(backend, 'BatchMatMul', { a: aView, b: bView }, { transposeA: false, transposeB: false });
    // Views are taken after the GEMM's allocation: an allocation may grow (and so detach) the wasm heap.
    (backend.typedArrayFromHeap(out) as Float32Array).set(backend.typedArrayFromHeap(product) as Float32Array, e * m * n);
    dispose(backend, product);
    releaseAlias(backend, aView);
    releaseAlias(backend, bView);
  }
  return out;
}
