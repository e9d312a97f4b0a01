import { createRng } from '../../../src/training/rng';
import {
  randomResizedCrop, horizontalFlip, colorJitter, gaussianNoise, gaussianBlur,
  maskTokens, deleteTokens, spanCrop, cropSequence, jitter, scaling, timeMask,
} from '../../../src/training/augment';
import { IGNORE_INDEX } from '../../../src/training/labels';

const dims = { height: 6, width: 5, channels: 2 };
const image = Float32Array.from({ length: 60 }, (_, i) => (i % 17) / 17);
const seqDims = { length: 10, features: 3 };
const seq = Float32Array.from({ length: 30 }, (_, i) => Math.sin(i));
const ids = Int32Array.from({ length: 200 }, (_, i) => 10 + (i % 50));

describe('augmentations are seeded pure functions', () => {
  const cases: Array<[string, (seed: number) => ArrayLike<number>]> = [
    ['randomResizedCrop', (s) => randomResizedCrop(image, dims, createRng(s))],
    ['horizontalFlip', (s) => horizontalFlip(image, dims, createRng(s))],
    ['colorJitter', (s) => colorJitter(image, dims, createRng(s))],
    ['gaussianNoise', (s) => gaussianNoise(image, createRng(s))],
    ['gaussianBlur', (s) => gaussianBlur(image, dims, createRng(s), { p: 1 })],
    ['maskTokens', (s) => maskTokens(ids, createRng(s), { ratio: 0.15, maskId: 2, vocabSize: 100 }).input],
    ['deleteTokens', (s) => deleteTokens(ids, createRng(s), 0.2)],
    ['spanCrop', (s) => spanCrop(ids, createRng(s), 0.3)],
    ['cropSequence', (s) => cropSequence(seq, seqDims, createRng(s))],
    ['jitter', (s) => jitter(seq, seqDims, createRng(s))],
    ['scaling', (s) => scaling(seq, seqDims, createRng(s))],
    ['timeMask', (s) => timeMask(seq, seqDims, createRng(s))],
  ];
  it.each(cases)('%s: same seed → same output, input untouched', (_name, run) => {
    const before = [image.slice(), seq.slice(), ids.slice()];
    expect(Array.from(run(7))).toEqual(Array.from(run(7)));
    expect(image).toEqual(before[0]);
    expect(seq).toEqual(before[1]);
    expect(ids).toEqual(before[2]);
  });
  it.each(cases.filter(([n]) => n !== 'horizontalFlip'))('%s: different seeds give different views', (_name, run) => {
    const outs = new Set([1, 2, 3, 4].map((s) => Array.from(run(s)).join(',')));
    expect(outs.size).toBeGreaterThan(1);
  });
});

describe('image augmentations', () => {
  it('flip with p=1 mirrors columns and twice is the identity', () => {
    const once = horizontalFlip(image, dims, createRng(1), 1);
    expect(once[(0 * 5 + 0) * 2 + 1]).toBe(image[(0 * 5 + 4) * 2 + 1]);
    expect(horizontalFlip(once, dims, createRng(2), 1)).toEqual(image);
  });
  it('a full-scale, square crop of a square image is the identity', () => {
    const sq = { height: 4, width: 4, channels: 1 };
    const img = Float32Array.from({ length: 16 }, (_, i) => i);
    const out = randomResizedCrop(img, sq, createRng(1), { scale: [1, 1], ratio: [1, 1] });
    out.forEach((v, i) => expect(v).toBeCloseTo(img[i]!, 5));
  });
  it('crop keeps shape and stays within the input range', () => {
    const out = randomResizedCrop(image, dims, createRng(5), { scale: [0.2, 0.5] });
    expect(out.length).toBe(image.length);
    const [lo, hi] = [Math.min(...image), Math.max(...image)];
    for (const v of out) { expect(v).toBeGreaterThanOrEqual(lo - 1e-6); expect(v).toBeLessThanOrEqual(hi + 1e-6); }
  });
  it('color jitter clamps to [0, 1]; blur preserves a constant image', () => {
    for (const v of colorJitter(image, dims, createRng(3), { brightness: 0.9, contrast: 0.9 })) { expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThanOrEqual(1); }
    const flat = new Float32Array(60).fill(0.3);
    for (const v of gaussianBlur(flat, dims, createRng(1), { p: 1, sigma: [1, 1] })) expect(v).toBeCloseTo(0.3, 5);
  });
  it('noise has about the requested spread', () => {
    const zero = new Float32Array(20000);
    const out = gaussianNoise(zero, createRng(9), 0.5);
    const sd = Math.sqrt(out.reduce((s, v) => s + v * v, 0) / out.length);
    expect(Math.abs(sd - 0.5)).toBeLessThan(0.02);
  });
  it('rejects a pixel count that does not match the dims', () => {
    expect(() => horizontalFlip(new Float32Array(5), dims, createRng(1))).toThrow(/height×width×channels/);
  });
});

describe('text augmentations', () => {
  it('maskTokens selects ~15 % and splits them ~80/10/10, never special ids', () => {
    const long = Int32Array.from({ length: 20000 }, (_, i) => (i % 7 === 0 ? 0 : 10 + (i % 80)));
    const { input, labels } = maskTokens(long, createRng(4), { ratio: 0.15, maskId: 2, vocabSize: 100, specialIds: [0] });
    let selected = 0, masked = 0, kept = 0;
    for (let i = 0; i < long.length; i++) {
      if (labels[i] === IGNORE_INDEX) { expect(input[i]).toBe(long[i]); continue; }
      expect(long[i]).not.toBe(0);
      expect(labels[i]).toBe(long[i]);
      selected++;
      if (input[i] === 2) masked++;
      else if (input[i] === long[i]) kept++;
    }
    const eligible = long.filter((v) => v !== 0).length;
    expect(Math.abs(selected / eligible - 0.15)).toBeLessThan(0.01);
    expect(Math.abs(masked / selected - 0.8)).toBeLessThan(0.03);
    // "kept" also counts random replacements that drew the same id (1 %); still close to 10 %.
    expect(Math.abs(kept / selected - 0.1)).toBeLessThan(0.03);
  });
  it('maskTokens always selects at least one token and validates the ratio', () => {
    const { labels } = maskTokens(Int32Array.of(5, 6), createRng(1), { ratio: 0.01, maskId: 2, vocabSize: 10 });
    expect(labels.filter((v) => v !== IGNORE_INDEX).length).toBeGreaterThanOrEqual(1);
    expect(() => maskTokens(ids, createRng(1), { ratio: 1, maskId: 2, vocabSize: 10 })).toThrow(/Mask ratio must be in \(0, 1\)/);
    expect(() => maskTokens(ids, createRng(1), { ratio: 0, maskId: 2, vocabSize: 10 })).toThrow(/Mask ratio/);
  });
  it('deleteTokens keeps order, keeps at least one, and spanCrop returns a contiguous span', () => {
    const kept = deleteTokens(ids, createRng(2), 0.5);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(ids.length);
    expect(deleteTokens(Int32Array.of(9), createRng(3), 0.99).length).toBe(1);
    const span = spanCrop(ids, createRng(5), 0.5);
    expect(span.length).toBeGreaterThanOrEqual(100);
    const start = ids.indexOf(span[0]!);
    expect(Array.from(span)).toEqual(Array.from(ids.slice(start, start + span.length)));
  });
});

describe('sequence augmentations', () => {
  it('timeMask zeroes one contiguous span of whole frames', () => {
    const ones = new Float32Array(30).fill(1);
    const out = timeMask(ones, seqDims, createRng(8), 0.5);
    const zeroFrames = [];
    for (let t = 0; t < 10; t++) {
      const frame = Array.from(out.slice(t * 3, t * 3 + 3));
      if (frame.every((v) => v === 0)) zeroFrames.push(t); else expect(frame).toEqual([1, 1, 1]);
    }
    expect(zeroFrames.length).toBeGreaterThan(0);
    expect(zeroFrames[zeroFrames.length - 1]! - zeroFrames[0]! + 1).toBe(zeroFrames.length);
  });
  it('scaling multiplies each feature by one factor over time', () => {
    const ones = new Float32Array(30).fill(1);
    const out = scaling(ones, seqDims, createRng(2), 0.3);
    for (let t = 1; t < 10; t++) for (let f = 0; f < 3; f++) expect(out[t * 3 + f]).toBe(out[f]);
  });
  it('cropSequence with minRatio 1 is the identity and keeps the length otherwise', () => {
    cropSequence(seq, seqDims, createRng(1), 1).forEach((v, i) => expect(v).toBeCloseTo(seq[i]!, 5));
    expect(cropSequence(seq, seqDims, createRng(1), 0.3).length).toBe(seq.length);
  });
  it('jitter perturbs but stays close', () => {
    const out = jitter(seq, seqDims, createRng(4), 0.01);
    let maxDiff = 0;
    out.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - seq[i]!))));
    expect(maxDiff).toBeGreaterThan(0);
    expect(maxDiff).toBeLessThan(0.1);
  });
});
