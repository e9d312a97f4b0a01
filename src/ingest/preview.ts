// Preview helpers for the dataset API: text snippets, image thumbnails as small PNG data URLs, sequence excerpts.
import sharp from 'sharp';
import { readShards } from './shard-reader';
import type { IngestStore } from './store';
import type { Manifest, Row, RowShape, Split } from './types';

export function textSnippet(text: string, maxChars = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= maxChars) return flat;
  return flat.slice(0, Math.max(0, maxChars - 1)).trimEnd() + '…';
}

/** A PNG data URL no larger than `maxSide` on its longer side (never upscaled). */
export async function imageThumbnail(pixels: Uint8Array, shape: Extract<RowShape, { modality: 'IMAGE' }>, maxSide = 64): Promise<string> {
  const png = await sharp(pixels, { raw: { width: shape.width, height: shape.height, channels: shape.channels } })
    .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** The first `maxSteps` time steps as a T×F array, values rounded to 4 significant digits. */
export function sequenceExcerpt(values: Float32Array, length: number, maxSteps = 16): number[][] {
  const features = length > 0 ? values.length / length : 0;
  const out: number[][] = [];
  for (let t = 0; t < Math.min(length, maxSteps); t++) {
    out.push(Array.from(values.subarray(t * features, (t + 1) * features), (v) => Number(v.toPrecision(4))));
  }
  return out;
}

export interface PreviewItem {
  index: number;
  label: string | null;
  split: Split;
  text?: string;
  image?: string;
  sequence?: number[][];
  length?: number;
}

export async function previewRows(rows: AsyncIterable<Row>, shape: RowShape, opts: { limit?: number; maxChars?: number; thumbnail?: number; steps?: number } = {}): Promise<PreviewItem[]> {
  const limit = opts.limit ?? 8;
  const out: PreviewItem[] = [];
  if (limit <= 0) return out;
  for await (const row of rows) {
    const base = { index: row.index, label: row.label, split: row.split };
    if (row.modality === 'TEXT') out.push({ ...base, text: textSnippet(row.text, opts.maxChars) });
    else if (row.modality === 'IMAGE' && shape.modality === 'IMAGE') out.push({ ...base, image: await imageThumbnail(row.pixels, shape, opts.thumbnail) });
    else if (row.modality === 'SEQUENCE') out.push({ ...base, sequence: sequenceExcerpt(row.values, row.length, opts.steps), length: row.length });
    if (out.length >= limit) break;
  }
  return out;
}

/** Preview of a READY version straight from its shards (reads only the first shard(s) it needs). */
export function previewVersion(store: IngestStore, manifest: Manifest, opts: { limit?: number; maxChars?: number; thumbnail?: number; steps?: number } = {}): Promise<PreviewItem[]> {
  return previewRows(readShards(store, manifest), manifest.shape, opts);
}
