// Each wasm kernel patch against the cpu backend on seeded random inputs, over several shapes, strides and
// paddings. Gradient kernels are reached through tf.grad of the forward op with a random upstream gradient.
import { tf } from '../../../src/training/engine/tf';
import { registerWasmKernels } from '../../../src/training/engine/kernels';
import { expectSame, rand, useWasm } from './compare';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

beforeAll(async () => {
  await useWasm();
});

test('registerWasmKernels registers every patch for wasm and is idempotent', () => {
  const names = registerWasmKernels();
  expect(registerWasmKernels()).toBe(names);
  for (const name of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'UnsortedSegmentSum', 'DepthwiseConv2dNativeBackpropInput',
    'DepthwiseConv2dNativeBackpropFilter', 'BatchMatMul', '_FusedMatMul', 'Transpose', 'MaxPoolGrad', 'Sum', 'Mean', 'Tanh', 'Exp', 'Identity', 'Cast', 'Sqrt', 'Add', 'Sub', 'Multiply', 'RealDiv', 'GatherV2']) {
    expect(names).toContain(name);
    expect(tf.getKernel(name, 'wasm')).toBeDefined();
  }
});

const convCases: Array<{ x: number[]; f: number[]; s: number | [number, number]; pad: Pad }> = [
  { x: [2, 7, 7, 3], f: [3, 3, 3, 4], s: 1, pad: 'same' },
  { x: [2, 8, 8, 3], f: [3, 3, 3, 5], s: 2, pad: 'valid' },
  { x: [3, 9, 6, 2], f: [3, 3, 2, 4], s: 2, pad: 'same' },
  { x: [1, 6, 7, 1], f: [5, 5, 1, 2], s: [2, 1], pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
  { x: [2, 5, 5, 4], f: [1, 1, 4, 3], s: 1, pad: 'valid' },
  { x: [2, 6, 6, 2], f: [2, 2, 2, 3], s: 1, pad: 'same' },
  { x: [1, 10, 10, 3], f: [4, 3, 3, 2], s: 3, pad: 'same' },
];

describe.each(convCases)('conv2d gradients x=$x f=$f s=$s pad=$pad', ({ x, f, s, pad }) => {
  const upstream = (xs: tf.Tensor4D, fs: tf.Tensor4D) => tf.conv2d(xs, fs, s, pad);
  test('Conv2DBackpropFilter and Conv2DBackpropInput match cpu', async () => {
    await expectSame(() => {
      const xt = rand(x, 1) as tf.Tensor4D;
      const ft = rand(f, 2) as tf.Tensor4D;
      const dy = rand(upstream(xt, ft).shape, 3);
      const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(upstream(a as tf.Tensor4D, b as tf.Tensor4D), dy)))([xt, ft]);
      return [df!, dx!];
    }, 2e-6);
  });
});

test('conv2dTranspose (Conv2DBackpropInput) matches cpu', async () => {
  await expectSame(() => tf.conv2dTranspose(rand([2, 4, 4, 5], 4) as tf.Tensor4D, rand([3, 3, 2, 5], 5) as tf.Tensor4D, [2, 8, 8, 2], 2, 'same'), 2e-6);
});

const depthwiseCases: Array<{ x: number[]; f: number[]; s: number; pad: 'same' | 'valid' }> = [
  { x: [2, 6, 6, 3], f: [3, 3, 3, 1], s: 1, pad: 'same' },
  { x: [2, 7, 7, 2], f: [3, 3, 2, 2], s: 2, pad: 'same' },
  { x: [1, 8, 5, 4], f: [2, 3, 4, 3], s: 2, pad: 'valid' },
];

describe.each(depthwiseCases)('depthwiseConv2d gradients x=$x f=$f s=$s pad=$pad', ({ x, f, s, pad }) => {
  test('DepthwiseConv2dNativeBackpropFilter and DepthwiseConv2dNativeBackpropInput match cpu', async () => {
    await expectSame(() => {
      const xt = rand(x, 6) as tf.Tensor4D;
      const ft = rand(f, 7) as tf.Tensor4D;
      const dy = rand(tf.depthwiseConv2d(xt, ft, s, pad).shape, 8);
      const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), dy)))([xt, ft]);
      return [df!, dx!];
    }, 2e-6);
  });
});

test('UnsortedSegmentSum matches cpu (repeats, out-of-range ids, inner dims)', async () => {
  await expectSame(() => {
    const ids = tf.tensor1d([0, 3, 3, 1, 6, 0, 2, 3, -1], 'int32');
    return [
      tf.unsortedSegmentSum(rand([9, 4, 3], 9), ids, 5),
      tf.unsortedSegmentSum(rand([9], 10), ids, 7),
    ];
  }, 1e-6);
});

test('gather gradient (embedding lookups) matches cpu', async () => {
  await expectSame(() => {
    const table = rand([11, 6], 11);
    const ids = tf.tensor2d([[1, 4, 4, 10], [0, 1, 7, 4]], [2, 4], 'int32');
    const dy = rand([2, 4, 6], 12);
    return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), dy)))(table);
  }, 1e-6);
});

test('GatherV2 along axis 0 matches cpu (repeats, int32 tables, rank-3 tables, 2-D ids) and other axes fall back', async () => {
  await expectSame(() => {
    const ids = tf.tensor2d([[1, 4, 4, 10], [0, 1, 7, 4]], [2, 4], 'int32');
    return [
      tf.gather(rand([11, 6], 13), ids),
      tf.gather(rand([11, 3, 2], 14), tf.tensor1d([10, 0, 0, 5], 'int32')),
      tf.gather(tf.tensor2d(Int32Array.from({ length: 22 }, (_, i) => i * 7 - 30), [11, 2], 'int32'), ids),
      tf.gather(rand([4, 9], 15), tf.tensor1d([8, 0, 3], 'int32'), 1),
      tf.gather(rand([2, 5, 3], 16), tf.tensor2d([[4, 0], [1, 1]], [2, 2], 'int32'), 1, 1),
    ];
  }, 0);
  const table = tf.tensor2d([[1, 2], [3, 4]]);
  expect(() => tf.gather(table, tf.tensor1d([0, 2], 'int32'))).toThrow('GatherV2: the index value 2 is not in [0, 1]');
  expect(() => tf.gather(table, tf.tensor1d([-1], 'int32'))).toThrow('GatherV2: the index value -1 is not in [0, 1]');
  table.dispose();
});

const matMulCases: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean }> = [
  { a: [5, 7], b: [7, 3], ta: false, tb: false },
  { a: [7, 5], b: [7, 3], ta: true, tb: false },
  { a: [5, 7], b: [3, 7], ta: false, tb: true },
  { a: [7, 5], b: [3, 7], ta: true, tb: true },
  { a: [4, 3, 33, 17], b: [4, 3, 17, 40], ta: false, tb: false },
  { a: [4, 3, 17, 33], b: [4, 3, 40, 17], ta: true, tb: true },
  { a: [6, 40, 24], b: [24, 30], ta: false, tb: false },
  { a: [40, 24], b: [6, 30, 24], ta: false, tb: true },
  { a: [3, 4, 5], b: [3, 5, 2], ta: false, tb: false },
];

test.each(matMulCases)('BatchMatMul a=$a b=$b transposeA=$ta transposeB=$tb matches cpu', async ({ a, b, ta, tb }) => {
  await expectSame(() => tf.matMul(rand(a, 13), rand(b, 14), ta, tb), 2e-6);
});

test.each([[false, false], [true, false], [false, true], [true, true]])('_FusedMatMul transposeA=%s transposeB=%s with bias + relu matches cpu', async (ta, tb) => {
  await expectSame(() => {
    const a = rand(ta ? [9, 6] : [6, 9], 15) as tf.Tensor2D;
    const b = rand(tb ? [4, 9] : [9, 4], 16) as tf.Tensor2D;
    return tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias: rand([4], 17), activation: 'relu' });
  }, 2e-6);
});

const transposeCases: Array<{ shape: number[]; perm: number[]; dtype: 'float32' | 'int32' }> = [
  { shape: [37, 70], perm: [1, 0], dtype: 'float32' },
  { shape: [3, 5, 4, 33], perm: [0, 2, 1, 3], dtype: 'float32' },
  { shape: [3, 5, 4, 7], perm: [0, 2, 1, 3], dtype: 'float32' },
  { shape: [4, 35, 66], perm: [0, 2, 1], dtype: 'float32' },
  { shape: [3, 4, 5, 6], perm: [3, 0, 1, 2], dtype: 'float32' },
  { shape: [2, 1, 5, 1, 3], perm: [4, 3, 2, 1, 0], dtype: 'int32' },
  { shape: [6, 5, 4], perm: [2, 0, 1], dtype: 'int32' },
  { shape: [2, 3, 4], perm: [0, 1, 2], dtype: 'float32' },
];

test.each(transposeCases)('Transpose $shape perm=$perm $dtype matches cpu', async ({ shape, perm, dtype }) => {
  await expectSame(() => {
    const x = rand(shape, 18);
    return tf.transpose(dtype === 'int32' ? tf.cast(tf.mul(x, 1000), 'int32') : x, perm);
  }, 0);
});

test.each([
  { shape: [6, 5, 4, 3], axes: [0, 1, 2], keepDims: false },
  { shape: [6, 5, 4, 3], axes: [0, 1, 2], keepDims: true },
  { shape: [40, 7], axes: [0], keepDims: false },
  { shape: [6, 5, 4], axes: [1, 0], keepDims: false },
  { shape: [6, 5, 4], axes: [2], keepDims: false },
  { shape: [6, 5, 4], axes: [0, 2], keepDims: true },
])('Sum and Mean over $axes of $shape (keepDims=$keepDims) match cpu', async ({ shape, axes, keepDims }) => {
  await expectSame(() => [tf.sum(rand(shape, 19), axes, keepDims), tf.mean(rand(shape, 20), axes, keepDims)], 1e-6);
});

test.each([
  { x: [2, 8, 8, 3], size: 2, s: 2, pad: 'valid' as const },
  { x: [2, 7, 7, 3], size: 3, s: 2, pad: 'same' as const },
  { x: [1, 6, 5, 2], size: 3, s: 1, pad: 'same' as const },
  { x: [2, 9, 9, 4], size: 2, s: 1, pad: 'valid' as const },
])('MaxPoolGrad x=$x size=$size s=$s pad=$pad matches cpu, ties included', async ({ x, size, s, pad }) => {
  await expectSame(() => {
    // Rounded values make ties inside windows likely, where the first maximum must get the gradient.
    const xt = tf.round(tf.mul(rand(x, 21), 2)) as tf.Tensor4D;
    const dy = rand(tf.maxPool(xt, size, s, pad).shape, 22);
    return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, size, s, pad), dy)))(xt);
  }, 1e-6);
});

test('Tanh and Exp match cpu over a wide input range', async () => {
  await expectSame(() => {
    const x = tf.mul(rand([4000], 23), 12);
    const small = tf.mul(rand([500], 24), 1e-3);
    return [tf.tanh(x), tf.tanh(small), tf.exp(x), tf.exp(tf.mul(rand([1000], 25), 80))];
  }, 2e-6);
});

test('Exp keeps relative precision for tiny results', async () => {
  await useWasm();
  const x = tf.linspace(-80, -20, 61);
  const y = tf.exp(x);
  const got = y.dataSync();
  const xs = x.dataSync();
  for (let i = 0; i < got.length; i++) {
    expect(Math.abs(got[i]! - Math.exp(xs[i]!)) / Math.exp(xs[i]!)).toBeLessThan(1e-5);
  }
  tf.dispose([x, y]);
});

test('Sqrt matches cpu exactly', async () => {
  await expectSame(() => [tf.sqrt(tf.abs(rand([3000], 26))), tf.sqrt(tf.tensor1d([0, 1, 4, 1e-30, 1e30]))], 0);
});

test('Identity shares the buffer safely: a clone outlives its source', async () => {
  await useWasm();
  const x = rand([4, 5], 27);
  const expected = Array.from(x.dataSync());
  const y = tf.clone(x);
  x.dispose();
  expect(Array.from(y.dataSync())).toEqual(expected);
  const z = tf.cast(y, 'float32');
  y.dispose();
  expect(Array.from(z.dataSync())).toEqual(expected);
  z.dispose();
});

test('Cast between dtypes converts as on cpu (float → bool is x ≠ 0)', async () => {
  await expectSame(() => {
    const x = tf.mul(rand([50], 28), 10);
    return [tf.cast(tf.cast(x, 'int32'), 'float32'), tf.cast(tf.cast(x, 'bool'), 'float32'), tf.cast(tf.cast(tf.cast(x, 'int32'), 'bool'), 'float32'), tf.cast(x, 'float32')];
  }, 0);
});

test.each([
  { a: [6, 5, 7], b: [6, 5, 1] },
  { a: [9, 1], b: [9, 4] },
  { a: [40, 33], b: [40, 1] },
  { a: [4, 3], b: [3] },
  { a: [4, 1, 3], b: [4, 2, 1] },
])('Add, Sub, Multiply, RealDiv of $a with $b match cpu', async ({ a, b }) => {
  await expectSame(() => {
    const x = rand(a, 29);
    // Divisors kept away from zero so the comparison measures the kernels, not a pole.
    const y = tf.add(tf.abs(rand(b, 30)), 0.5);
    return [tf.add(x, y), tf.sub(x, y), tf.mul(x, y), tf.div(x, y), tf.sub(y, x), tf.div(y, tf.add(tf.abs(x), 0.5))];
  }, 1e-6);
});
