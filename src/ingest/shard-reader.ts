// Streams rows back out of a READY version's shards, one shard in memory at a time, for the trainers.
import { createHash } from 'node:crypto';
import { tableFromIPC } from 'apache-arrow';
import type { IngestStore } from './store';
import type { Manifest, Row, ShardRef, Split } from './types';

async function readObject(store: IngestStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.getObject(key)) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(chunks);
}

export async function readManifest(store: IngestStore, key: string): Promise<Manifest> {
  return JSON.parse((await readObject(store, key)).toString('utf8')) as Manifest;
}

function copyBytes(v: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(v) as Uint8Array;
}

export interface ReadShardsOptions {
  /** Only rows of this split. */
  split?: Split;
  /** Check each shard's sha256 against the manifest (default true). */
  verify?: boolean;
}

/** Yields the version's rows in index order. */
export async function* readShards(store: IngestStore, manifest: Manifest, opts: ReadShardsOptions = {}): AsyncGenerator<Row> {
  const { split, verify = true } = opts;
  for (const shard of manifest.shards as (ShardRef & { splits?: Record<Split, number> })[]) {
    if (split && shard.splits && shard.splits[split] === 0) continue;
    const bytes = await readObject(store, shard.key);
    if (verify && createHash('sha256').update(bytes).digest('hex') !== shard.sha256) {
      throw new Error(`Shard ${shard.key} is corrupt: its sha256 does not match the manifest.`);
    }
    const table = tableFromIPC(bytes);
    const index = table.getChild('index')!;
    const label = table.getChild('label')!;
    const splits = table.getChild('split')!;
    const text = table.getChild('text');
    const pixels = table.getChild('pixels');
    const values = table.getChild('values');
    const length = table.getChild('length');
    const offset = shard.indexOffset ?? 0;
    for (let i = 0; i < table.numRows; i++) {
      const s = splits.get(i) as Split;
      if (split && s !== split) continue;
      const base = { index: offset + (index.get(i) as number), label: (label.get(i) as string | null) ?? null, split: s };
      switch (manifest.shape.modality) {
        case 'TEXT':
          yield { ...base, modality: 'TEXT', text: text!.get(i) as string };
          break;
        case 'IMAGE':
          yield { ...base, modality: 'IMAGE', pixels: copyBytes(pixels!.get(i) as Uint8Array) };
          break;
        case 'SEQUENCE': {
          const raw = copyBytes(values!.get(i) as Uint8Array);
          yield { ...base, modality: 'SEQUENCE', values: new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), length: length!.get(i) as number };
          break;
        }
      }
    }
  }
}
