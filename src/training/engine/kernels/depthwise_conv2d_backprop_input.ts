// DepthwiseConv2dNativeBackpropInput (input gradient of depthwise conv2d) for wasm, which has no such kernel.
//
//   dx[n, h, w, c] = Σ_{i, j, m, oh, ow : oh·sh + i − top = h, ow·sw + j − left = w} dy[n, oh, ow, c·M + m] · W[i, j, c, m]
//   dy: [N, Ho, Wo, C·M], W: [fh, fw, C, M], dx: [N, H, W, C]
//
// A direct scatter loop over the wasm heap (see ./depthwise_conv2d_backprop_filter.ts for why not a GEMM).
import { tf } from '../tf';
import { pair, requireNhwc, type WasmKernelFunc } from './wasm_util';

const depthwiseBackpropInput: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const dy = inputs['dy']!;
  const filter = inputs['filter']!;
  const { strides, pad, dimRoundingMode, inputShape } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  requireNhwc((attrs as { dataFormat?: unknown }).dataFormat, 'DepthwiseConv2dNativeBackpropInput');
  const [fh, fw, c, mult] = filter.shape as [number, number, number, number];
  const [sh, sw] = pair(strides, 'strides');
  const info = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number], filter.shape as [number, number, number, number],
    [sh, sw], 1, pad, dimRoundingMode, true, 'channelsLast');
  const [n, h, w] = inputShape as [number, number, number, number];
  const { outHeight: ho, outWidth: wo, padInfo } = info;
  const cm = c * mult;

  const acc = new Float64Array(n * h * w * c);
  const out = backend.makeOutput([n, h, w, c], 'float32');
  const dyv = backend.typedArrayFromHeap(dy);
  const wv = backend.typedArrayFromHeap(filter);
  for (let b = 0; b < n; b++) {
    for (let oh = 0; oh < ho; oh++) {
      for (let ow = 0; ow < wo; ow++) {
        const dyBase = ((b * ho + oh) * wo + ow) * cm;
        for (let i = 0; i < fh; i++) {
          const ih = oh * sh + i - padInfo.top;
          if (ih < 0 || ih >= h) continue;
          for (let j = 0; j < fw; j++) {
            const iw = ow * sw + j - padInfo.left;
            if (iw < 0 || iw >= w) continue;
            const dxBase = ((b * h + ih) * w + iw) * c;
            const wBase = (i * fw + j) * cm;
            for (let ch = 0; ch < c; ch++) {
              const k = ch * mult;
              let s = 0;
              for (let m = 0; m < mult; m++) s += dyv[dyBase + k + m]! * wv[wBase + k + m]!;
              acc[dxBase + ch] += s;
            }
          }
        }
      }
    }
  }
  backend.typedArrayFromHeap(out).set(acc);
  return out;
};

export const depthwiseConv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInput as unknown as tf.KernelFunc,
};
