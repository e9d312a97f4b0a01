// Turning ingest Rows into clean examples for the pretext tasks. Rows come from ingest (src/ingest/types.ts);
// nothing here parses files.
import { standardize, type SequenceNormalization } from '../../contracts/preprocess';
import type { Row, RowShape, Split } from '../../ingest/types';
import type { Example } from '../pretext/types';

export async function collectRows(data: readonly Row[] | AsyncIterable<Row>): Promise<Row[]> {
  if (Array.isArray(data)) return [...data];
  const out: Row[] = [];
  for await (const row of data as AsyncIterable<Row>) out.push(row);
  return out;
}

/** Throws on the first row that does not fit the declared shape (with its index and what was expected). */
export function checkRows(rows: readonly Row[], shape: RowShape): void {
  for (const row of rows) {
    if (row.modality !== shape.modality) {
      throw new Error(`Row ${row.index} is ${row.modality} but the dataset shape is ${shape.modality}.`);
    }
    if (row.modality === 'IMAGE' && shape.modality === 'IMAGE') {
      const n = shape.height * shape.width * shape.channels;
      if (row.pixels.length !== n) {
        throw new Error(`Row ${row.index} has ${row.pixels.length} pixel values but the shape ${shape.height}×${shape.width}×${shape.channels} needs ${n}.`);
      }
    }
    if (row.modality === 'SEQUENCE' && shape.modality === 'SEQUENCE') {
      if (row.values.length !== row.length * shape.features) {
        throw new Error(`Row ${row.index} has ${row.values.length} values but length ${row.length} × ${shape.features} features = ${row.length * shape.features}.`);
      }
      if (shape.length !== null && row.length !== shape.length) {
        throw new Error(`Row ${row.index} has ${row.length} steps but the shape fixes length ${shape.length}.`);
      }
    }
  }
}

export function rowsOfSplit(rows: readonly Row[], split: Split): Row[] {
  return rows.filter((r) => r.split === split);
}

export type { SequenceNormalization };

export function fitSequenceNormalization(rows: readonly Row[], features: number): SequenceNormalization {
  const sum = new Float64Array(features);
  const sq = new Float64Array(features);
  let n = 0;
  for (const r of rows) {
    if (r.modality !== 'SEQUENCE') continue;
    for (let t = 0; t < r.length; t++) {
      for (let f = 0; f < features; f++) {
        const v = r.values[t * features + f]!;
        sum[f] += v;
        sq[f] += v * v;
      }
    }
    n += r.length;
  }
  const mean = Array.from(sum, (s) => (n ? s / n : 0));
  // A constant feature keeps std 1 so it maps to 0 instead of dividing by zero.
  const std = Array.from(sq, (s, f) => Math.sqrt(Math.max(n ? s / n - mean[f]! ** 2 : 0, 0)) || 1);
  return { mean, std };
}

export interface ExampleContext {
  shape: RowShape;
  /** SEQUENCE: fixed length examples are cut or zero-padded to (after standardization, 0 is the mean). */
  sequenceLength?: number;
  normalization?: SequenceNormalization;
  /** TEXT: word-piece ids per row, in row order (tokenized once up front). */
  tokens?: readonly Int32Array[];
}

export function toExamples(rows: readonly Row[], ctx: ExampleContext): Example[] {
  return rows.map((row, i) => {
    switch (row.modality) {
      case 'TEXT': {
        const ids = ctx.tokens?.[i];
        if (!ids) throw new Error('TEXT rows need their tokens (tokenize the texts before building examples).');
        return { kind: 'TEXT', ids };
      }
      case 'IMAGE': {
        const pixels = new Float32Array(row.pixels.length);
        for (let j = 0; j < pixels.length; j++) pixels[j] = row.pixels[j]! / 255;
        return { kind: 'IMAGE', pixels };
      }
      case 'SEQUENCE': {
        if (ctx.shape.modality !== 'SEQUENCE') throw new Error(`Row ${row.index} is SEQUENCE but the dataset shape is ${ctx.shape.modality}.`);
        const F = ctx.shape.features;
        const T = ctx.sequenceLength ?? ctx.shape.length ?? row.length;
        const values = new Float32Array(T * F);
        const steps = Math.min(T, row.length);
        const norm = ctx.normalization;
        for (let t = 0; t < steps; t++) {
          for (let f = 0; f < F; f++) {
            const v = row.values[t * F + f]!;
            values[t * F + f] = norm ? standardize(v, norm, f) : v;
          }
        }
        return { kind: 'SEQUENCE', values };
      }
    }
  });
}
