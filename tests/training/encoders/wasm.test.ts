// The trainer runs on the wasm backend here: every encoder family must run forward (matching ONNX), and
// backward without hitting a kernel the wasm backend lacks.
import '../../setup/realm';
import { tf } from '../../../src/training/engine/tf';
import { initBackend } from '../../../src/training/engine/backend';
import { buildModel, makeRng } from '../../../src/training/encoders';
import { assertModelSpec, headOutputName, type ModelSpecInput } from '../../../src/models/spec';
import { checkParity, expectParity, makeInputs } from '../../models/onnx/parity-helper';

const specs: Record<string, ModelSpecInput> = {
  transformer: {
    input: { kind: 'tokens', vocabSize: 20, maxLength: 8 },
    encoder: { kind: 'transformer', dModel: 8, numHeads: 2, numLayers: 2, ffDim: 16, dropout: 0.1 },
    pooling: 'mean',
    head: { kind: 'vocab' },
  },
  cnn: {
    input: { kind: 'image', height: 8, width: 8, channels: 1, mean: [0.5], std: [0.25] },
    encoder: {
      kind: 'cnn',
      blocks: [
        { type: 'conv', filters: 4, kernelSize: 3 },
        { type: 'residual', filters: 6, stride: 2 },
        { type: 'pool', mode: 'avg', size: 2 },
      ],
    },
    normalize: true,
    head: { kind: 'projection', hidden: [5], outputDim: 3 },
  },
  sequence: {
    input: { kind: 'sequence', length: 8, features: 3 },
    encoder: { kind: 'sequence', conv: [{ filters: 4, kernelSize: 3, dilation: 2 }], gru: { units: 5 } },
    pooling: 'last',
    head: { kind: 'frames' },
  },
  mlp: {
    input: { kind: 'tokens', vocabSize: 20, maxLength: 8 },
    encoder: { kind: 'mlp', hidden: [6, 4], embedDim: 5, dropout: 0.2 },
    head: { kind: 'classifier', numClasses: 3 },
  },
};

beforeAll(async () => {
  const info = await initBackend({ prefer: ['wasm'] });
  expect(info.name).toBe('wasm');
  expect(tf.getBackend()).toBe('wasm');
});

describe.each(Object.keys(specs))('%s on wasm', (name) => {
  test('forward matches ONNX Runtime', async () => {
    const spec = assertModelSpec(specs[name]);
    expectParity(await checkParity(spec, { batch: 3 }), ['embedding', headOutputName(spec.head!)]);
  });

  test('a training-mode gradient reaches every parameter with finite values', () => {
    const spec = assertModelSpec(specs[name]);
    const model = buildModel(spec, { seed: 2 });
    const inputs = makeInputs(spec, 3, 2);
    const vars = model.trainableVariables();
    const { value, grads } = tf.variableGrads(() => {
      const out = model.apply(inputs.tf, { training: true, rng: makeRng(1) });
      return tf.add(tf.mean(tf.square(out.head!)), tf.mean(out.embedding)) as tf.Scalar;
    }, Object.values(vars));
    expect(Object.keys(grads).length).toBe(Object.keys(vars).length);
    for (const g of Object.values(grads)) expect(Number.isFinite(tf.tidy(() => g.sum().dataSync()[0]))).toBe(true);
    value.dispose();
    tf.dispose(grads);
    tf.dispose(Object.values(inputs.tf) as tf.Tensor[]);
    model.dispose();
  });
});
