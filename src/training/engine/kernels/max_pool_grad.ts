// MaxPoolGrad for wasm. The wasm kernel exists but is slow (0.4 s for a 256x28x28x32 input, a fifth of a CNN
// step); this one is a single pass over the wasm heap.
//
//   dx[n, argmax window(oh, ow, c)] += dy[n, oh, ow, c]
//   x: [N, H, W, C], dy: [N, Ho, Wo, C], dx: [N, H, W, C]; ties go to the first maximum in the window, in
//   row-major window order, as in TensorFlow and the tfjs cpu kernel.
import { tf } from '../tf';
import { sizeOf, type WasmKernelFunc } from './wasm_util';

const maxPoolGrad: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const dy = inputs['dy']!;
  const x = inputs['input']!;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const { outHeight: ho, outWidth: wo, padInfo, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const sh = info.strideHeight;
  const sw = info.strideWidth;

  const dx = backend.makeOutput(x.shape, 'float32');
  const out = backend.typedArrayFromHeap(dx);
  const xv = backend.typedArrayFromHeap(x);
  const dyv = backend.typedArrayFromHeap(dy);
  out.fill(0, 0, sizeOf(x.shape));
  const best = new Float32Array(c);
  const where = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let oh = 0; oh < ho; oh++) {
      const h0 = oh * sh - padInfo.top;
      for (let ow = 0; ow < wo; ow++) {
        const w0 = ow * sw - padInfo.left;
        best.fill(-Infinity);
        where.fill(-1);
        for (let i = Math.max(0, -h0); i < fh && h0 + i < h; i++) {
          for (let j = Math.max(0, -w0); j < fw && w0 + j < w; j++) {
            const base = ((b * h + h0 + i) * w + w0 + j) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = xv[base + ch]!;
              // `where < 0` takes the first element even when it is NaN or -Infinity.
              if (v > best[ch]! || where[ch]! < 0) {
                best[ch] = v;
                where[ch] = base + ch;
              }
            }
          }
        }
        const dyBase = ((b * ho + oh) * wo + ow) * c;
        for (let ch = 0; ch < c; ch++) if (where[ch]! >= 0) out[where[ch]!] += dyv[dyBase + ch]!;
      }
    }
  }
  return dx;
};

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};
