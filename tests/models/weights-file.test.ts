// The weights file fine-tuning starts from: exact round trip, and every malformed file refused with a reason.
import { decodeWeights, encodeWeights } from '../../src/models/weights-file';
import type { NamedWeights } from '../../src/training/encoders/params';

const weights = (): NamedWeights => ({
  'encoder/dense0/kernel': { shape: [3, 2], data: Float32Array.from([0.5, -1.25, 3, 4e-8, -0, 7]) },
  'encoder/dense0/bias': { shape: [2], data: Float32Array.from([1, 2]) },
  'encoder/scalar': { shape: [], data: Float32Array.from([42]) },
});

describe('weights file', () => {
  it('round-trips names, shapes and every bit of every value', () => {
    const back = decodeWeights(encodeWeights(weights()));
    expect(Object.keys(back)).toEqual(Object.keys(weights()));
    for (const [name, t] of Object.entries(weights())) {
      expect(back[name]!.shape).toEqual(t.shape);
      expect(Buffer.from(back[name]!.data.buffer)).toEqual(Buffer.from(t.data.buffer));
    }
  });

  it('decodes from a view at an odd byte offset (objects read into pooled buffers)', () => {
    const bytes = encodeWeights(weights());
    const shifted = Buffer.alloc(bytes.length + 3);
    bytes.copy(shifted, 3);
    expect(decodeWeights(shifted.subarray(3))['encoder/dense0/kernel']!.data[1]).toBe(-1.25);
  });

  it('refuses a file without the magic, a truncated body, a lying header and non-finite values', () => {
    const good = encodeWeights(weights());
    expect(() => decodeWeights(Buffer.from('not a weights file'))).toThrow(/PTW1/);
    expect(() => decodeWeights(good.subarray(0, good.length - 4))).toThrow(/outside the file/);
    const header = Buffer.from(JSON.stringify({ formatVersion: 1, tensors: { w: { shape: [2, 2], offset: 0, length: 3 } } }));
    const lying = Buffer.concat([Buffer.from('PTW1'), Buffer.alloc(4), header, Buffer.alloc((4 - ((8 + header.length) % 4)) % 4), Buffer.alloc(12)]);
    lying.writeUInt32LE(header.length, 4);
    expect(() => decodeWeights(lying)).toThrow(/does not hold 3 values/);
    const nan = weights();
    nan['encoder/dense0/bias']!.data[1] = Number.NaN;
    expect(() => decodeWeights(encodeWeights(nan))).toThrow(/encoder\/dense0\/bias holds NaN at index 1/);
    const h = JSON.stringify({ formatVersion: 1 });
    expect(() => decodeWeights(Buffer.concat([Buffer.from('PTW1'), Buffer.from([h.length, 0, 0, 0]), Buffer.from(h.replace('1', '2'))]))).toThrow(/formatVersion/);
  });
});
