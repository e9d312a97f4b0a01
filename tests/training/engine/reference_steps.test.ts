// End to end: every reference architecture (MLP; CNN; CNN with batch norm, average pooling, depthwise conv and a
// residual add; Transformer encoder with embeddings, multi-head attention, softmax, LayerNorm, GELU; temporal
// conv1d + GRU) trains on wasm with the same loss, gradients and Adam trajectory as on the cpu backend.
import { tf } from '../../../src/training/engine/tf';
import { buildReferenceStep, REFERENCE_ARCHS, type ReferenceArch, type ReferenceDims } from '../../../src/training/engine/reference_steps';
import { onBoth, relError, useWasm } from './compare';

// Small, but big enough for the per-entry attention GEMMs (seq 32 × dk 16) and several conv strides.
const DIMS: Record<ReferenceArch, Partial<ReferenceDims>> = {
  mlp: { batch: 16, widths: [30, 24, 16, 10] },
  cnn: { batch: 4, image: 12, classes: 5, channels: [4, 6], hidden: 12 },
  'cnn-bn-residual': { batch: 4, image: 16, classes: 5, channels: [4, 6] },
  transformer: { batch: 2, seq: 32, dModel: 32, heads: 2, ffn: 64, layers: 2, vocab: 50 },
  'conv1d-gru': { batch: 4, seq: 7, features: 3, convChannels: 5, units: 6, classes: 4 },
};

beforeAll(async () => {
  await useWasm();
});

describe.each(REFERENCE_ARCHS.map((arch) => [arch]))('%s', (arch) => {
  test('loss and every gradient match cpu', async () => {
    const { wasm, cpu } = await onBoth(() => {
      const step = buildReferenceStep(arch, DIMS[arch], 3);
      const { value, grads } = tf.variableGrads(step.loss, step.variables);
      const out = [value, ...step.variables.map((v) => grads[v.name]!)];
      step.dispose();
      return out;
    });
    expect(wasm.length).toBeGreaterThan(2);
    wasm.forEach((w, i) => expect(relError(w, cpu[i]!)).toBeLessThan(5e-5));
    // A real signal, not all zeros: the loss is positive and some gradient is non-zero.
    expect(wasm[0]![0]!).toBeGreaterThan(0);
    expect(wasm.slice(1).some((g) => g.some((v) => v !== 0))).toBe(true);
  });

  test('three Adam steps follow the cpu loss trajectory and lower the loss', async () => {
    const losses = async (backend: string) => {
      await tf.setBackend(backend);
      const step = buildReferenceStep(arch, DIMS[arch], 4);
      const optimizer = tf.train.adam(0.01);
      const values = [step.step(optimizer), step.step(optimizer), step.step(optimizer), step.step(optimizer)];
      step.dispose();
      optimizer.dispose();
      return values;
    };
    const onCpu = await losses('cpu');
    const onWasm = await losses('wasm');
    onWasm.forEach((l, i) => expect(Math.abs(l - onCpu[i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(onCpu[i]!))));
    expect(onWasm[3]!).toBeLessThan(onWasm[0]!);
  });
});

test.each(['transformer', 'cnn-bn-residual'] as const)('%s steps release every tensor and every wasm buffer', async (arch) => {
  await useWasm();
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const before = { tensors: tf.memory().numTensors, buffers: backend.numDataIds() };
  const step = buildReferenceStep(arch, DIMS[arch], 5);
  const optimizer = tf.train.adam(0.01);
  step.step(optimizer);
  step.step(optimizer);
  step.dispose();
  optimizer.dispose();
  // Shared buffers (Identity, per-entry GEMM views) must balance their references exactly.
  expect({ tensors: tf.memory().numTensors, buffers: backend.numDataIds() }).toEqual(before);
});

test('unknown arch lists the valid ones', () => {
  expect(() => buildReferenceStep('rnn' as ReferenceArch)).toThrow(
    'Unsupported arch: "rnn". Should be one of: mlp, cnn, cnn-bn-residual, transformer, conv1d-gru.');
});
