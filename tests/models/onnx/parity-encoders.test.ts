// Encoder-level parity: whole presets and deeper stacks of every family, exported with their heads, plus the
// dynamic batch / sequence dimensions of one exported graph reused at several sizes.
import '../../setup/realm';
import { tf } from '../../../src/training/engine/tf';
import { buildModel } from '../../../src/training/encoders';
import { defaultSpec, type EncoderKind, type Modality, type ModelSpecInput } from '../../../src/models/spec';
import { exportOnnx } from '../../../src/models/onnx';
import { loadSession } from '../../../src/inference/onnx';
import { checkParity, expectParity, makeInputs, perturbWeights, TOLERANCE, worst } from './parity-helper';

afterAll(() => {
  console.log(`encoder parity: worst max|diff| ${worst.diff.toExponential(2)} in "${worst.case}"`);
});

const presets: [Modality, EncoderKind, Record<string, number>][] = [
  ['text', 'transformer', { vocabSize: 40, maxLength: 10, dim: 16 }],
  ['text', 'mlp', { vocabSize: 40, maxLength: 10, dim: 16 }],
  ['image', 'cnn', { height: 12, width: 12, channels: 1, dim: 32 }],
  ['image', 'mlp', { height: 6, width: 6, channels: 3, dim: 16 }],
  ['sequence', 'sequence', { length: 12, features: 3, dim: 16 }],
  ['sequence', 'mlp', { length: 12, features: 3, dim: 16 }],
];

describe('defaultSpec presets', () => {
  for (const [modality, kind, shape] of presets) {
    test(`${modality} / ${kind}`, async () => {
      const spec = { ...defaultSpec(modality, kind, shape), normalize: true };
      expectParity(await checkParity(spec, { batch: 3, seed: 11 }), ['embedding']);
    });
  }
});

describe('deeper stacks with heads', () => {
  test('transformer, 3 post-LN layers, masked-token head, padded batch', async () => {
    const spec: ModelSpecInput = {
      input: { kind: 'tokens', vocabSize: 30, maxLength: 12 },
      encoder: { kind: 'transformer', dModel: 12, numHeads: 3, numLayers: 3, ffDim: 24, norm: 'post', dropout: 0.1 },
      pooling: 'cls',
      head: { kind: 'vocab' },
    };
    expectParity(await checkParity(spec, { batch: 4, tokenLength: 9 }), ['embedding', 'logits']);
  });

  test('CNN: conv, pools, residual stages, contrastive projection head, normalized', async () => {
    const spec: ModelSpecInput = {
      input: { kind: 'image', height: 14, width: 14, channels: 3, mean: [0.48, 0.46, 0.41], std: [0.23, 0.22, 0.23] },
      encoder: {
        kind: 'cnn',
        blocks: [
          { type: 'conv', filters: 6, kernelSize: 3 },
          { type: 'pool', mode: 'max', size: 2 },
          { type: 'residual', filters: 6 },
          { type: 'residual', filters: 8, stride: 2 },
          { type: 'conv', filters: 8, kernelSize: 1, batchNorm: false },
          { type: 'pool', mode: 'avg', size: 2 },
        ],
        batchNormEpsilon: 1e-5,
      },
      pooling: 'max',
      normalize: true,
      head: { kind: 'projection', hidden: [8], outputDim: 6 },
    };
    expectParity(await checkParity(spec, { batch: 2 }), ['embedding', 'projection']);
  });

  test('sequence: causal dilated conv stack + GRU, frames head', async () => {
    const spec: ModelSpecInput = {
      input: { kind: 'sequence', length: 16, features: 4 },
      encoder: {
        kind: 'sequence',
        conv: [
          { filters: 6, kernelSize: 3 },
          { filters: 6, kernelSize: 3, dilation: 2 },
          { filters: 8, kernelSize: 3, dilation: 4, activation: 'gelu' },
        ],
        gru: { units: 6 },
      },
      pooling: 'last',
      head: { kind: 'frames' },
    };
    expectParity(await checkParity(spec, { batch: 3 }), ['embedding', 'frames']);
  });
});

describe('dynamic dimensions', () => {
  test('one exported transformer serves several batch sizes and sequence lengths', async () => {
    const spec = defaultSpec('text', 'transformer', { vocabSize: 25, maxLength: 10, dim: 8 });
    const model = buildModel(spec, { seed: 3 });
    model.setWeights(perturbWeights(model.getWeights(), 3));
    const session = await loadSession(exportOnnx(spec, model.getWeights()));
    try {
      for (const [batch, length] of [
        [1, 10],
        [5, 4],
        [2, 7],
      ]) {
        const inputs = makeInputs(spec, batch, batch * 100 + length, length);
        const expected = tf.tidy(() => model.apply(inputs.tf).embedding.dataSync() as Float32Array);
        const got = (await session.run(inputs.onnx)).embedding as { data: Float32Array; dims: number[] };
        expect(got.dims).toEqual([batch, 8]);
        const diff = expected.reduce((m, v, i) => Math.max(m, Math.abs(v - got.data[i])), 0);
        expect(diff).toBeLessThanOrEqual(TOLERANCE);
        tf.dispose(Object.values(inputs.tf) as tf.Tensor[]);
      }
    } finally {
      await session.dispose();
      model.dispose();
    }
  });

  test('image graph serves batch 1 and batch 6', async () => {
    const spec = defaultSpec('image', 'cnn', { height: 8, width: 8, channels: 1, dim: 16 });
    const model = buildModel(spec, { seed: 4 });
    model.setWeights(perturbWeights(model.getWeights(), 4));
    const session = await loadSession(exportOnnx(spec, model.getWeights()));
    try {
      for (const batch of [1, 6]) {
        const inputs = makeInputs(spec, batch, batch);
        const expected = tf.tidy(() => model.apply(inputs.tf).embedding.dataSync() as Float32Array);
        const got = (await session.run(inputs.onnx)).embedding as { data: Float32Array; dims: number[] };
        expect(got.dims).toEqual([batch, 16]);
        expect(expected.reduce((m, v, i) => Math.max(m, Math.abs(v - got.data[i])), 0)).toBeLessThanOrEqual(TOLERANCE);
        tf.dispose(Object.values(inputs.tf) as tf.Tensor[]);
      }
    } finally {
      await session.dispose();
      model.dispose();
    }
  });
});

describe('checkpoint path', () => {
  test('weights after training-mode batch-norm updates export with the updated running stats', async () => {
    const spec = defaultSpec('image', 'cnn', { height: 8, width: 8, channels: 1, dim: 16 });
    const model = buildModel(spec, { seed: 5 });
    const inputs = makeInputs(spec, 4, 5);
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        model.apply(inputs.tf, { training: true });
      });
    }
    const weights = model.getWeights();
    expect(Array.from(weights['encoder/block0/bn/moving_mean'].data).some((v) => v !== 0)).toBe(true);
    const session = await loadSession(exportOnnx(spec, weights));
    try {
      const expected = tf.tidy(() => model.apply(inputs.tf).embedding.dataSync() as Float32Array);
      const got = (await session.run(inputs.onnx)).embedding as { data: Float32Array; dims: number[] };
      expect(expected.reduce((m, v, i) => Math.max(m, Math.abs(v - got.data[i])), 0)).toBeLessThanOrEqual(TOLERANCE);
    } finally {
      await session.dispose();
      tf.dispose(Object.values(inputs.tf) as tf.Tensor[]);
      model.dispose();
    }
  });
});
