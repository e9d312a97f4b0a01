/**
 * Log-mel front end (audio), as src/models/logmel.ts describes: waveform values [B,S,1] → [B,T',nMels].
 * Framing + Hann window + DFT are one strided 'valid' conv1d with the windowed DFT basis [N,1,2K]; |.|² and the
 * mel filterbank are a square and one matMul with [M; M]; then ln(x + eps) and the per-clip normalization. No
 * parameters: the matrices are constants of the spec, rebuilt from it (the exported graph bakes in the same ones).
 */
import { tf } from '../../engine/tf';
import type { SequenceInputSpec } from '../../../models/spec';
import { dftBins, dftKernel, NORM_EPS, stackedMel } from '../../../models/logmel';

export function logmel(values: tf.Tensor3D, input: SequenceInputSpec): tf.Tensor3D {
  const fe = input.frontEnd;
  if (!fe || input.sampleRate === undefined) throw new Error('logmel: the sequence input has no front end (frontEnd and sampleRate)');
  return tf.tidy(() => {
    const K2 = 2 * dftBins(fe.frameLength);
    const basis = tf.tensor3d(dftKernel(fe.frameLength), [fe.frameLength, 1, K2]);
    const y = tf.conv1d(values, basis, fe.hop, 'valid'); // [B,T,2K]
    const [b, t] = y.shape;
    const mel = tf.tensor2d(stackedMel(input.sampleRate as number, fe), [K2, fe.nMels]);
    const energies = tf.reshape(tf.matMul(tf.reshape(tf.square(y), [b * t, K2]), mel), [b, t, fe.nMels]);
    const logs = tf.log(tf.add(energies, fe.eps)) as tf.Tensor3D;
    if (fe.normalize === 'none') return logs;
    const { mean, variance } = tf.moments(logs, [1, 2], true);
    return tf.div(tf.sub(logs, mean), tf.sqrt(tf.add(variance, NORM_EPS))) as tf.Tensor3D;
  });
}
