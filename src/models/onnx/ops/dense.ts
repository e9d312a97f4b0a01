/** Dense: MatMul(x [..., in], kernel [in,out]) + bias — same layout as tfjs, no transposes. */
import type { ExportContext } from '../context';

export function denseOp({ g, w }: ExportContext, name: string, x: string): string {
  const kernel = w.get(`${name}/kernel`);
  let y = g.op('MatMul', [x, g.float(`${name}/kernel`, kernel.data, kernel.shape)]);
  if (w.has(`${name}/bias`)) {
    const bias = w.get(`${name}/bias`, [kernel.shape[1]]);
    y = g.op('Add', [y, g.float(`${name}/bias`, bias.data, bias.shape)]);
  }
  return y;
}
