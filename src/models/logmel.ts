/**
 * Log-mel front end, the pure math (no engine): the constant matrices both the tfjs layer
 * (src/training/encoders/layers/logmel.ts) and the ONNX emitter (src/models/onnx/ops/logmel.ts) bake in, a
 * reference implementation in plain JS (tests, the benchmark's log-mel baseline), and the default settings for a
 * sample rate.
 *
 *   waveform [S] → frames f_t[n] = x[t·hop + n], n < N = frameLength, t < T = frameCount(S, N, hop)
 *     → y_t[k] = Σ_n w[n]·f_t[n]·cos(2πkn/N),  y_t[K+k] = −Σ_n w[n]·f_t[n]·sin(2πkn/N)   (k < K = N/2 + 1, w = Hann)
 *     → power p_t[k] = y_t[k]² + y_t[K+k]²  → mel m_t[j] = Σ_k p_t[k]·M[k, j]  → ln(m + eps) → normalization.
 *
 * The DFT is a matrix product with the windowed basis `dftKernel` [N, 2K] (cos | −sin): framing + window + DFT is
 * one strided convolution of the waveform with that kernel, the same numbers in both engines and no FFT op.
 * |.|² followed by the filterbank is one product with `stackedMel` [2K, nMels] = [M; M] over the squared outputs.
 */
import { frameCount, type LogmelFrontEndSpec } from './spec';

export { frameCount };

/** HTK mel scale. */
export const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
export const melToHz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

/** DFT bins of an N-point real transform: 0..N/2. */
export const dftBins = (frameLength: number): number => Math.floor(frameLength / 2) + 1;

/** Periodic Hann window of N samples. */
export function hannWindow(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
}

/** Windowed DFT basis [N, 2K] row-major: column k = w·cos(2πkn/N), column K+k = −w·sin(2πkn/N). */
export function dftKernel(frameLength: number): Float32Array {
  const N = frameLength;
  const K = dftBins(N);
  const w = hannWindow(N);
  const out = new Float32Array(N * 2 * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const a = (2 * Math.PI * ((k * n) % N)) / N;
      out[n * 2 * K + k] = w[n]! * Math.cos(a);
      out[n * 2 * K + K + k] = -w[n]! * Math.sin(a);
    }
  }
  return out;
}

/**
 * Triangular mel filterbank [K, nMels] row-major (unnormalized peaks of 1): nMels + 2 points equally spaced on the
 * mel scale over [fMin, fMax]; filter j rises from point j to j+1 and falls to j+2, evaluated at bin frequencies
 * k·sampleRate/N.
 */
export function melFilterbank(sampleRate: number, frameLength: number, nMels: number, fMin: number, fMax: number): Float32Array {
  const K = dftBins(frameLength);
  const lo = hzToMel(fMin);
  const hi = hzToMel(fMax);
  const points = Array.from({ length: nMels + 2 }, (_, i) => melToHz(lo + ((hi - lo) * i) / (nMels + 1)));
  const out = new Float32Array(K * nMels);
  for (let k = 0; k < K; k++) {
    const f = (k * sampleRate) / frameLength;
    for (let j = 0; j < nMels; j++) {
      const [a, b, c] = [points[j]!, points[j + 1]!, points[j + 2]!];
      const v = f <= a || f >= c ? 0 : f <= b ? (f - a) / (b - a) : (c - f) / (c - b);
      out[k * nMels + j] = v;
    }
  }
  return out;
}

/** [M; M] [2K, nMels]: squared DFT outputs (cos and sin halves) times this = mel energies of the power spectrum. */
export function stackedMel(sampleRate: number, fe: LogmelFrontEndSpec): Float32Array {
  const m = melFilterbank(sampleRate, fe.frameLength, fe.nMels, fe.fMin, fe.fMax ?? sampleRate / 2);
  const out = new Float32Array(m.length * 2);
  out.set(m, 0);
  out.set(m, m.length);
  return out;
}

/** Variance floor of the 'utterance' normalization (a silent clip maps to zeros instead of dividing by zero). */
export const NORM_EPS = 1e-5;

/**
 * Reference log-mel of one clip in plain JS (float64 DFT straight from the definition, no shared matrices):
 * [T, nMels] row-major, T = frameCount(samples.length, frameLength, hop).
 */
export function logmelReference(samples: ArrayLike<number>, sampleRate: number, fe: LogmelFrontEndSpec): Float32Array {
  const N = fe.frameLength;
  const K = dftBins(N);
  const T = frameCount(samples.length, N, fe.hop);
  const w = hannWindow(N);
  const mel = melFilterbank(sampleRate, N, fe.nMels, fe.fMin, fe.fMax ?? sampleRate / 2);
  const out = new Float64Array(T * fe.nMels);
  const power = new Float64Array(K);
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < K; k++) {
      let re = 0;
      let im = 0;
      for (let n = 0; n < N; n++) {
        const x = w[n]! * samples[t * fe.hop + n]!;
        const a = (2 * Math.PI * k * n) / N;
        re += x * Math.cos(a);
        im -= x * Math.sin(a);
      }
      power[k] = re * re + im * im;
    }
    for (let j = 0; j < fe.nMels; j++) {
      let e = 0;
      for (let k = 0; k < K; k++) e += power[k]! * mel[k * fe.nMels + j]!;
      out[t * fe.nMels + j] = Math.log(e + fe.eps);
    }
  }
  if (fe.normalize === 'utterance' && out.length) {
    let m = 0;
    for (const v of out) m += v;
    m /= out.length;
    let v2 = 0;
    for (const v of out) v2 += (v - m) ** 2;
    const s = Math.sqrt(v2 / out.length + NORM_EPS);
    for (let i = 0; i < out.length; i++) out[i] = (out[i]! - m) / s;
  }
  return Float32Array.from(out);
}

/**
 * Default front end for a sample rate: frames of the largest power of two ≤ 25 ms (256 samples = 16 ms at 16 kHz:
 * the DFT product costs frameLength² per frame, so this is 2.4× cheaper than 400 with the same 40 bands) every
 * 10 ms, 40 mel bands up to Nyquist, per-clip normalization.
 */
export function defaultFrontEnd(sampleRate: number): LogmelFrontEndSpec {
  return {
    kind: 'logmel',
    nMels: 40,
    frameLength: Math.max(16, 2 ** Math.floor(Math.log2(sampleRate * 0.025))),
    hop: Math.max(1, Math.round(sampleRate * 0.01)),
    fMin: 0,
    eps: 1e-6,
    normalize: 'utterance',
  };
}
