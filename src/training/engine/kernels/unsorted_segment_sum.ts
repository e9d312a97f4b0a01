// UnsortedSegmentSum for wasm, which has no such kernel. It is the gradient of gather (embedding lookups), so
// without it no embedding table can train, and Adam's update of an embedding fails too.
//
//   out[s, ...] = Σ_{k : ids[k] = s} x[k, ...]      x: [...ids.shape, ...inner], out: [numSegments, ...inner]
//
// A scatter-add is one pass over x; there is no fast wasm op for it (a one-hot matMul would cost
// numSegments× more work), so it runs as a tight loop over the wasm heap. Ids outside [0, numSegments) are
// dropped, as in TensorFlow.
import { tf } from '../tf';
import { sizeOf, type WasmKernelFunc } from './wasm_util';

const unsortedSegmentSum: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs['x']!;
  const ids = inputs['segmentIds']!;
  const numSegments = (attrs as unknown as tf.UnsortedSegmentSumAttrs).numSegments;
  const innerShape = x.shape.slice(ids.shape.length);
  const inner = sizeOf(innerShape);
  const count = sizeOf(ids.shape);
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  // Views are taken after makeOutput: an allocation may grow (and so detach) the wasm heap.
  const outValues = backend.typedArrayFromHeap(out);
  const xValues = backend.typedArrayFromHeap(x);
  const idValues = backend.typedArrayFromHeap(ids);
  outValues.fill(0);
  for (let k = 0; k < count; k++) {
    const s = idValues[k]!;
    if (s < 0 || s >= numSegments) continue;
    const o = s * inner;
    const xi = k * inner;
    for (let e = 0; e < inner; e++) outValues[o + e] += xValues[xi + e]!;
  }
  return out;
};

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
};
