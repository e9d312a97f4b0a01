import {
  assertModelSpec,
  cnnOutputShape,
  conv1dPads,
  defaultSpec,
  embeddingDim,
  headOutputName,
  parseModelSpec,
  samePads,
  sequenceDim,
  sequenceOutputLength,
  windowOutput,
  type EncoderKind,
  type Modality,
} from '../../src/models/spec';

describe('parseModelSpec', () => {
  test('fills defaults and survives a JSON round trip', () => {
    const result = parseModelSpec({
      input: { kind: 'tokens', vocabSize: 100, maxLength: 16 },
      encoder: { kind: 'transformer', dModel: 32, numHeads: 4, numLayers: 2, ffDim: 64 },
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const spec = result.spec;
    expect(spec.version).toBe(1);
    expect(spec.pooling).toBe('mean');
    expect(spec.normalize).toBe(false);
    expect(spec.input).toEqual({ kind: 'tokens', vocabSize: 100, maxLength: 16, padId: 0, clsId: 1, maskId: 2 });
    expect(spec.encoder).toMatchObject({ activation: 'gelu', norm: 'pre', dropout: 0, layerNormEpsilon: 1e-5 });
    const again = parseModelSpec(JSON.parse(JSON.stringify(spec)));
    expect(again).toEqual({ ok: true, spec });
  });

  test('lists every problem at once, with paths', () => {
    const result = parseModelSpec({
      input: { kind: 'image', height: 0, width: 8, channels: 3, mean: [0.5, 0.5] },
      encoder: { kind: 'cnn', blocks: [{ type: 'conv', filters: 4 }] },
      pooling: 'avg',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.errors.join('\n');
    expect(text).toMatch(/input\.height/);
    expect(text).toMatch(/encoder\.blocks\.0\.kernelSize/);
    expect(text).toMatch(/pooling/);
    expect(result.errors.length).toBeGreaterThanOrEqual(3);
  });

  test('cross-field rules: encoder/input pairing, heads, ids, divisibility, channels, pooling', () => {
    const cases: [unknown, RegExp][] = [
      [{ input: { kind: 'image', height: 8, width: 8, channels: 1 }, encoder: { kind: 'transformer', dModel: 8, numHeads: 2, numLayers: 1, ffDim: 8 } },
        /Unsupported encoder "transformer" for image input\. Should be one of: mlp, cnn\./],
      [{ input: { kind: 'tokens', vocabSize: 10, maxLength: 4 }, encoder: { kind: 'transformer', dModel: 10, numHeads: 3, numLayers: 1, ffDim: 8 } },
        /dModel 10 must be divisible by numHeads 3/],
      [{ input: { kind: 'tokens', vocabSize: 2, maxLength: 4 }, encoder: { kind: 'mlp', hidden: [4], embedDim: 4 } }, /maskId 2 must be < vocabSize 2/],
      [{ input: { kind: 'tokens', vocabSize: 20, maxLength: 4 }, encoder: { kind: 'mlp', hidden: [4] } }, /embedDim/],
      [{ input: { kind: 'image', height: 8, width: 8, channels: 3, std: [1, 1] }, encoder: { kind: 'mlp', hidden: [4] } }, /std must have 1 or 3/],
      [{ input: { kind: 'image', height: 4, width: 4, channels: 1 }, encoder: { kind: 'cnn', blocks: [{ type: 'pool', mode: 'max', size: 8 }] } },
        /below 1x1/],
      [{ input: { kind: 'sequence', length: 4, features: 1 }, encoder: { kind: 'sequence', conv: [{ filters: 2, kernelSize: 5, padding: 'valid' }] } },
        /leaves no time steps/],
      [{ input: { kind: 'sequence', length: 4, features: 1 }, encoder: { kind: 'sequence' } }, /at least one conv layer or a gru/],
      [{ input: { kind: 'sequence', length: 4, features: 1 }, encoder: { kind: 'mlp', hidden: [4] }, head: { kind: 'frames' } }, /per-position encoder/],
      [{ input: { kind: 'sequence', length: 4, features: 1 }, encoder: { kind: 'sequence', gru: { units: 2 } }, head: { kind: 'vocab' } },
        /vocab head needs tokens input/],
      [{ input: { kind: 'image', height: 8, width: 8, channels: 1 }, encoder: { kind: 'cnn', blocks: [{ type: 'conv', filters: 2, kernelSize: 3 }] }, pooling: 'cls' },
        /Unsupported pooling: "cls" for a cnn encoder\. Should be one of: mean, max\./],
      [{ input: { kind: 'sequence', length: 4, features: 1 }, encoder: { kind: 'mlp', hidden: [4], extra: 1 } }, /extra|Unrecognized/],
    ];
    for (const [json, pattern] of cases) {
      const result = parseModelSpec(json);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors.join('\n')).toMatch(pattern);
    }
  });

  test('assertModelSpec throws one error listing the problems', () => {
    expect(() => assertModelSpec({ input: { kind: 'audio' } })).toThrow(/Invalid model spec:\n  - input/);
  });
});

describe('shape helpers', () => {
  test('TF same/valid windows and same padding split', () => {
    expect(windowOutput(7, 3, 2, 'same')).toBe(4);
    expect(windowOutput(7, 3, 2, 'valid')).toBe(3);
    expect(samePads(7, 3, 2)).toEqual([1, 1]);
    expect(samePads(8, 3, 2)).toEqual([0, 1]);
    expect(samePads(5, 2, 1)).toEqual([0, 1]);
    expect(conv1dPads(3, 2, 'causal')).toEqual([4, 0]);
    expect(conv1dPads(2, 3, 'same')).toEqual([1, 2]);
    expect(conv1dPads(3, 1, 'valid')).toEqual([0, 0]);
  });

  test('CNN and sequence output shapes, embedding dims, head output names', () => {
    const cnn = defaultSpec('image', 'cnn', { height: 28, width: 28, channels: 1, dim: 64 });
    if (cnn.input.kind !== 'image' || cnn.encoder.kind !== 'cnn') throw new Error('unexpected preset');
    expect(cnnOutputShape(cnn.input, cnn.encoder)).toEqual([7, 7, 64]);
    expect(embeddingDim(cnn)).toBe(64);
    const seq = assertModelSpec({
      input: { kind: 'sequence', length: 10, features: 2 },
      encoder: { kind: 'sequence', conv: [{ filters: 3, kernelSize: 3, padding: 'valid', dilation: 2 }] },
    });
    if (seq.input.kind !== 'sequence' || seq.encoder.kind !== 'sequence') throw new Error('unexpected spec');
    expect(sequenceOutputLength(seq.input, seq.encoder)).toBe(6);
    expect(sequenceDim(seq)).toBe(3);
    const mlp = defaultSpec('sequence', 'mlp', { length: 4, features: 2, dim: 8 });
    expect(sequenceDim(mlp)).toBeNull();
    expect(embeddingDim(mlp)).toBe(8);
    expect(headOutputName({ kind: 'vocab' })).toBe('logits');
    expect(headOutputName({ kind: 'classifier', numClasses: 2, hidden: [] })).toBe('logits');
    expect(headOutputName({ kind: 'projection', hidden: [], outputDim: 2 })).toBe('projection');
    expect(headOutputName({ kind: 'regressor', outputDim: 1, hidden: [] })).toBe('predictions');
    expect(headOutputName({ kind: 'frames' })).toBe('frames');
  });
});

describe('defaultSpec', () => {
  const combos: [Modality, EncoderKind, Record<string, number>][] = [
    ['text', 'transformer', { vocabSize: 1000 }],
    ['text', 'mlp', { vocabSize: 1000 }],
    ['image', 'cnn', { height: 32, width: 32, channels: 3 }],
    ['image', 'mlp', { height: 28, width: 28 }],
    ['sequence', 'sequence', { length: 128, features: 6 }],
    ['sequence', 'mlp', { length: 50, features: 1 }],
  ];
  for (const [modality, kind, shape] of combos) {
    test(`${modality} / ${kind} is a valid spec with a 128-wide embedding`, () => {
      const spec = defaultSpec(modality, kind, shape);
      expect(parseModelSpec(spec).ok).toBe(true);
      expect(spec.encoder.kind).toBe(kind);
      expect(embeddingDim(spec)).toBe(128);
    });
  }

  test('rejects bad combinations and missing shape info with the valid choices', () => {
    expect(() => defaultSpec('image', 'transformer', { height: 8, width: 8 })).toThrow(/Should be one of: mlp, cnn/);
    expect(() => defaultSpec('text', 'transformer', {})).toThrow(/shapeInfo\.vocabSize/);
    expect(() => defaultSpec('audio' as Modality, 'mlp', {})).toThrow(/Unsupported modality: "audio"\. Should be one of: text, image, sequence\./);
  });
});
