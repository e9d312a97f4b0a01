// The trainer runs on the wasm backend here: every encoder family must run forward (matching ONNX), and
// backward without hitting a kernel the wasm backend lacks.
import '../../setup/realm';
import { tf } from '../../../src/training/engine/tf';
import { initBackend } from '../../../src/training/engine/backend';
import { buildModel, makeRng } from '../../../src/training/encoders';
import { assertModelSpec, headOutputName, type ModelSpecInput } from '../../../src/models/spec';
import { checkParity, expectParity, makeInputs } from '../../models/onnx/parity-helper';
import { ParamStore } from '../../../src/training/encoders/params';
import { addEmbedding, embedMeanPooled } from '../../../src/training/encoders/layers/embedding';

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
  // More vocabulary rows per position than the matmul pooling takes (layers/embedding.ts): the gather path.
  mlpLargeVocabulary: {
    input: { kind: 'tokens', vocabSize: 2000, maxLength: 8 },
    encoder: { kind: 'mlp', hidden: [6, 4], embedDim: 5 },
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

test('the mean-pooled bag of embeddings as one matmul equals gather + masked mean, in value and in the table gradient', () => {
  const rng = makeRng(7);
  const [b, t, v, d] = [4, 6, 11, 3];
  const store = new ParamStore(makeRng(3));
  addEmbedding(store, 'e', v, d);
  const lengths = [6, 1, 3, 0]; // a full row, one real position, a partial row, an empty row
  const ids = tf.tensor2d(Int32Array.from({ length: b * t }, (_, i) => (i % t < lengths[Math.floor(i / t)]! ? Math.floor(rng() * v) : 0)), [b, t], 'int32');
  const mask = tf.tensor2d(Float32Array.from({ length: b * t }, (_, i) => (i % t < lengths[Math.floor(i / t)]! ? 1 : 0)), [b, t]);
  const weights = tf.tensor2d(Float32Array.from({ length: b * d }, () => rng() * 2 - 1), [b, d]);
  const table = store.get('e') as tf.Variable;
  const reference = () => {
    const x = tf.gather(table, ids);
    const m = tf.expandDims(mask, -1);
    return tf.div(tf.sum(tf.mul(x, m), 1), tf.maximum(tf.sum(m, 1), 1)) as tf.Tensor2D;
  };
  const loss = (f: () => tf.Tensor2D) => tf.variableGrads(() => tf.sum(tf.mul(f(), weights)) as tf.Scalar, [table]);
  const a = loss(reference);
  const c = loss(() => embedMeanPooled(store, 'e', ids as tf.Tensor2D, mask));
  expect(tf.tidy(() => tf.abs(tf.sub(reference(), embedMeanPooled(store, 'e', ids as tf.Tensor2D, mask))).max().dataSync()[0])).toBeLessThan(1e-6);
  expect(Math.abs(a.value.dataSync()[0]! - c.value.dataSync()[0]!)).toBeLessThan(1e-6);
  expect(tf.tidy(() => tf.abs(tf.sub(a.grads[table.name]!, c.grads[table.name]!)).max().dataSync()[0])).toBeLessThan(1e-6);
  // The empty row pools to zeros, as the masked mean does.
  expect(Array.from(embedMeanPooled(store, 'e', ids as tf.Tensor2D, mask).slice([3, 0], [1, d]).dataSync())).toEqual([0, 0, 0]);
  tf.dispose([ids, mask, weights, a.value, c.value, ...Object.values(a.grads), ...Object.values(c.grads)]);
});
