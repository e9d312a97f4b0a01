// Layer-level parity: each case isolates one layer type or option inside the smallest model that exercises it,
// exports it, and compares ONNX Runtime with tfjs (inference mode) on the same inputs: max |diff| ≤ 1e-4.
import '../../setup/realm';
import type { ModelSpecInput } from '../../../src/models/spec';
import { checkParity, expectParity, worst } from './parity-helper';

afterAll(() => {
  console.log(`layer parity: worst max|diff| ${worst.diff.toExponential(2)} in "${worst.case}"`);
});

const seq = (length = 5, features = 3) => ({ kind: 'sequence' as const, length, features });
const img = (height = 7, width = 6, channels = 2) => ({
  kind: 'image' as const,
  height,
  width,
  channels,
  mean: channels === 1 ? [0.45] : Array.from({ length: channels }, (_, c) => 0.3 + 0.1 * c),
  std: channels === 1 ? [0.22] : Array.from({ length: channels }, (_, c) => 0.2 + 0.05 * c),
});
const tokens = { kind: 'tokens' as const, vocabSize: 23, maxLength: 7 };

async function parity(spec: ModelSpecInput, outputs = ['embedding'], opts: Parameters<typeof checkParity>[1] = {}) {
  expectParity(await checkParity(spec, opts), outputs);
}

describe('dense + activations (MLP)', () => {
  for (const activation of ['relu', 'gelu', 'tanh', 'sigmoid', 'linear'] as const) {
    test(activation, () => parity({ input: seq(), encoder: { kind: 'mlp', hidden: [7, 5], activation } }));
  }
});

describe('inputs', () => {
  test('image: in-graph pixel scaling with per-channel mean/std', () =>
    parity({ input: img(4, 5, 3), encoder: { kind: 'mlp', hidden: [6] } }));
  test('image: one mean/std broadcast over channels', () =>
    parity({ input: { ...img(4, 4, 2), mean: [0.5], std: [0.3] }, encoder: { kind: 'mlp', hidden: [6] } }));
  test('tokens: embedding + mask-aware mean (MLP)', () =>
    parity({ input: tokens, encoder: { kind: 'mlp', hidden: [6], embedDim: 5 } }, ['embedding'], { batch: 4 }));
});

describe('conv2d', () => {
  const cases = [
    { name: 'same, stride 1, batch norm', block: { filters: 4, kernelSize: 3 } },
    { name: 'same, stride 2 (asymmetric pads on odd size)', block: { filters: 4, kernelSize: 3, stride: 2 } },
    { name: 'same, even kernel', block: { filters: 3, kernelSize: 2 } },
    { name: 'valid, stride 1', block: { filters: 4, kernelSize: 3, padding: 'valid' } },
    { name: 'valid, stride 2, bias (no batch norm)', block: { filters: 4, kernelSize: 3, stride: 2, padding: 'valid', batchNorm: false } },
    { name: 'same, no batch norm, gelu', block: { filters: 5, kernelSize: 3, batchNorm: false, activation: 'gelu' } },
  ];
  for (const c of cases) {
    test(c.name, () =>
      parity({ input: img(), encoder: { kind: 'cnn', blocks: [{ type: 'conv', ...c.block } as never] }, pooling: 'mean' }),
    );
  }
});

describe('spatial pooling and residual blocks', () => {
  const conv = { type: 'conv' as const, filters: 4, kernelSize: 3 };
  test('max pool 2x2', () => parity({ input: img(), encoder: { kind: 'cnn', blocks: [conv, { type: 'pool', mode: 'max' }] } }));
  test('avg pool 2x2', () => parity({ input: img(), encoder: { kind: 'cnn', blocks: [conv, { type: 'pool', mode: 'avg' }] } }));
  test('max pool 3, stride 2 (overlapping)', () =>
    parity({ input: img(), encoder: { kind: 'cnn', blocks: [conv, { type: 'pool', mode: 'max', size: 3, stride: 2 }] } }));
  test('residual, identity shortcut', () =>
    parity({ input: img(), encoder: { kind: 'cnn', blocks: [conv, { type: 'residual', filters: 4 }] } }));
  test('residual, projection shortcut (stride 2, more channels)', () =>
    parity({ input: img(), encoder: { kind: 'cnn', blocks: [conv, { type: 'residual', filters: 6, stride: 2 }] } }));
  test('residual with gelu and kernel 5', () =>
    parity({ input: img(), encoder: { kind: 'cnn', blocks: [{ type: 'residual', filters: 3, kernelSize: 5, activation: 'gelu' }] } }));
});

describe('conv1d', () => {
  for (const padding of ['causal', 'same', 'valid'] as const) {
    for (const [kernelSize, dilation] of [
      [3, 1],
      [2, 2],
      [3, 3],
    ]) {
      test(`${padding}, kernel ${kernelSize}, dilation ${dilation}`, () =>
        parity({ input: seq(9, 3), encoder: { kind: 'sequence', conv: [{ filters: 4, kernelSize, dilation, padding }] } }));
    }
  }
});

describe('gru', () => {
  test('GRU alone', () => parity({ input: seq(6, 3), encoder: { kind: 'sequence', gru: { units: 5 } }, pooling: 'last' }));
  test('conv1d stack then GRU', () =>
    parity({
      input: seq(8, 2),
      encoder: { kind: 'sequence', conv: [{ filters: 4, kernelSize: 3 }, { filters: 3, kernelSize: 2, dilation: 2, activation: 'tanh' }], gru: { units: 4 } },
      pooling: 'mean',
    }));
});

describe('transformer layers (layer norm, attention, feed-forward)', () => {
  const base = { kind: 'transformer' as const, dModel: 8, numLayers: 1, ffDim: 12 };
  test('pre-LN, gelu, 2 heads', () => parity({ input: tokens, encoder: { ...base, numHeads: 2 } }, ['embedding'], { batch: 4 }));
  test('post-LN, relu, 4 heads', () =>
    parity({ input: tokens, encoder: { ...base, numHeads: 4, norm: 'post', activation: 'relu' } }, ['embedding'], { batch: 4 }));
  test('1 head, custom layer-norm epsilon', () =>
    parity({ input: tokens, encoder: { ...base, numHeads: 1, layerNormEpsilon: 1e-3 } }, ['embedding'], { batch: 2 }));
  test('padding mask: rows of different lengths in one batch, T < maxLength', () =>
    parity({ input: tokens, encoder: { ...base, numHeads: 2, numLayers: 2 } }, ['embedding'], { batch: 5, tokenLength: 5 }));
});

describe('sequence pooling', () => {
  const tr = { kind: 'transformer' as const, dModel: 8, numHeads: 2, numLayers: 1, ffDim: 8 };
  for (const pooling of ['mean', 'max', 'cls'] as const) {
    test(`tokens (mask-aware): ${pooling}`, () => parity({ input: tokens, encoder: tr, pooling }, ['embedding'], { batch: 4 }));
  }
  for (const pooling of ['mean', 'max', 'last'] as const) {
    test(`sequence: ${pooling}`, () =>
      parity({ input: seq(6, 2), encoder: { kind: 'sequence', conv: [{ filters: 4, kernelSize: 3 }] }, pooling }));
  }
  for (const pooling of ['mean', 'max'] as const) {
    test(`cnn: ${pooling}`, () =>
      parity({ input: img(), encoder: { kind: 'cnn', blocks: [{ type: 'conv', filters: 4, kernelSize: 3 }] }, pooling }));
  }
});

describe('L2 normalization', () => {
  const spec = { input: seq(), encoder: { kind: 'mlp' as const, hidden: [6] } };
  test('from the spec', () => parity({ ...spec, normalize: true }));
  test('forced on at export', () => parity(spec, ['embedding'], { normalize: true }));
  test('forced off at export', () => parity({ ...spec, normalize: true }, ['embedding'], { normalize: false }));
});

describe('heads', () => {
  test('projection with hidden layers', () =>
    parity({ input: seq(), encoder: { kind: 'mlp', hidden: [6] }, head: { kind: 'projection', hidden: [7, 5], outputDim: 4 } }, [
      'embedding',
      'projection',
    ]));
  test('classifier', () =>
    parity({ input: img(), encoder: { kind: 'cnn', blocks: [{ type: 'conv', filters: 4, kernelSize: 3 }] }, head: { kind: 'classifier', numClasses: 3 } }, [
      'embedding',
      'logits',
    ]));
  test('regressor with hidden layer', () =>
    parity({ input: seq(), encoder: { kind: 'sequence', gru: { units: 4 } }, pooling: 'last', head: { kind: 'regressor', outputDim: 2, hidden: [3] } }, [
      'embedding',
      'predictions',
    ]));
  test('vocab logits over padded tokens', () =>
    parity(
      { input: tokens, encoder: { kind: 'transformer', dModel: 8, numHeads: 2, numLayers: 1, ffDim: 8 }, head: { kind: 'vocab' } },
      ['embedding', 'logits'],
      { batch: 3, tokenLength: 6 },
    ));
  test('frames (sequence reconstruction)', () =>
    parity({ input: seq(6, 3), encoder: { kind: 'sequence', conv: [{ filters: 5, kernelSize: 3 }] }, head: { kind: 'frames' } }, [
      'embedding',
      'frames',
    ]));
  test('frames over CNN patches (patch reconstruction)', () =>
    parity(
      { input: img(8, 8, 1), encoder: { kind: 'cnn', blocks: [{ type: 'conv', filters: 4, kernelSize: 3, stride: 2 }] }, head: { kind: 'frames', outputDim: 4 } },
      ['embedding', 'frames'],
    ));
  test('head left out at export', () =>
    parity({ input: seq(), encoder: { kind: 'mlp', hidden: [6] }, head: { kind: 'classifier', numClasses: 3 } }, ['embedding'], {
      includeHead: false,
    }));
});
