// The trained encoder as files: what trainLocal writes and what the exporter / inference read back.
//   spec.json       the ModelSpec (encoder only; task heads are training-time only)
//   weights.json    { name: { shape, offset, length } } into weights.bin (float32 little-endian, offsets in floats)
//   weights.bin
//   heads.json/bin  the task heads (same layout): fine-tuning ignores them, but NEXT_STEP × TEXT keeps its token
//                   embedding there (`task/embed`, see preprocess.tokenEmbedding)
//   tokenizer.json  TEXT only (src/training/tokenizer, usable without tfjs)
//   preprocess.json how rows become model inputs (pixel scaling, sequence standardization, text maxLength, …)
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { ModelSpec } from '../../models/spec';
import type { NamedWeights } from '../encoders/params';
import type { SequenceNormalization } from '../data/rows';
import type { Modality } from '../../ingest/types';
import type { Pretext } from '../pretext/types';

export interface Preprocess {
  modality: Modality;
  pretext: Pretext;
  /** TEXT: [CLS] + word pieces, padded / cut to maxLength. */
  maxLength?: number;
  /** SEQUENCE: steps per example and per-feature standardization. */
  sequenceLength?: number;
  normalization?: SequenceNormalization;
  /** IMAGE (NEXT_STEP): the image is fed as rows, values / 255, shape [height, width·channels]. */
  imageAsRows?: boolean;
  /**
   * TEXT (NEXT_STEP): the encoder reads embedded tokens; this names the [vocab, features] table in the heads
   * weights that maps token ids to its input vectors.
   */
  tokenEmbedding?: string;
}

export interface ModelArtifacts {
  spec: ModelSpec;
  weights: NamedWeights;
  heads?: NamedWeights;
  tokenizerJson?: string;
  preprocess: Preprocess;
}

export async function writeModelArtifacts(dir: string, a: ModelArtifacts): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await writeWeights(dir, 'weights', a.weights);
  if (a.heads) await writeWeights(dir, 'heads', a.heads);
  await fs.writeFile(path.join(dir, 'spec.json'), JSON.stringify(a.spec, null, 2));
  await fs.writeFile(path.join(dir, 'preprocess.json'), JSON.stringify(a.preprocess, null, 2));
  if (a.tokenizerJson) await fs.writeFile(path.join(dir, 'tokenizer.json'), a.tokenizerJson);
}

async function writeWeights(dir: string, name: string, weights: NamedWeights): Promise<void> {
  let total = 0;
  for (const w of Object.values(weights)) total += w.data.length;
  const blob = new Float32Array(total);
  const index: Record<string, { shape: number[]; offset: number; length: number }> = {};
  let offset = 0;
  for (const [key, w] of Object.entries(weights)) {
    blob.set(w.data, offset);
    index[key] = { shape: w.shape, offset, length: w.data.length };
    offset += w.data.length;
  }
  await fs.writeFile(path.join(dir, `${name}.bin`), Buffer.from(blob.buffer));
  await fs.writeFile(path.join(dir, `${name}.json`), JSON.stringify(index));
}

async function readWeights(dir: string, name: string): Promise<NamedWeights> {
  const index = JSON.parse(await fs.readFile(path.join(dir, `${name}.json`), 'utf8')) as Record<string, { shape: number[]; offset: number; length: number }>;
  const bytes = await fs.readFile(path.join(dir, `${name}.bin`));
  const floats = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(floats.buffer).set(bytes);
  const out: NamedWeights = {};
  for (const [key, e] of Object.entries(index)) out[key] = { shape: e.shape, data: floats.slice(e.offset, e.offset + e.length) };
  return out;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

export async function readModelArtifacts(dir: string): Promise<ModelArtifacts> {
  const hasHeads = (await readOptional(path.join(dir, 'heads.json'))) !== undefined;
  return {
    spec: JSON.parse(await fs.readFile(path.join(dir, 'spec.json'), 'utf8')) as ModelSpec,
    weights: await readWeights(dir, 'weights'),
    heads: hasHeads ? await readWeights(dir, 'heads') : undefined,
    tokenizerJson: await readOptional(path.join(dir, 'tokenizer.json')),
    preprocess: JSON.parse(await fs.readFile(path.join(dir, 'preprocess.json'), 'utf8')) as Preprocess,
  };
}
