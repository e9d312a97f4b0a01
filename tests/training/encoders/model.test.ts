import { tf } from '../../../src/training/engine/tf';
import { buildModel, makeRng } from '../../../src/training/encoders';
import { assertModelSpec, type ModelSpecInput } from '../../../src/models/spec';

const tokenSpec: ModelSpecInput = {
  input: { kind: 'tokens', vocabSize: 20, maxLength: 8 },
  encoder: { kind: 'transformer', dModel: 8, numHeads: 2, numLayers: 2, ffDim: 16 },
  pooling: 'mean',
  head: { kind: 'vocab' },
};
const imageSpec: ModelSpecInput = {
  input: { kind: 'image', height: 8, width: 8, channels: 1, mean: [0.5], std: [0.25] },
  encoder: {
    kind: 'cnn',
    blocks: [
      { type: 'conv', filters: 4, kernelSize: 3 },
      { type: 'residual', filters: 6, stride: 2 },
      { type: 'pool', mode: 'max', size: 2 },
    ],
  },
  pooling: 'mean',
  normalize: true,
  head: { kind: 'projection', hidden: [5], outputDim: 3 },
};
const seqSpec: ModelSpecInput = {
  input: { kind: 'sequence', length: 6, features: 3 },
  encoder: { kind: 'sequence', conv: [{ filters: 4, kernelSize: 3, dilation: 2 }], gru: { units: 5 } },
  pooling: 'last',
  head: { kind: 'frames' },
};
const mlpSpec: ModelSpecInput = {
  input: { kind: 'sequence', length: 4, features: 2 },
  encoder: { kind: 'mlp', hidden: [6, 4], dropout: 0.5 },
  head: { kind: 'classifier', numClasses: 3 },
};

function randomValues(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rng = makeRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale), shape);
}


describe('buildModel', () => {
  test('output shapes for every encoder family and head', () => {
    const tokens = buildModel(tokenSpec, { seed: 1 });
    const image = buildModel(imageSpec, { seed: 1 });
    const seq = buildModel(seqSpec, { seed: 1 });
    const mlp = buildModel(mlpSpec, { seed: 1 });
    tf.tidy(() => {
      const t = tokens.apply({ inputIds: tf.tensor2d([[1, 5, 6, 0], [1, 7, 0, 0]], [2, 4], 'int32') });
      expect(t.sequence!.shape).toEqual([2, 4, 8]);
      expect(t.embedding.shape).toEqual([2, 8]);
      expect(t.head!.shape).toEqual([2, 4, 20]);
      const i = image.apply({ pixels: randomValues([3, 8, 8, 1], 2, 255).abs() as tf.Tensor4D });
      expect(i.sequence!.shape).toEqual([3, 4, 6]);
      expect(i.embedding.shape).toEqual([3, 6]);
      expect(i.head!.shape).toEqual([3, 3]);
      const norms = tf.sqrt(tf.sum(tf.square(i.embedding), 1)).arraySync() as number[];
      norms.forEach((n) => expect(n).toBeCloseTo(1, 5));
      const s = seq.apply({ values: randomValues([2, 6, 3], 3) as tf.Tensor3D });
      expect(s.sequence!.shape).toEqual([2, 6, 5]);
      expect(s.head!.shape).toEqual([2, 6, 3]);
      const m = mlp.apply({ values: randomValues([2, 4, 2], 4) as tf.Tensor3D });
      expect(m.sequence).toBeUndefined();
      expect(m.embedding.shape).toEqual([2, 4]);
      expect(m.head!.shape).toEqual([2, 3]);
    });
    [tokens, image, seq, mlp].forEach((m) => m.dispose());
  });

  test('same seed gives the same weights; different seed differs', () => {
    const a = buildModel(imageSpec, { seed: 7 });
    const b = buildModel(imageSpec, { seed: 7 });
    const c = buildModel(imageSpec, { seed: 8 });
    const wa = a.getWeights();
    const wb = b.getWeights();
    const wc = c.getWeights();
    expect(Object.keys(wa)).toEqual(Object.keys(wb));
    for (const k of Object.keys(wa)) expect(Array.from(wa[k].data)).toEqual(Array.from(wb[k].data));
    const kernel = 'encoder/block0/conv/kernel';
    expect(Array.from(wa[kernel].data)).not.toEqual(Array.from(wc[kernel].data));
    [a, b, c].forEach((m) => m.dispose());
  });

  test('documented parameter names', () => {
    const m = buildModel(imageSpec, { seed: 1 });
    const names = m.params.names();
    expect(names).toEqual(
      expect.arrayContaining([
        'encoder/block0/conv/kernel',
        'encoder/block0/bn/moving_mean',
        'encoder/block1/conv1/kernel',
        'encoder/block1/shortcut/conv/kernel',
        'encoder/block1/shortcut/bn/moving_variance',
        'head/hidden0/kernel',
        'head/out/bias',
      ]),
    );
    expect(Object.keys(m.trainableVariables())).not.toContain('encoder/block0/bn/moving_mean');
    m.dispose();
  });

  test('weights round-trip through getWeights/setWeights and change outputs accordingly', () => {
    const a = buildModel(seqSpec, { seed: 1 });
    const b = buildModel(seqSpec, { seed: 2 });
    const values = randomValues([2, 6, 3], 9) as tf.Tensor3D;
    const before = tf.tidy(() => b.apply({ values }).embedding.arraySync());
    b.setWeights(a.getWeights());
    const ea = tf.tidy(() => a.apply({ values }).embedding.arraySync());
    const eb = tf.tidy(() => b.apply({ values }).embedding.arraySync());
    expect(eb).toEqual(ea);
    expect(before).not.toEqual(ea);
    expect(() => b.setWeights({ bogus: { shape: [1], data: new Float32Array(1) } })).toThrow(/missing .*unexpected \[bogus\]/s);
    const partial = a.getWeights();
    delete partial['head/out/kernel'];
    expect(b.setWeights(partial, { strict: false }).missing).toEqual(['head/out/kernel']);
    values.dispose();
    a.dispose();
    b.dispose();
  });

  test('padding tokens do not change the mask-aware embedding', () => {
    const m = buildModel({ ...tokenSpec, head: undefined }, { seed: 3 });
    const [short, padded] = tf.tidy(() => [
      m.apply({ inputIds: tf.tensor2d([[1, 4, 9]], [1, 3], 'int32') }).embedding.arraySync(),
      m.apply({ inputIds: tf.tensor2d([[1, 4, 9, 0, 0]], [1, 5], 'int32') }).embedding.arraySync(),
    ]);
    (short as number[][])[0].forEach((v, i) => expect((padded as number[][])[0][i]).toBeCloseTo(v, 5));
    m.dispose();
  });

  test('training-mode batch norm updates running stats; inference does not', () => {
    const m = buildModel(imageSpec, { seed: 4 });
    const pixels = tf.tidy(() => randomValues([4, 8, 8, 1], 5, 255).abs()) as tf.Tensor4D;
    const mean0 = m.params.get('encoder/block0/bn/moving_mean').arraySync();
    tf.tidy(() => {
      m.apply({ pixels }, { training: false });
    });
    expect(m.params.get('encoder/block0/bn/moving_mean').arraySync()).toEqual(mean0);
    tf.tidy(() => {
      m.apply({ pixels }, { training: true });
    });
    expect(m.params.get('encoder/block0/bn/moving_mean').arraySync()).not.toEqual(mean0);
    pixels.dispose();
    m.dispose();
  });

  test('gradients reach every trainable parameter', () => {
    for (const spec of [tokenSpec, imageSpec, seqSpec, mlpSpec]) {
      const m = buildModel(spec, { seed: 5 });
      const parsed = assertModelSpec(spec);
      const vars = m.trainableVariables();
      const rng = makeRng(1);
      const { value, grads } = tf.variableGrads(() => {
        const inputs =
          parsed.input.kind === 'tokens'
            ? { inputIds: tf.tensor2d([[1, 5, 6, 3], [1, 7, 8, 0]], [2, 4], 'int32') }
            : parsed.input.kind === 'image'
              ? { pixels: tf.abs(randomValues([2, 8, 8, 1], 6, 255)) as tf.Tensor4D }
              : { values: randomValues([2, parsed.input.length, parsed.input.features], 6) as tf.Tensor3D };
        const out = m.apply(inputs, { training: true, rng });
        return tf.add(tf.sum(tf.square(out.head!)), tf.sum(out.embedding)) as tf.Scalar;
      }, Object.values(vars));
      expect(Object.keys(grads).length).toBe(Object.keys(vars).length);
      for (const g of Object.values(grads)) expect(Number.isFinite(g.sum().dataSync()[0])).toBe(true);
      const nonZero = Object.values(grads).filter((g) => tf.tidy(() => g.abs().max().dataSync()[0]) > 0).length;
      expect(nonZero).toBeGreaterThan(Object.keys(vars).length / 2);
      value.dispose();
      tf.dispose(grads);
      m.dispose();
    }
  });

  test('apply() inside tidy leaves no tensors behind; dispose() frees the parameters', () => {
    const before = tf.memory().numTensors;
    const m = buildModel(imageSpec, { seed: 9 });
    const paramCount = m.params.names().length;
    expect(tf.memory().numTensors).toBe(before + paramCount);
    const pixels = tf.tidy(() => tf.abs(randomValues([2, 8, 8, 1], 1, 255))) as tf.Tensor4D;
    const mid = tf.memory().numTensors;
    tf.tidy(() => {
      m.apply({ pixels }, { training: true });
      m.apply({ pixels });
    });
    expect(tf.memory().numTensors).toBe(mid);
    pixels.dispose();
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('dropout is active only in training mode and reproducible with a seeded rng', () => {
    const m = buildModel(mlpSpec, { seed: 6 });
    const values = randomValues([2, 4, 2], 11) as tf.Tensor3D;
    const [e1, e2, t1, t2] = tf.tidy(() => [
      m.apply({ values }).embedding.arraySync(),
      m.apply({ values }).embedding.arraySync(),
      m.apply({ values }, { training: true, rng: makeRng(3) }).embedding.arraySync(),
      m.apply({ values }, { training: true, rng: makeRng(3) }).embedding.arraySync(),
    ]);
    expect(e1).toEqual(e2);
    expect(t1).toEqual(t2);
    expect(t1).not.toEqual(e1);
    values.dispose();
    m.dispose();
  });
});
