/**
 * In-graph log-mel front end, as src/training/encoders/layers/logmel.ts: waveform [B,S,1] → [B,T',nMels].
 *   Transpose → [B,1,S]; Conv with the windowed DFT basis [2K,1,N], stride hop, no pads (framing + window + DFT)
 *   → [B,2K,T']; Transpose → [B,T',2K]; Mul (square); MatMul [M; M] [2K,nMels]; Add eps; Log;
 *   'utterance': (x − mean) / sqrt(var + 1e-5) with mean/var over frames and bands (ReduceMean axes [1,2]).
 * Opset 17 (ReduceMean takes axes as an attribute). The matrices come from src/models/logmel.ts, as in tfjs.
 */
import type { SequenceInputSpec } from '../../spec';
import type { GraphBuilder } from '../graph';
import { dftBins, dftKernel, NORM_EPS, stackedMel } from '../../logmel';
import { transposeData } from '../weights';

export function logmelOp(g: GraphBuilder, values: string, input: SequenceInputSpec): string {
  const fe = input.frontEnd;
  if (!fe || input.sampleRate === undefined) throw new Error('logmelOp: the sequence input has no front end (frontEnd and sampleRate)');
  const N = fe.frameLength;
  const K2 = 2 * dftBins(N);
  const basis = transposeData(dftKernel(N), [N, 1, K2], [2, 1, 0]); // [2K,1,N]
  const kernel = g.float('frontend/dft', basis.data, basis.shape);
  const mono = g.op('Transpose', [values], { perm: { ints: [0, 2, 1] } });
  const spec = g.op('Conv', [mono, kernel], { kernel_shape: { ints: [N] }, strides: { ints: [fe.hop] }, pads: { ints: [0, 0] } });
  const y = g.op('Transpose', [spec], { perm: { ints: [0, 2, 1] } });
  const mel = g.float('frontend/mel', stackedMel(input.sampleRate, fe), [K2, fe.nMels]);
  const energies = g.op('MatMul', [g.op('Mul', [y, y]), mel]);
  const logs = g.op('Log', [g.op('Add', [energies, g.scalar(fe.eps, 'frontend/eps')])]);
  if (fe.normalize === 'none') return logs;
  const mean = g.op('ReduceMean', [logs], { axes: { ints: [1, 2] }, keepdims: { i: 1 } });
  const centered = g.op('Sub', [logs, mean]);
  const variance = g.op('ReduceMean', [g.op('Mul', [centered, centered])], { axes: { ints: [1, 2] }, keepdims: { i: 1 } });
  return g.op('Div', [centered, g.op('Sqrt', [g.op('Add', [variance, g.scalar(NORM_EPS)])])]);
}
