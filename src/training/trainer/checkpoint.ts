// Checkpoints: everything needed to continue a run bit-for-bit — model and task-head weights, optimizer moments and
// step, the data/augmentation RNG position, the tokenizer and the sequence normalization. Serialized as one JSON
// document plus one little-endian float32 blob, so any object store can hold it (see CheckpointStore).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { ModelSpec } from '../../models/spec';
import type { NamedWeights } from '../encoders/params';
import type { AdamWState } from '../optim/adamw';
import type { SequenceNormalization } from '../data/rows';
import type { RngState } from '../rng';

export interface Checkpoint {
  formatVersion: 1;
  /** Steps completed; a resumed run continues with this step. */
  step: number;
  spec: ModelSpec;
  weights: NamedWeights;
  heads: NamedWeights;
  optimizer: AdamWState;
  /**
   * RNG position. Every random stream is derived from (seed, purpose, step) — data order per epoch, augmentation and
   * dropout per step — so (seed, step) is the complete generator state.
   */
  rng: { seed: number | string; step: number };
  /** Loss of every step taken so far (index = step). */
  losses: number[];
  tokenizer?: string;
  normalization?: SequenceNormalization;
  /** The config fingerprint it was written under; resuming with a different one is refused. */
  fingerprint: string;
  /** FINETUNE runs: loop state beyond weights and optimizer (`heads` is empty; the head lives in `weights`). */
  fineTune?: FineTuneLoopState;
}

export interface FineTuneLoopState {
  /** Early stopping: best validation score so far (null before the first validation), its weights, epochs since. */
  bestScore: number | null;
  bestWeights: NamedWeights | null;
  sinceBest: number;
  /** FULL with augment: the one augmentation stream's position (its draws per step vary with the batch). */
  augmentRng: RngState | null;
}

/** Where checkpoints go: a local folder here, the object store (via the gateway) in the container task. */
export interface CheckpointStore {
  /** Saves and returns a location string (path or key) for logs and callbacks. */
  save(checkpoint: Checkpoint): Promise<string>;
  /** The most recent checkpoint, or null when there is none. */
  latest(): Promise<Checkpoint | null>;
}

type TensorIndex = Record<string, { shape: number[]; offset: number; length: number }>;

/** Splits a checkpoint into JSON metadata and one float32 blob (offsets in floats). */
export function serializeCheckpoint(ckpt: Checkpoint): { json: string; tensors: Buffer } {
  const groups: Record<string, NamedWeights> = { weights: ckpt.weights, heads: ckpt.heads, m: ckpt.optimizer.m, v: ckpt.optimizer.v };
  if (ckpt.fineTune?.bestWeights) groups.best = ckpt.fineTune.bestWeights;
  let total = 0;
  for (const g of Object.values(groups)) for (const t of Object.values(g)) total += t.data.length;
  const blob = new Float32Array(total);
  const index: Record<string, TensorIndex> = {};
  let offset = 0;
  for (const [gname, g] of Object.entries(groups)) {
    index[gname] = {};
    for (const [name, t] of Object.entries(g)) {
      blob.set(t.data, offset);
      index[gname]![name] = { shape: t.shape, offset, length: t.data.length };
      offset += t.data.length;
    }
  }
  const { weights: _w, heads: _h, optimizer, fineTune, ...rest } = ckpt;
  const loop = fineTune ? { fineTune: { ...fineTune, bestWeights: fineTune.bestWeights ? 'best' : null } } : {};
  const json = JSON.stringify({ ...rest, ...loop, optimizerStep: optimizer.step, index });
  return { json, tensors: Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength) };
}

export function deserializeCheckpoint(json: string, tensors: Buffer): Checkpoint {
  const meta = JSON.parse(json) as Omit<Checkpoint, 'weights' | 'heads' | 'optimizer'> & { optimizerStep: number; index: Record<string, TensorIndex> };
  if (meta.formatVersion !== 1) throw new Error(`Unsupported checkpoint formatVersion: "${String(meta.formatVersion)}". Should be one of: 1.`);
  // Copy into an aligned buffer: a Buffer slice may start at any byte offset.
  const floats = new Float32Array(tensors.byteLength / 4);
  new Uint8Array(floats.buffer).set(tensors);
  const group = (g: string): NamedWeights => {
    const out: NamedWeights = {};
    for (const [name, e] of Object.entries(meta.index[g] ?? {})) out[name] = { shape: e.shape, data: floats.slice(e.offset, e.offset + e.length) };
    return out;
  };
  const { index: _i, optimizerStep, fineTune, ...rest } = meta;
  const loop = fineTune ? { fineTune: { ...fineTune, bestWeights: fineTune.bestWeights ? group('best') : null } } : {};
  return { ...rest, ...loop, weights: group('weights'), heads: group('heads'), optimizer: { step: optimizerStep, m: group('m'), v: group('v') } };
}

/**
 * `<dir>/step-<n>/{checkpoint.json,tensors.bin}` plus `<dir>/LATEST` naming the newest; LATEST is rewritten only after
 * the step folder is complete, so a crash mid-save leaves the previous checkpoint in force.
 */
export class DirectoryCheckpointStore implements CheckpointStore {
  constructor(readonly dir: string, private readonly keep = 2) {
    if (!Number.isInteger(keep) || keep < 1) throw new Error(`keep must be a positive integer; got ${keep}.`);
  }

  async save(ckpt: Checkpoint): Promise<string> {
    const name = `step-${String(ckpt.step).padStart(8, '0')}`;
    const target = path.join(this.dir, name);
    await fs.mkdir(target, { recursive: true });
    const { json, tensors } = serializeCheckpoint(ckpt);
    await fs.writeFile(path.join(target, 'tensors.bin'), tensors);
    await fs.writeFile(path.join(target, 'checkpoint.json'), json);
    await fs.writeFile(path.join(this.dir, 'LATEST.tmp'), name);
    await fs.rename(path.join(this.dir, 'LATEST.tmp'), path.join(this.dir, 'LATEST'));
    await this.prune();
    return target;
  }

  async latest(): Promise<Checkpoint | null> {
    let name: string;
    try {
      name = (await fs.readFile(path.join(this.dir, 'LATEST'), 'utf8')).trim();
    } catch {
      return null;
    }
    const target = path.join(this.dir, name);
    return deserializeCheckpoint(await fs.readFile(path.join(target, 'checkpoint.json'), 'utf8'), await fs.readFile(path.join(target, 'tensors.bin')));
  }

  private async prune(): Promise<void> {
    const steps = (await fs.readdir(this.dir)).filter((n) => /^step-\d+$/.test(n)).sort();
    for (const old of steps.slice(0, Math.max(0, steps.length - this.keep))) await fs.rm(path.join(this.dir, old), { recursive: true, force: true });
  }
}

/** Keeps checkpoints in memory (tests, or a caller that uploads them itself). */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly saved: Checkpoint[] = [];
  async save(ckpt: Checkpoint): Promise<string> {
    // Round-trip through the serialized form so this store behaves like a real one.
    const { json, tensors } = serializeCheckpoint(ckpt);
    this.saved.push(deserializeCheckpoint(json, tensors));
    return `memory:${ckpt.step}`;
  }
  async latest(): Promise<Checkpoint | null> { return this.saved[this.saved.length - 1] ?? null; }
}
