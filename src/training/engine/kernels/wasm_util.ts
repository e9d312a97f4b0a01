// Shared machinery for our wasm kernel patches. Patches compose the wasm backend's own kernels at the
// backend level (TensorInfo in, TensorInfo out) the way tfjs backends build composite kernels: no engine
// bookkeeping, no tape, and every intermediate buffer is released with `disposeData` before returning.
import { tf } from '../tf';

type TensorInfo = tf.TensorInfo;
type NamedAttrMap = tf.NamedAttrMap;

/** The slice of tfjs-backend-wasm's `BackendWasm` our patches use (its class is not exported as a type). */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

export type WasmKernelFunc = (args: { inputs: Record<string, TensorInfo>; backend: WasmBackend; attrs: NamedAttrMap }) => TensorInfo;

// Originals of kernels we wrap (BatchMatMul, _FusedMatMul) are kept here so that patches can call the fast,
// untransposed path of the original without recursing into the wrapper.
const originals = new Map<string, WasmKernelFunc>();

export function rememberOriginal(kernelName: string, func: WasmKernelFunc): void {
  if (!originals.has(kernelName)) originals.set(kernelName, func);
}

/** Runs a wasm kernel (the original one where we wrapped it) and returns its output TensorInfo. */
export function runKernel(
  backend: WasmBackend,
  kernelName: string,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const original = originals.get(kernelName);
  if (original) return original({ inputs, backend, attrs });
  const config = tf.getKernel(kernelName, 'wasm');
  if (!config) throw new Error(`wasm backend has no kernel "${kernelName}"`);
  return (config.kernelFunc as unknown as WasmKernelFunc)({ inputs, backend, attrs });
}

export function dispose(backend: WasmBackend, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

export function reshape(backend: WasmBackend, x: TensorInfo, shape: number[]): TensorInfo {
  return runKernel(backend, 'Reshape', { x }, { shape });
}

export function transpose(backend: WasmBackend, x: TensorInfo, perm: number[]): TensorInfo {
  return runKernel(backend, 'Transpose', { x }, { perm });
}

/** Swaps the two innermost axes (the explicit form of a matMul transpose flag). */
export function transposeInner(backend: WasmBackend, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return transpose(backend, x, perm);
}

/** Plain (untransposed) matMul through the original wasm kernel, which runs on XNNPACK. */
export function matMul(backend: WasmBackend, a: TensorInfo, b: TensorInfo): TensorInfo {
  return runKernel(backend, 'BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
}

export function sizeOf(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Reads a kernel attribute that tfjs stores as either a number or a pair. */
export function pair(value: number | number[] | undefined, name: string): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2) return [value[0]!, value[1]!];
  throw new Error(`Unsupported ${name}: ${JSON.stringify(value)}. Should be a number or [height, width].`);
}

export function requireNhwc(dataFormat: unknown, kernelName: string): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`Unsupported dataFormat for ${kernelName} on wasm: "${String(dataFormat)}". Should be one of: NHWC.`);
  }
}

// tfjs-backend-wasm internals (pinned at 4.22) used to view part of a tensor as a tensor of its own without
// copying it: the id registry and the C++ side's tensor table.
interface WasmInternals {
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined; delete(dataId: object): boolean };
  wasm: { tfjs: { disposeData(id: number): void } };
}

/**
 * A tensor aliasing `shape`-many elements of `base` starting at element `offset` (float32/int32: 4 bytes each).
 * Release it with releaseAlias, never disposeData (which would free memory the alias does not own).
 */
export function alias(backend: WasmBackend, base: TensorInfo, offset: number, shape: number[]): TensorInfo {
  const data = (backend as unknown as WasmInternals).dataIdMap.get(base.dataId);
  if (!data) throw new Error('alias: base tensor is not on the wasm backend');
  return backend.makeOutput(shape, base.dtype, data.memoryOffset + offset * 4);
}

export function releaseAlias(backend: WasmBackend, view: TensorInfo): void {
  const internals = backend as unknown as WasmInternals;
  const data = internals.dataIdMap.get(view.dataId);
  if (!data) return;
  internals.dataIdMap.delete(view.dataId);
  internals.wasm.tfjs.disposeData(data.id);
}

/** A float32 scalar on the wasm heap (dispose it like any output). */
export function scalar(backend: WasmBackend, value: number): TensorInfo {
  const out = backend.makeOutput([], 'float32');
  backend.typedArrayFromHeap(out)[0] = value;
  return out;
}
