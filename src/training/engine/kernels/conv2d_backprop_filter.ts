// Conv2DBackpropFilter (the weight gradient of conv2d) for wasm, which has no such kernel.
//
//   dW[i, j, ci, co] = Σ_{n, oh, ow} xPad[n, oh·sh + i, ow·sw + j, ci] · dy[n, oh, ow, co]
//   x: [N, H, W, Cin], dy: [N, Ho, Wo, Cout], dW: [fh, fw, Cin, Cout]
//
// im2col + GEMM on XNNPACK, in chunks of whole images: for each chunk, taps[fh·fw·Cin, Mc] · dy[Mc, Cout]
// (Mc = chunk pixels) is added into dW[fh·fw·Cin, Cout], which is already dW's layout. Row (i·fw + j)·Cin + ci
// of `taps` holds the input pixels tap (i, j) reads from channel ci (zero where it reads padding); the input is
// transposed once to [Cin, N, H, W] so every row is gathered in runs over the wasm heap, and dy's chunk is a
// view, not a copy. Measured on 256x14x14x32 → 64 channels (CPU ms): chunked 113, one GEMM per tap 128, one
// GEMM over all pixels 138 (a reduction over all N·Ho·Wo pixels with few output rows is memory-bound). wasm's
// own Slice kernel took ~14 ns per element for the gathering; delegating the whole kernel to cpu is correct but
// ~50x slower.
import { tf } from '../tf';
import { alias, dispose, matMul, pair, releaseAlias, requireNhwc, reshape, transpose, type WasmKernelFunc } from './wasm_util';

// Output pixels per GEMM chunk: taps (fh·fw·Cin × chunk) and dy (chunk × Cout) then fit in L2.
const CHUNK_PIXELS = 2048;

const conv2dBackpropFilter: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs['x']!;
  const dy = inputs['dy']!;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  requireNhwc(dataFormat, 'Conv2DBackpropFilter');
  const [fh, fw, cin, cout] = filterShape as [number, number, number, number];
  const [sh, sw] = pair(strides, 'strides');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape as [number, number, number, number],
    [sh, sw], 1, pad, dimRoundingMode, false, 'channelsLast');
  const [n, h, w] = x.shape as [number, number, number, number];
  const { outHeight: ho, outWidth: wo, padInfo } = info;
  const m = n * ho * wo;

  const xT = transpose(backend, x, [3, 0, 1, 2]);
  const dy2d = reshape(backend, dy, [m, cout]);
  const rows = fh * fw * cin;
  const pixels = ho * wo;
  // Whole images per chunk, about CHUNK_PIXELS output pixels: each chunk's GEMM operands stay cache-resident.
  const perChunk = Math.max(1, Math.floor(CHUNK_PIXELS / pixels));
  const acc = new Float64Array(rows * cout);
  for (let n0 = 0; n0 < n; n0 += perChunk) {
    const n1 = Math.min(n, n0 + perChunk);
    const mc = (n1 - n0) * pixels;
    const taps = backend.makeOutput([rows, mc], 'float32');
    const src = backend.typedArrayFromHeap(xT) as Float32Array;
    const dst = backend.typedArrayFromHeap(taps) as Float32Array;
    for (let i = 0; i < fh; i++) {
      for (let j = 0; j < fw; j++) {
        for (let c = 0; c < cin; c++) {
          const row = ((i * fw + j) * cin + c) * mc;
          gatherTap(src.subarray((c * n + n0) * h * w, (c * n + n1) * h * w), dst.subarray(row, row + mc),
            n1 - n0, h, w, ho, wo, i - padInfo.top, j - padInfo.left, sh, sw);
        }
      }
    }
    const dyChunk = alias(backend, dy2d, n0 * pixels * cout, [mc, cout]);
    const partial = matMul(backend, taps, dyChunk);
    const values = backend.typedArrayFromHeap(partial) as Float32Array;
    for (let k = 0; k < acc.length; k++) acc[k] += values[k]!;
    releaseAlias(backend, dyChunk);
    dispose(backend, taps, partial);
  }
  dispose(backend, xT, dy2d);
  const dW = backend.makeOutput([fh, fw, cin, cout], 'float32');
  (backend.typedArrayFromHeap(dW) as Float32Array).set(acc);
  return dW;
};

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
};

/** dst[p, oh, ow] = src[p, oh·sh + i0, ow·sw + j0], zero outside the image; p runs over Cin·N planes. */
function gatherTap(
  src: Float32Array, dst: Float32Array, planes: number, h: number, w: number, ho: number, wo: number,
  i0: number, j0: number, sh: number, sw: number,
): void {
  const owFirst = Math.max(0, Math.ceil(-j0 / sw));
  const owEnd = Math.min(wo, Math.floor((w - 1 - j0) / sw) + 1);
  for (let p = 0; p < planes; p++) {
    const srcPlane = p * h * w;
    for (let oh = 0; oh < ho; oh++) {
      const d = (p * ho + oh) * wo;
      const ih = oh * sh + i0;
      if (ih < 0 || ih >= h || owEnd <= owFirst) {
        dst.fill(0, d, d + wo);
        continue;
      }
      if (owFirst > 0) dst.fill(0, d, d + owFirst);
      let s = srcPlane + ih * w + owFirst * sw + j0;
      for (let ow = owFirst; ow < owEnd; ow++, s += sw) dst[d + ow] = src[s]!;
      if (owEnd < wo) dst.fill(0, d + Math.max(owEnd, owFirst), d + wo);
    }
  }
}
