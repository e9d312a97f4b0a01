/**
 * Convolutions in ONNX's channels-first layout.
 *   conv2d: x [B,C,H,W]; tfjs kernel [kh,kw,I,O] → ONNX [O,I,kh,kw]; TF 'same' pads computed from static sizes.
 *   conv1d: x [B,C,T];   tfjs kernel [k,I,O]     → ONNX [O,I,k];     pads [left,right] as layers/conv.ts.
 */
import type { ExportContext } from '../context';
import { conv1dPads, samePads } from '../../spec';
import { transposeData } from '../weights';

export function conv2dOp(
  { g, w }: ExportContext,
  name: string,
  x: string,
  size: { h: number; w: number },
  stride: number,
  padding: 'same' | 'valid',
): string {
  const kernel = w.get(`${name}/kernel`);
  const [kh, kw] = kernel.shape;
  const k = transposeData(kernel.data, kernel.shape, [3, 2, 0, 1]);
  const inputs = [x, g.float(`${name}/kernel`, k.data, k.shape)];
  if (w.has(`${name}/bias`)) {
    const bias = w.get(`${name}/bias`);
    inputs.push(g.float(`${name}/bias`, bias.data, bias.shape));
  }
  const [top, bottom] = padding === 'same' ? samePads(size.h, kh, stride) : [0, 0];
  const [left, right] = padding === 'same' ? samePads(size.w, kw, stride) : [0, 0];
  return g.op('Conv', inputs, {
    kernel_shape: { ints: [kh, kw] },
    strides: { ints: [stride, stride] },
    pads: { ints: [top, left, bottom, right] },
  });
}

export function conv1dOp(
  { g, w }: ExportContext,
  name: string,
  x: string,
  dilation: number,
  padding: 'same' | 'causal' | 'valid',
): string {
  const kernel = w.get(`${name}/kernel`);
  const bias = w.get(`${name}/bias`, [kernel.shape[2]]);
  const k = transposeData(kernel.data, kernel.shape, [2, 1, 0]);
  const [left, right] = conv1dPads(kernel.shape[0], dilation, padding);
  return g.op('Conv', [x, g.float(`${name}/kernel`, k.data, k.shape), g.float(`${name}/bias`, bias.data, bias.shape)], {
    kernel_shape: { ints: [kernel.shape[0]] },
    dilations: { ints: [dilation] },
    strides: { ints: [1] },
    pads: { ints: [left, right] },
  });
}
