// Test data for the training tests: tiny self-built fixtures (always available) and small slices of the real
// datasets in ../shared/datasets (tests skip with a message when that folder is absent, and fail under CI=true: helpers/shared-datasets).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { ImageRow, Row, RowShape, SequenceRow, Split, TextRow } from '../../../src/ingest/types';
import { createRng } from '../../../src/training/rng';
import { SHARED_DATASETS } from '../../helpers/shared-datasets';

export const SHARED = SHARED_DATASETS;
export const FASHION = path.join(SHARED, 'fashion-mnist');
export const SPAM = path.join(SHARED, 'spam-assassin.jsonl.gz');
export const hasFashion = fs.existsSync(path.join(FASHION, 'train-images-idx3-ubyte.gz'));
export const hasSpam = fs.existsSync(SPAM);

function splitOf(i: number, validationEvery: number): Split {
  return validationEvery > 0 && i % validationEvery === validationEvery - 1 ? 'validation' : 'train';
}

/** 8×8 grey images of 4 classes (horizontal bar, vertical bar, diagonal, box) at random positions, with noise. */
export function tinyImages(n: number, seed = 1, validationEvery = 0): { rows: ImageRow[]; shape: RowShape } {
  const rng = createRng(seed, 'tiny-images');
  const S = 8;
  const rows: ImageRow[] = [];
  for (let i = 0; i < n; i++) {
    const cls = i % 4;
    const px = new Uint8Array(S * S);
    const o = 1 + rng.int(S - 2);
    for (let k = 0; k < S; k++) {
      if (cls === 0) px[o * S + k] = 255;
      if (cls === 1) px[k * S + o] = 255;
      if (cls === 2) px[k * S + k] = 255;
      if (cls === 3 && k >= 2 && k < 6) { px[2 * S + k] = px[5 * S + k] = px[k * S + 2] = px[k * S + 5] = 255; }
    }
    for (let j = 0; j < px.length; j++) px[j] = Math.min(255, px[j]! + rng.int(40));
    rows.push({ modality: 'IMAGE', index: i, label: String(cls), split: splitOf(i, validationEvery), pixels: px });
  }
  return { rows, shape: { modality: 'IMAGE', height: S, width: S, channels: 1 } };
}

/** Two-feature sine/cosine waves, 3 frequency classes, random phase, length 16. */
export function tinySequences(n: number, seed = 1, validationEvery = 0): { rows: SequenceRow[]; shape: RowShape } {
  const rng = createRng(seed, 'tiny-seq');
  const T = 16, F = 2;
  const rows: SequenceRow[] = [];
  for (let i = 0; i < n; i++) {
    const cls = i % 3;
    const freq = [0.2, 0.5, 0.9][cls]!;
    const phase = rng.uniform(0, 2 * Math.PI);
    const values = new Float32Array(T * F);
    for (let t = 0; t < T; t++) {
      values[t * F] = Math.sin(freq * t + phase) + 0.05 * rng.normal();
      values[t * F + 1] = Math.cos(freq * t + phase) + 0.05 * rng.normal();
    }
    rows.push({ modality: 'SEQUENCE', index: i, label: String(cls), split: splitOf(i, validationEvery), values, length: T });
  }
  return { rows, shape: { modality: 'SEQUENCE', length: T, features: F } };
}

const TOPICS: Record<string, string[]> = {
  sport: ['match', 'goal', 'team', 'coach', 'league', 'score', 'player', 'season'],
  food: ['recipe', 'oven', 'butter', 'flour', 'dinner', 'taste', 'spice', 'bake'],
  money: ['bank', 'loan', 'price', 'market', 'stock', 'credit', 'fund', 'invest'],
};
const GLUE = ['the', 'a', 'and', 'with', 'for', 'today', 'this', 'new', 'our', 'very'];

/** Short English-like texts on 3 topics. */
export function tinyTexts(n: number, seed = 1, validationEvery = 0): { rows: TextRow[]; shape: RowShape } {
  const rng = createRng(seed, 'tiny-text');
  const labels = Object.keys(TOPICS);
  const rows: TextRow[] = [];
  for (let i = 0; i < n; i++) {
    const label = labels[i % labels.length]!;
    const words: string[] = [];
    const len = 8 + rng.int(8);
    for (let k = 0; k < len; k++) words.push(k % 2 ? GLUE[rng.int(GLUE.length)]! : TOPICS[label]![rng.int(8)]!);
    rows.push({ modality: 'TEXT', index: i, label, split: splitOf(i, validationEvery), text: words.join(' ') });
  }
  return { rows, shape: { modality: 'TEXT' } };
}

/** First `n` Fashion-MNIST training images (IDX, big-endian header) with labels. */
export function fashionImages(n: number, validationEvery = 0): { rows: ImageRow[]; shape: RowShape } {
  const images = zlib.gunzipSync(fs.readFileSync(path.join(FASHION, 'train-images-idx3-ubyte.gz')));
  const labels = zlib.gunzipSync(fs.readFileSync(path.join(FASHION, 'train-labels-idx1-ubyte.gz')));
  if (images.readUInt32BE(0) !== 0x803 || labels.readUInt32BE(0) !== 0x801) throw new Error('Not IDX image/label files');
  const count = Math.min(n, images.readUInt32BE(4));
  const h = images.readUInt32BE(8), w = images.readUInt32BE(12);
  const rows: ImageRow[] = [];
  for (let i = 0; i < count; i++) {
    rows.push({
      modality: 'IMAGE', index: i, label: String(labels[8 + i]), split: splitOf(i, validationEvery),
      pixels: new Uint8Array(images.subarray(16 + i * h * w, 16 + (i + 1) * h * w)),
    });
  }
  return { rows, shape: { modality: 'IMAGE', height: h, width: w, channels: 1 } };
}

/** Row-sequential Fashion-MNIST: 28 steps × 28 features (pixel rows / 255). */
export function fashionSequences(n: number, validationEvery = 0): { rows: SequenceRow[]; shape: RowShape } {
  const { rows } = fashionImages(n, validationEvery);
  return {
    rows: rows.map((r) => ({ modality: 'SEQUENCE', index: r.index, label: r.label, split: r.split, values: Float32Array.from(r.pixels, (v) => v / 255), length: 28 })),
    shape: { modality: 'SEQUENCE', length: 28, features: 28 },
  };
}

/**
 * `n` SpamAssassin messages, every `stride`-th line (the file is grouped by label, so a stride mixes ham and spam),
 * as subject + start of body (the full raw mail is long).
 */
export function spamTexts(n: number, validationEvery = 0, chars = 600, stride = 4): { rows: TextRow[]; shape: RowShape } {
  const lines = zlib.gunzipSync(fs.readFileSync(SPAM)).toString('utf8').split('\n').filter((l, i) => l && i % stride === 0).slice(0, n);
  const rows: TextRow[] = lines.map((line, i) => {
    const o = JSON.parse(line) as { text: string; label: string };
    const body = o.text.split(/\r?\n\r?\n/).slice(1).join('\n');
    const subject = /^Subject:(.*)$/m.exec(o.text)?.[1] ?? '';
    return { modality: 'TEXT', index: i, label: o.label, split: splitOf(i, validationEvery), text: `${subject}\n${body}`.slice(0, chars) };
  });
  return { rows, shape: { modality: 'TEXT' } };
}

export function rowsOf<T extends Row>(x: { rows: T[] }): T[] { return x.rows; }
