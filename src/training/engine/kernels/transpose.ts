// Transpose for wasm. The wasm kernel walks the input with one strided read per element, which costs ~15 ns per
// element on a 256x784 matrix (cache and TLB misses); training transposes on every matMul gradient and in every
// attention layer. After merging axes that stay neighbours, the two layouts training produces are handled here:
//   - the innermost axis stays innermost (e.g. [B,S,H,dk] → [B,H,S,dk]): copy contiguous runs;
//   - a batch of 2-D transposes (perm [..., r-1, r-2]): cache-blocked tiles.
// Anything else goes to the original kernel.
import { tf } from '../tf';
import { rememberOriginal, sizeOf, type WasmKernelFunc } from './wasm_util';

const TILE = 32;

export function makeTransposeConfig(original: tf.KernelConfig): tf.KernelConfig {
  const originalFunc = original.kernelFunc as unknown as WasmKernelFunc;
  rememberOriginal('Transpose', fastTranspose(originalFunc));
  return { ...original, kernelFunc: fastTranspose(originalFunc) as unknown as tf.KernelFunc };
}

function fastTranspose(originalFunc: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs['x']!;
    const perm = (attrs as unknown as tf.TransposeAttrs).perm;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return originalFunc(args);
    const { shape, order } = mergeAxes(x.shape, perm);
    const r = shape.length;
    const identity = order.every((p, i) => p === i);
    const innerKept = r >= 2 && order[r - 1] === r - 1;
    const batched2d = r >= 2 && order[r - 1] === r - 2 && order[r - 2] === r - 1 && order.slice(0, r - 2).every((p, i) => p === i);
    if (identity || !(innerKept || batched2d)) return originalFunc(args);

    const outShape = perm.map((p) => x.shape[p]!);
    const out = backend.makeOutput(outShape, x.dtype);
    if (sizeOf(outShape) === 0) return out;
    // Both dtypes are 4-byte words; moving them as int32 keeps every bit pattern and one code path monomorphic.
    const dst = int32View(backend.typedArrayFromHeap(out));
    const src = int32View(backend.typedArrayFromHeap(x));
    if (batched2d) {
      const rows = shape[r - 2]!;
      const cols = shape[r - 1]!;
      const batches = sizeOf(shape.slice(0, r - 2));
      transposeBatched2d(src, dst, batches, rows, cols);
    } else {
      copyRuns(src, dst, shape, order);
    }
    return out;
  };
}

function int32View(a: Float32Array | Int32Array | Uint8Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/** Drops size-1 axes and merges input axes that remain adjacent (in order) in the output. */
export function mergeAxes(inShape: number[], perm: number[]): { shape: number[]; order: number[] } {
  const kept = perm.filter((p) => inShape[p] !== 1);
  // Groups of consecutive input axes appearing consecutively in the output.
  const groups: number[][] = [];
  for (const p of kept) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] === p - 1 && allOnesBetween(inShape, last[last.length - 1]!, p)) last.push(p);
    else groups.push([p]);
  }
  // Rank groups by their first input axis to get the merged input layout.
  const byInput = [...groups].sort((a, b) => a[0]! - b[0]!);
  const shape = byInput.map((g) => g.reduce((n, a) => n * inShape[a]!, 1));
  const order = groups.map((g) => byInput.indexOf(g));
  return { shape, order };
}

function allOnesBetween(shape: number[], from: number, to: number): boolean {
  for (let a = from + 1; a < to; a++) if (shape[a] !== 1) return false;
  return true;
}

// Tiles walk the output sequentially (one column of the input at a time), which measured ~2 ns per element
// against ~7 ns for row-order tiles on tall matrices.
function transposeBatched2d(src: Int32Array, dst: Int32Array, batches: number, rows: number, cols: number): void {
  const plane = rows * cols;
  for (let b = 0; b < batches; b++) {
    const base = b * plane;
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(c0 + TILE, cols);
      for (let r0 = 0; r0 < rows; r0 += TILE) {
        const r1 = Math.min(r0 + TILE, rows);
        for (let c = c0; c < c1; c++) {
          let d = base + c * rows + r0;
          let s = base + r0 * cols + c;
          for (let r = r0; r < r1; r++, d++, s += cols) dst[d] = src[s]!;
        }
      }
    }
  }
}

/** Output-order walk where the innermost axis is contiguous in both layouts. */
function copyRuns(src: Int32Array, dst: Int32Array, shape: number[], order: number[]): void {
  const r = shape.length;
  const run = shape[r - 1]!;
  const inStrides = new Array<number>(r);
  inStrides[r - 1] = 1;
  for (let a = r - 2; a >= 0; a--) inStrides[a] = inStrides[a + 1]! * shape[a + 1]!;
  // Output axes except the innermost, with their sizes and input strides.
  const outer = order.slice(0, r - 1);
  const sizes = outer.map((p) => shape[p]!);
  const strides = outer.map((p) => inStrides[p]!);
  const idx = new Array<number>(outer.length).fill(0);
  const total = sizeOf(sizes);
  let inOff = 0;
  for (let k = 0, o = 0; k < total; k++, o += run) {
    // Short runs (attention heads: 32 values) copy faster element by element than through subarray views.
    if (run >= 256) dst.set(src.subarray(inOff, inOff + run), o);
    else for (let e = 0; e < run; e++) dst[o + e] = src[inOff + e]!;
    // Advance the odometer over the outer output axes.
    for (let a = outer.length - 1; a >= 0; a--) {
      idx[a]!++;
      inOff += strides[a]!;
      if (idx[a]! < sizes[a]!) break;
      inOff -= strides[a]! * sizes[a]!;
      idx[a] = 0;
    }
  }
}
