// Fixture builders for ingest tests: in-memory source files, a temp-folder store, and small writers for zip,
// tar, npy, wav and IDX so every format is exercised with real bytes.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { deflateRawSync, gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import sharp from 'sharp';
import { createFolderStore, IngestError, processDatasetVersion, readShards, type Manifest, type Row, type RowShape } from '../../src/ingest';
import type { IngestLimits } from '../../src/ingest/limits';
import type { UploadedFile } from '../../src/ingest/process';

export function fileOf(name: string, content: Buffer | string): UploadedFile {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return {
    name,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    // Small chunks so that readers see records split across chunk boundaries.
    open: () => Readable.from(chunked(bytes, 7 + (bytes.length % 13)), { objectMode: false }),
  };
}

function* chunked(b: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'pretext-ingest-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function listAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, prefix: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.push(prefix + e.name);
    }
  };
  await walk(dir, '');
  return out;
}

export interface Ingested {
  manifest: Manifest;
  rows: Row[];
  keys: string[];
}

/** Runs processDatasetVersion into a temp store and reads every row back. */
export async function ingest(files: UploadedFile[], shape: RowShape, limits: Partial<IngestLimits> = {}): Promise<Ingested> {
  return withTempDir(async (dir) => {
    const store = createFolderStore(dir);
    const manifest = await processDatasetVersion({ files, shape, store, keyPrefix: 'tenants/t1/datasets/d1/versions/v1', limits });
    const rows: Row[] = [];
    for await (const r of readShards(store, manifest)) rows.push(r);
    return { manifest, rows, keys: await listAll(dir) };
  });
}

/** Expects the ingest to fail; returns the error and checks that nothing was left in the store. */
export async function ingestFails(files: UploadedFile[], shape: RowShape, limits: Partial<IngestLimits> = {}): Promise<IngestError> {
  return withTempDir(async (dir) => {
    const store = createFolderStore(dir);
    let error: unknown = null;
    try {
      await processDatasetVersion({ files, shape, store, keyPrefix: 'tenants/t1/datasets/d1/versions/v1', limits });
    } catch (e) {
      error = e;
    }
    if (!(error instanceof IngestError)) throw new Error(`expected an IngestError, got ${String(error)}`);
    const left = await listAll(dir);
    if (left.length > 0) throw new Error(`ingest failed but left objects behind: ${left.join(', ')}`);
    return error;
  });
}

// ---- images ----
export function grey(width: number, height: number, seed: number): Buffer {
  const b = Buffer.alloc(width * height);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + seed * 17) & 0xff;
  return b;
}

export async function png(width: number, height: number, seed: number, channels: 1 | 3 = 3): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * channels);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + seed * 29) & 0xff;
  return sharp(raw, { raw: { width, height, channels } }).png().toBuffer();
}

export async function jpeg(width: number, height: number, seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3, seed * 40);
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
}

// ---- archives ----
export interface ZipEntrySpec {
  name: string;
  data: Buffer;
  /** Deflate (default) or store. */
  store?: boolean;
  /** Unix mode in the external attributes (e.g. 0o120777 for a symlink). */
  mode?: number;
  /** Lie in the headers about the uncompressed size (zip bomb disguise). */
  claimedSize?: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A minimal zip writer (local headers + central directory, no zip64). */
export function zip(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const body = e.store ? e.data : deflateRawSync(e.data);
    const method = e.store ? 0 : 8;
    const crc = crc32(e.data);
    const size = e.claimedSize ?? e.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode in the external attributes counts
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(0x0800, 8);
    c.writeUInt16LE(method, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(body.length, 20);
    c.writeUInt32LE(size, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    c.writeUInt32LE(offset, 42);
    central.push(c, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

export interface TarEntrySpec {
  name: string;
  data?: Buffer;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
}

export async function tarball(entries: TarEntrySpec[], gzip = false): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((ok) => pack.on('end', () => ok()));
  for (const e of entries) {
    const type = e.type ?? 'file';
    if (type === 'file') pack.entry({ name: e.name, type }, e.data ?? Buffer.alloc(0));
    else pack.entry({ name: e.name, type, linkname: e.linkname });
  }
  pack.finalize();
  await done;
  const raw = Buffer.concat(chunks);
  return gzip ? gzipSync(raw) : raw;
}

// ---- binary array formats ----
export function npy(descr: string, shape: number[], values: number[]): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  const kind = descr.slice(1);
  const size = Number(kind.slice(1));
  const body = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    if (kind === 'f4') body.writeFloatLE(v, i * 4);
    else if (kind === 'f8') body.writeDoubleLE(v, i * 8);
    else if (kind === 'i4') body.writeInt32LE(v, i * 4);
    else if (kind === 'u1') body.writeUInt8(v, i);
    else throw new Error(`test writer lacks ${kind}`);
  });
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

export function wav(format: 'pcm16' | 'float32', channels: number, frames: number[][]): Buffer {
  const bits = format === 'pcm16' ? 16 : 32;
  const data = Buffer.alloc(frames.length * channels * (bits / 8));
  frames.flat().forEach((v, i) => (format === 'pcm16' ? data.writeInt16LE(Math.round(v * 32768), i * 2) : data.writeFloatLE(v, i * 4)));
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(format === 'pcm16' ? 1 : 3, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(16000, 12);
  fmt.writeUInt32LE(16000 * channels * (bits / 8), 16);
  fmt.writeUInt16LE(channels * (bits / 8), 20);
  fmt.writeUInt16LE(bits, 22);
  const list = Buffer.concat([Buffer.from('LIST', 'latin1'), Buffer.from([4, 0, 0, 0]), Buffer.from('INFO', 'latin1')]);
  const dataHead = Buffer.alloc(8);
  dataHead.write('data', 0, 'latin1');
  dataHead.writeUInt32LE(data.length, 4);
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(4 + fmt.length + list.length + 8 + data.length, 4);
  riff.write('WAVE', 8, 'latin1');
  return Buffer.concat([riff, fmt, list, dataHead, data]);
}

export function idxImages(images: Buffer[], rows: number, cols: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32BE(0x803, 0);
  h.writeUInt32BE(images.length, 4);
  h.writeUInt32BE(rows, 8);
  h.writeUInt32BE(cols, 12);
  return Buffer.concat([h, ...images]);
}

export function idxLabels(labels: number[]): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(0x801, 0);
  h.writeUInt32BE(labels.length, 4);
  return Buffer.concat([h, Buffer.from(labels)]);
}

export const codes = (e: IngestError) => e.problems.map((p) => p.code);
