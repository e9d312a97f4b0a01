// DepthwiseConv2dNativeBackpropFilter (weight gradient of depthwise conv2d) for wasm, which has no such kernel.
//
//   dW[i, j, c, m] = Σ_{n, oh, ow} x[n, oh·sh + i − top, ow·sw + j − left, c] · dy[n, oh, ow, c·M + m]
//   x: [N, H, W, C], dy: [N, Ho, Wo, C·M], dW: [fh, fw, C, M]   (M = channel multiplier; tfjs allows no
//   dilation in depthwise gradients)
//
// Each output channel reads one input channel, so there is no GEMM to hand to XNNPACK; a direct loop over the
// wasm heap does the minimum work (N·Ho·Wo·fh·fw·C·M multiply-adds) with float64 accumulators.
import { tf } from '../tf';
import { pair, requireNhwc, type WasmKernelFunc } from './wasm_util';

const depthwiseBackpropFilter: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs['x']!;
  const dy = inputs['dy']!;
  const { strides, pad, dimRoundingMode, filterShape } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  requireNhwc((attrs as { dataFormat?: unknown }).dataFormat, 'DepthwiseConv2dNativeBackpropFilter');
  const [fh, fw, c, mult] = filterShape as [number, number, number, number];
  const [sh, sw] = pair(strides, 'strides');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape as [number, number, number, number],
    [sh, sw], 1, pad, dimRoundingMode, true, 'channelsLast');
  const [n, h, w] = x.shape as [number, number, number, number];
  const { outHeight: ho, outWidth: wo, padInfo } = info;
  const cm = c * mult;

  const acc = new Float64Array(fh * fw * cm);
  const out = backend.makeOutput([fh, fw, c, mult], 'float32');
  const xv = backend.typedArrayFromHeap(x);
  const dyv = backend.typedArrayFromHeap(dy);
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
            const xBase = ((b * h + ih) * w + iw) * c;
            const accBase = (i * fw + j) * cm;
            for (let ch = 0; ch < c; ch++) {
              const xc = xv[xBase + ch]!;
              const k = ch * mult;
              for (let m = 0; m < mult; m++) acc[accBase + k + m] += xc * dyv[dyBase + k + m]!;
            }
          }
        }
      }
    }
  }
  backend.typedArrayFromHeap(out).set(acc);
  return out;
};

export const depthwiseConv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter as unknown as tf.KernelFunc,
};
