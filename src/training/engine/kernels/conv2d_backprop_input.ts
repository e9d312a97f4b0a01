// Conv2DBackpropInput (the input gradient of conv2d) for wasm. The wasm kernel exists but is a scalar loop
// (~1 GFLOP/s: 1.7 s of a 2 s CNN step); this one runs the work on XNNPACK.
//
//   dx[n, h, w, ci] = Σ_{i, j, co : oh·sh + i − top = h, ow·sw + j − left = w} dy[n, oh, ow, co] · W[i, j, ci, co]
//   dy: [N, Ho, Wo, Cout], W: [fh, fw, Cin, Cout], dx: [N, H, W, Cin]
//
// Stride 1: dx is a plain convolution of dy (padded by fh−1−top above, fw−1−left on the left) with the filter
// rotated 180° and its channel axes swapped. Larger strides: cols = dy · Wᵀ on XNNPACK ([N·Ho·Wo, fh·fw·Cin]),
// then a col2im scatter-add over the wasm heap.
import { tf } from '../tf';
import { dispose, matMul, pair, requireNhwc, reshape, runKernel, sizeOf, transpose, type WasmBackend, type WasmKernelFunc } from './wasm_util';

const conv2dBackpropInput: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const dy = inputs['dy']!;
  const filter = inputs['filter']!;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  requireNhwc(dataFormat, 'Conv2DBackpropInput');
  const [fh, fw, cin, cout] = filter.shape as [number, number, number, number];
  const [sh, sw] = pair(strides, 'strides');
  const info = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number], filter.shape as [number, number, number, number],
    [sh, sw], 1, pad, dimRoundingMode, false, 'channelsLast');
  const [, h, w] = inputShape as [number, number, number, number];
  const { outHeight: ho, outWidth: wo, padInfo } = info;

  if (sh === 1 && sw === 1) {
    const top = fh - 1 - padInfo.top;
    const left = fw - 1 - padInfo.left;
    const bottom = h + fh - 1 - ho - top;
    const right = w + fw - 1 - wo - left;
    if (top >= 0 && left >= 0 && bottom >= 0 && right >= 0) {
      const flipped = runKernel(backend, 'Reverse', { x: filter }, { dims: [0, 1] });
      const swapped = transpose(backend, flipped, [0, 1, 3, 2]);
      const dx = runKernel(backend, 'Conv2D', { x: dy, filter: swapped }, {
        strides: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1] });
      dispose(backend, flipped, swapped);
      return dx;
    }
  }
  return viaCol2im(backend, dy, filter, inputShape as [number, number, number, number], [sh, sw], padInfo, ho, wo, [fh, fw, cin, cout]);
};

function viaCol2im(
  backend: WasmBackend, dy: tf.TensorInfo, filter: tf.TensorInfo, inputShape: [number, number, number, number],
  [sh, sw]: [number, number], padInfo: { top: number; left: number }, ho: number, wo: number,
  [fh, fw, cin, cout]: [number, number, number, number],
): tf.TensorInfo {
  const [n, h, w] = inputShape;
  const m = n * ho * wo;
  const k = fh * fw * cin;
  const dy2d = reshape(backend, dy, [m, cout]);
  const w2d = reshape(backend, filter, [k, cout]);
  const wT = transpose(backend, w2d, [1, 0]);
  const cols = matMul(backend, dy2d, wT);
  dispose(backend, dy2d, w2d, wT);

  const dx = backend.makeOutput(inputShape, 'float32');
  const out = backend.typedArrayFromHeap(dx);
  const src = backend.typedArrayFromHeap(cols);
  out.fill(0, 0, sizeOf(inputShape));
  for (let b = 0; b < n; b++) {
    for (let oh = 0; oh < ho; oh++) {
      for (let ow = 0; ow < wo; ow++) {
        const row = ((b * ho + oh) * wo + ow) * k;
        for (let i = 0; i < fh; i++) {
          const ih = oh * sh + i - padInfo.top;
          if (ih < 0 || ih >= h) continue;
          for (let j = 0; j < fw; j++) {
            const iw = ow * sw + j - padInfo.left;
            if (iw < 0 || iw >= w) continue;
            const o = ((b * h + ih) * w + iw) * cin;
            const s = row + (i * fw + j) * cin;
            for (let c = 0; c < cin; c++) out[o + c] += src[s + c]!;
          }
        }
      }
    }
  }
  dispose(backend, cols);
  return dx;
}

export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc,
};
