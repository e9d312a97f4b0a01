/**
 * GRU via the ONNX GRU op (linear_before_reset=1 = the "reset after" form of layers/gru.ts), time-major:
 *   x [T,B,F] → Y [T,1,B,U] → Squeeze → [T,B,U].
 * tfjs kernel [F,3U] → W [1,3U,F]; recurrent [U,3U] → R [1,3U,U]; B = [bias ‖ recurrent_bias] [1,6U];
 * the gate order z, r, h is the same on both sides.
 */
import type { ExportContext } from '../context';
import { transposeData } from '../weights';

export function gruOp({ g, w }: ExportContext, name: string, xTimeMajor: string): string {
  const recurrent = w.get(`${name}/recurrent_kernel`);
  const units = recurrent.shape[0];
  const kernel = w.get(`${name}/kernel`);
  const bias = w.get(`${name}/bias`, [3 * units]);
  const rbias = w.get(`${name}/recurrent_bias`, [3 * units]);
  const W = transposeData(kernel.data, kernel.shape, [1, 0]);
  const R = transposeData(recurrent.data, recurrent.shape, [1, 0]);
  const B = new Float32Array(6 * units);
  B.set(bias.data, 0);
  B.set(rbias.data, 3 * units);
  const [y] = g.node(
    'GRU',
    [
      xTimeMajor,
      g.float(`${name}/W`, W.data, [1, ...W.shape]),
      g.float(`${name}/R`, R.data, [1, ...R.shape]),
      g.float(`${name}/B`, B, [1, 6 * units]),
    ],
    { hidden_size: { i: units }, linear_before_reset: { i: 1 }, direction: { s: 'forward' } },
    1,
  );
  return g.op('Squeeze', [y, g.int64([1])]);
}
