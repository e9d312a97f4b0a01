// Log-mel front end parity: the tfjs layer against a plain-JS float64 DFT straight from the definition, the exported
// ONNX graph (onnxruntime-node) against the tfjs layer, and whole audio models (front end + encoder) end to end.
import '../setup/realm';
import { tf } from '../../src/training/engine/tf';
import { logmel } from '../../src/training/encoders/layers/logmel';
import { buildModel } from '../../src/training/encoders';
import { assertModelSpec, frameCount, parseModelSpec, sequenceFeatureShape, type ModelSpecInput, type SequenceInputSpec } from '../../src/models/spec';
import { defaultFrontEnd, logmelReference, melFilterbank } from '../../src/models/logmel';
import { GraphBuilder } from '../../src/models/onnx/graph';
import { logmelOp } from '../../src/models/onnx/ops/logmel';
import { exportOnnx } from '../../src/models/onnx';
import { loadSession } from '../../src/inference/onnx';
import { checkParity, expectParity } from './onnx/parity-helper';

const RATE = 8000;
const S = 2400;

/** A voiced-sounding test clip: two harmonics with a rising pitch, an envelope, a little noise, then silence. */
function clip(batch: number): Float32Array {
  const out = new Float32Array(batch * S);
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.02;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < S; i++) {
      const t = i / RATE;
      const f = 180 + 60 * b + 200 * t;
      const env = i < 2000 ? Math.sin((Math.PI * i) / 2000) : 0;
      out[b * S + i] = env * (0.4 * Math.sin(2 * Math.PI * f * t) + 0.2 * Math.sin(4 * Math.PI * f * t)) + (i < 2000 ? noise() : 0);
    }
  }
  return out;
}

function input(normalize: 'utterance' | 'none'): SequenceInputSpec {
  const spec = assertModelSpec({
    input: { kind: 'sequence', length: S, features: 1, sampleRate: RATE, frontEnd: { kind: 'logmel', nMels: 24, frameLength: 200, hop: 80, normalize } },
    encoder: { kind: 'sequence', conv: [{ filters: 4, kernelSize: 3 }] },
  });
  return spec.input as SequenceInputSpec;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('log-mel math', () => {
  test('frame count rule: frames that fit wholly inside the clip', () => {
    expect(frameCount(2400, 200, 80)).toBe(28);
    expect(frameCount(200, 200, 80)).toBe(1);
    expect(frameCount(199, 200, 80)).toBe(0);
    expect(sequenceFeatureShape(input('none'))).toEqual({ length: 28, features: 24 });
  });

  test('mel filters are triangles that cover the band', () => {
    const m = melFilterbank(RATE, 200, 24, 0, 4000);
    for (let j = 0; j < 24; j++) {
      let peak = 0;
      for (let k = 0; k < 101; k++) peak = Math.max(peak, m[k * 24 + j]!);
      expect(peak).toBeGreaterThan(0.3);
      expect(peak).toBeLessThanOrEqual(1);
    }
  });

  test('the spec validates the front end', () => {
    const base = { kind: 'sequence', length: 1000, features: 1, sampleRate: 8000 };
    const enc = { kind: 'sequence', conv: [{ filters: 4, kernelSize: 3 }] };
    const bad = (inp: object) => {
      const r = parseModelSpec({ input: inp, encoder: enc });
      return r.ok ? [] : r.errors.join('\n');
    };
    expect(bad({ ...base, sampleRate: undefined, frontEnd: { kind: 'logmel' } })).toMatch(/needs the sampleRate/);
    expect(bad({ ...base, features: 2, frontEnd: { kind: 'logmel' } })).toMatch(/features 1/);
    expect(bad({ ...base, frontEnd: { kind: 'logmel', frameLength: 2000 } })).toMatch(/longer than the clip/);
    expect(bad({ ...base, frontEnd: { kind: 'logmel', fMax: 6000 } })).toMatch(/Nyquist/);
    expect(bad({ ...base, frontEnd: { kind: 'logmel', frameLength: 64, nMels: 40 } })).toMatch(/exceeds the 33 DFT bins/);
    expect(bad({ ...base, frontEnd: { kind: 'mfcc' } })).not.toEqual([]);
    expect(bad({ ...base, frontEnd: { kind: 'logmel' } })).toEqual([]);
    expect(defaultFrontEnd(16000)).toMatchObject({ frameLength: 256, hop: 160, nMels: 40 });
    expect(defaultFrontEnd(8000)).toMatchObject({ frameLength: 128, hop: 80 });
  });
});

describe('parity', () => {
  afterAll(() => console.log(`log-mel parity: ${report.join('; ')}`));
  const report: string[] = [];

  test.each(['none', 'utterance'] as const)('tfjs layer vs plain-JS DFT reference (%s)', (normalize) => {
    const inp = input(normalize);
    const x = clip(2);
    const got = tf.tidy(() => logmel(tf.tensor3d(x, [2, S, 1]), inp).dataSync());
    const want = new Float32Array(got.length);
    for (let b = 0; b < 2; b++) want.set(logmelReference(x.subarray(b * S, (b + 1) * S), RATE, inp.frontEnd!), b * 28 * 24);
    const d = maxDiff(got, want);
    report.push(`tfjs vs reference (${normalize}) ${d.toExponential(2)}`);
    // log energies span about −14..+6 (silence hits the eps floor); float32 sums of 200 products stay well inside this.
    expect(d).toBeLessThan(normalize === 'none' ? 2e-3 : 5e-4);
  });

  test.each(['none', 'utterance'] as const)('ONNX front end vs tfjs layer (%s)', async (normalize) => {
    const inp = input(normalize);
    const x = clip(3);
    const want = tf.tidy(() => logmel(tf.tensor3d(x, [3, S, 1]), inp).dataSync());
    const g = new GraphBuilder();
    const values = g.input('values', 'float32', ['batch', S, 1]);
    g.output('logmel', logmelOp(g, values, inp), 'float32', ['batch', 28, 24]);
    const session = await loadSession(g.toBytes({ graphName: 'logmel' }));
    try {
      const out = await session.run({ values: { type: 'float32', data: x, dims: [3, S, 1] } });
      expect(out.logmel!.dims).toEqual([3, 28, 24]);
      const d = maxDiff(out.logmel!.data as Float32Array, want);
      report.push(`ONNX vs tfjs (${normalize}) ${d.toExponential(2)}`);
      expect(d).toBeLessThan(normalize === 'none' ? 1e-3 : 2e-4);
    } finally {
      await session.dispose();
    }
  });

  const audio = (encoder: ModelSpecInput['encoder'], pooling: 'mean' | 'last' = 'mean'): ModelSpecInput => ({
    input: { kind: 'sequence', length: 1200, features: 1, sampleRate: RATE, frontEnd: { kind: 'logmel', nMels: 16, frameLength: 200, hop: 100 } },
    encoder,
    pooling,
  });

  test('whole audio models: front end + conv/GRU encoder, and front end + MLP, exported with the raw waveform as input', async () => {
    const seq = await checkParity(audio({ kind: 'sequence', conv: [{ filters: 8, kernelSize: 3, padding: 'same' }, { filters: 8, kernelSize: 11, padding: 'valid' }], gru: { units: 6 } }, 'last'), { batch: 3, seed: 5 });
    expectParity(seq, ['embedding']);
    const mlp = await checkParity(audio({ kind: 'mlp', hidden: [12, 8] }), { batch: 2, seed: 6 });
    expectParity(mlp, ['embedding']);
    report.push(`model embeddings ONNX vs tfjs ${Math.max(seq.maxDiff.embedding!, mlp.maxDiff.embedding!).toExponential(2)}`);
  });

  test('the exported graph takes [batch, samples, 1] and carries the front end in its spec metadata', async () => {
    const spec = assertModelSpec(audio({ kind: 'sequence', conv: [{ filters: 4, kernelSize: 3 }] }));
    const model = buildModel(spec, { seed: 1 });
    const session = await loadSession(exportOnnx(spec, model.getWeights()));
    try {
      expect(session.inputNames).toEqual(['values']);
      const out = await session.run({ values: { type: 'float32', data: new Float32Array(2 * 1200), dims: [2, 1200, 1] } });
      expect(out.embedding!.dims).toEqual([2, 4]);
      // A silent clip normalizes to zeros rather than NaN.
      expect(Array.from(out.embedding!.data as Float32Array).every(Number.isFinite)).toBe(true);
    } finally {
      await session.dispose();
      model.dispose();
    }
  });
});
