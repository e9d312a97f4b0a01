// Binary ops (Add, Sub, Multiply, RealDiv) between [..., C] and a per-row [..., 1] operand on wasm. The wasm
// binary kernels take a generic per-element index path whenever shapes differ: LayerNorm's x − mean and
// (x − mean)·rsqrt(var) on [4096, 128] × [4096, 1] cost ~2.6 ms each, and a Transformer step makes dozens.
// One loop over the wasm heap does it in a fraction; every other shape pair keeps the original kernel.
//
//   out[r, c] = a[r, c] ∘ b[r]   (or a[r] ∘ b[r, c])
import { tf } from '../tf';
import { sizeOf, type WasmKernelFunc } from './wasm_util';

export const ROW_BROADCAST_KERNELS = ['Add', 'Sub', 'Multiply', 'RealDiv'] as const;
type Kind = (typeof ROW_BROADCAST_KERNELS)[number];

/** Rows and columns when `full` is [...lead, C] and `col` is [...lead, 1] with C > 1; otherwise null. */
function rowShape(full: number[], col: number[]): { rows: number; cols: number } | null {
  const r = full.length;
  if (r < 2 || col.length !== r || col[r - 1] !== 1 || full[r - 1]! <= 1) return null;
  for (let i = 0; i < r - 1; i++) if (full[i] !== col[i]) return null;
  return { rows: sizeOf(full.slice(0, -1)), cols: full[r - 1]! };
}

export function makeRowBroadcastConfig(original: tf.KernelConfig): tf.KernelConfig {
  const originalFunc = original.kernelFunc as unknown as WasmKernelFunc;
  const kind = original.kernelName as Kind;
  const kernelFunc: WasmKernelFunc = (args) => {
    const { inputs, backend } = args;
    const a = inputs['a']!;
    const b = inputs['b']!;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return originalFunc(args);
    const aFull = rowShape(a.shape, b.shape);
    const bFull = aFull ? null : rowShape(b.shape, a.shape);
    const layout = aFull ?? bFull;
    if (!layout) return originalFunc(args);
    const { rows, cols } = layout;
    const out = backend.makeOutput(aFull ? a.shape : b.shape, 'float32');
    const o = backend.typedArrayFromHeap(out) as Float32Array;
    const av = backend.typedArrayFromHeap(a) as Float32Array;
    const bv = backend.typedArrayFromHeap(b) as Float32Array;
    if (aFull) rowsByScalar(kind, av, bv, o, rows, cols);
    else scalarByRows(kind, av, bv, o, rows, cols);
    return out;
  };
  return { ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

// One loop per op (not a callback) so V8 compiles each to straight arithmetic.
function rowsByScalar(kind: Kind, a: Float32Array, b: Float32Array, o: Float32Array, rows: number, cols: number): void {
  for (let r = 0, k = 0; r < rows; r++) {
    const y = b[r]!;
    const end = k + cols;
    switch (kind) {
      case 'Add': for (; k < end; k++) o[k] = a[k]! + y; break;
      case 'Sub': for (; k < end; k++) o[k] = a[k]! - y; break;
      case 'Multiply': for (; k < end; k++) o[k] = a[k]! * y; break;
      case 'RealDiv': for (; k < end; k++) o[k] = a[k]! / y; break;
    }
  }
}

function scalarByRows(kind: Kind, a: Float32Array, b: Float32Array, o: Float32Array, rows: number, cols: number): void {
  for (let r = 0, k = 0; r < rows; r++) {
    const x = a[r]!;
    const end = k + cols;
    switch (kind) {
      case 'Add': for (; k < end; k++) o[k] = x + b[k]!; break;
      case 'Sub': for (; k < end; k++) o[k] = x - b[k]!; break;
      case 'Multiply': for (; k < end; k++) o[k] = x * b[k]!; break;
      case 'RealDiv': for (; k < end; k++) o[k] = x / b[k]!; break;
    }
  }
}
