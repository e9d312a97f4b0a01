// Object store on a local folder: the zero-config default. Same contract as S3 (ETags, ranges, multipart,
// presigned URLs served by the gateway's /storage route), so code above the adapter cannot tell them apart.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertValidKey } from './keys';
import { sign, type SignedParams } from './signing';
import {
  InvalidPartError,
  ObjectNotFoundError,
  type Body,
  type ObjectInfo,
  type ObjectStore,
  type PendingMultipart,
  type UploadedPart,
} from './types';

interface Meta { etag: string; contentType?: string }
interface MultipartMeta { key: string; contentType?: string; initiated: string }

function toStream(body: Body): Readable {
  if (body instanceof Readable) return body;
  return Readable.from([typeof body === 'string' ? Buffer.from(body) : Buffer.from(body)]);
}

export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;
  private readonly objects: string;
  private readonly meta: string;
  private readonly multipart: string;
  private readonly tmp: string;

  constructor(private readonly opts: { root: string; signingSecret: string; publicUrl: () => string }) {
    this.objects = path.resolve(opts.root);
    this.meta = path.join(this.objects, '.meta');
    this.multipart = path.join(this.objects, '.multipart');
    this.tmp = path.join(this.objects, '.tmp');
    for (const d of [this.objects, this.meta, this.multipart, this.tmp]) fs.mkdirSync(d, { recursive: true });
  }

  /**
   * Deletes the adapter's own half-written temp files older than `olderThanMs` (a process killed mid-write leaves
   * them; S3 has no equivalent, an unfinished PUT never becomes an object). A write in progress keeps touching its
   * file, so a file untouched for the whole window is dead. Returns how many were removed.
   */
  async sweepTemporaries(olderThanMs: number, now = Date.now()): Promise<number> {
    let n = 0;
    for (const name of await fsp.readdir(this.tmp).catch(() => [] as string[])) {
      const file = path.join(this.tmp, name);
      const st = await fsp.stat(file).catch(() => null);
      if (!st || now - st.mtimeMs < olderThanMs) continue;
      await fsp.rm(file, { force: true, recursive: true });
      n += 1;
    }
    return n;
  }

  private file(key: string): string {
    assertValidKey(key);
    return path.join(this.objects, key);
  }
  private metaFile(key: string): string {
    return path.join(this.meta, `${key}.json`);
  }

  /** Streams `body` into a temp file, hashing as it goes, then renames into place (readers never see half a file). */
  private async writeAtomic(target: string, body: Body): Promise<{ md5: Buffer; bytes: number }> {
    const tmp = path.join(this.tmp, crypto.randomUUID());
    const hash = crypto.createHash('md5');
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await pipeline(toStream(body), tap, fs.createWriteStream(tmp));
      await fsp.mkdir(path.dirname(target), { recursive: true });
      await fsp.rename(tmp, target);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    return { md5: hash.digest(), bytes };
  }

  private async writeMeta(key: string, m: Meta): Promise<void> {
    const f = this.metaFile(key);
    await fsp.mkdir(path.dirname(f), { recursive: true });
    await fsp.writeFile(f, JSON.stringify(m));
  }

  async put(key: string, body: Body, opts: { contentType?: string } = {}): Promise<{ etag: string; bytes: number }> {
    const { md5, bytes } = await this.writeAtomic(this.file(key), body);
    const etag = `"${md5.toString('hex')}"`;
    await this.writeMeta(key, { etag, ...(opts.contentType ? { contentType: opts.contentType } : {}) });
    return { etag, bytes };
  }

  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const f = this.file(key);
    const handle = await fsp.open(f, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EISDIR') throw new ObjectNotFoundError(key);
      throw err;
    });
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const st = await fsp.stat(this.file(key));
      if (!st.isFile()) return null;
      const m = JSON.parse(await fsp.readFile(this.metaFile(key), 'utf8')) as Meta;
      return { key, bytes: st.size, etag: m.etag, lastModified: st.mtime, ...(m.contentType ? { contentType: m.contentType } : {}) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await fsp.rm(this.file(key), { force: true });
    await fsp.rm(this.metaFile(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<number> {
    let n = 0;
    for await (const o of this.list(prefix)) {
      await this.delete(o.key);
      n += 1;
    }
    return n;
  }

  async *list(prefix: string, opts: { startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    // Walk only the directory the prefix lives in; S3 lists in lexicographic key order, so do we.
    const dirPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    if (dirPart) assertValidKey(dirPart);
    const start = path.join(this.objects, dirPart);
    const keys: string[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue;
        const k = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(path.join(dir, e.name), k);
        else if (e.isFile() && k.startsWith(prefix)) keys.push(k);
      }
    };
    await walk(start, dirPart);
    keys.sort();
    const after = opts.startAfter;
    for (const k of keys) {
      if (after !== undefined && k <= after) continue;
      const info = await this.head(k);
      if (info) yield info;
    }
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const info = await this.head(fromKey);
    if (!info) throw new ObjectNotFoundError(fromKey);
    await this.put(toKey, await this.get(fromKey), info.contentType ? { contentType: info.contentType } : {});
  }

  private signedUrl(p: SignedParams): string {
    const q = new URLSearchParams({ key: p.key, expires: String(p.expires) });
    if (p.uploadId) q.set('uploadId', p.uploadId);
    if (p.partNumber !== undefined) q.set('partNumber', String(p.partNumber));
    q.set('sig', sign(this.opts.signingSecret, p));
    return `${this.opts.publicUrl()}/storage/${p.op}?${q.toString()}`;
  }

  private expiry(seconds: number): number {
    return Math.floor(Date.now() / 1000) + seconds;
  }

  async presignGet(key: string, expiresInSeconds: number): Promise<string> {
    assertValidKey(key);
    return this.signedUrl({ op: 'get', key, expires: this.expiry(expiresInSeconds) });
  }

  async presignPut(key: string, expiresInSeconds: number): Promise<string> {
    assertValidKey(key);
    return this.signedUrl({ op: 'put', key, expires: this.expiry(expiresInSeconds) });
  }

  private uploadDir(uploadId: string): string {
    if (!/^[0-9a-f-]{36}$/.test(uploadId)) throw new InvalidPartError(`Unknown upload id ${uploadId}`);
    return path.join(this.multipart, uploadId);
  }

  private async readUpload(key: string, uploadId: string): Promise<MultipartMeta> {
    try {
      const m = JSON.parse(await fsp.readFile(path.join(this.uploadDir(uploadId), 'upload.json'), 'utf8')) as MultipartMeta;
      if (m.key !== key) throw new InvalidPartError(`Upload ${uploadId} is not for key ${key}`);
      return m;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new InvalidPartError(`No such upload ${uploadId} (aborted or completed)`);
      throw err;
    }
  }

  async createMultipart(key: string, contentType?: string): Promise<string> {
    assertValidKey(key);
    const uploadId = crypto.randomUUID();
    const dir = this.uploadDir(uploadId);
    await fsp.mkdir(dir, { recursive: true });
    const m: MultipartMeta = { key, initiated: new Date().toISOString(), ...(contentType ? { contentType } : {}) };
    await fsp.writeFile(path.join(dir, 'upload.json'), JSON.stringify(m));
    return uploadId;
  }

  async presignPart(key: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string> {
    await this.readUpload(key, uploadId);
    return this.signedUrl({ op: 'part', key, uploadId, partNumber, expires: this.expiry(expiresInSeconds) });
  }

  /** Called by the /storage/part route after the signature was verified. */
  async putPart(key: string, uploadId: string, partNumber: number, body: Body): Promise<{ etag: string }> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) throw new InvalidPartError('partNumber must be 1..10000');
    await this.readUpload(key, uploadId);
    const { md5 } = await this.writeAtomic(path.join(this.uploadDir(uploadId), `part-${partNumber}`), body);
    const etag = `"${md5.toString('hex')}"`;
    await fsp.writeFile(path.join(this.uploadDir(uploadId), `part-${partNumber}.etag`), etag);
    return { etag };
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    await this.readUpload(key, uploadId);
    const dir = this.uploadDir(uploadId);
    const parts: UploadedPart[] = [];
    for (const name of await fsp.readdir(dir)) {
      const m = /^part-(\d+)$/.exec(name);
      if (!m) continue;
      const partNumber = Number(m[1]);
      const etag = await fsp.readFile(path.join(dir, `${name}.etag`), 'utf8').catch(() => null);
      if (etag === null) continue; // part still being written
      parts.push({ partNumber, etag, bytes: (await fsp.stat(path.join(dir, name))).size });
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeMultipart(key: string, uploadId: string, parts: Array<{ partNumber: number; etag: string }>): Promise<{ etag: string }> {
    const m = await this.readUpload(key, uploadId);
    const have = new Map((await this.listParts(key, uploadId)).map((p) => [p.partNumber, p]));
    if (parts.length === 0) throw new InvalidPartError('At least one part is required');
    let prev = 0;
    for (const p of parts) {
      if (p.partNumber <= prev) throw new InvalidPartError('Parts must be listed in ascending order without duplicates');
      prev = p.partNumber;
      const stored = have.get(p.partNumber);
      if (!stored) throw new InvalidPartError(`Part ${p.partNumber} was never uploaded`);
      if (stored.etag.replace(/"/g, '') !== p.etag.replace(/"/g, '')) throw new InvalidPartError(`ETag mismatch for part ${p.partNumber}`);
    }
    const dir = this.uploadDir(uploadId);
    const md5s = parts.map((p) => Buffer.from(have.get(p.partNumber)!.etag.replace(/"/g, ''), 'hex'));
    const files = parts.map((p) => path.join(dir, `part-${p.partNumber}`));
    const concatenated = Readable.from(
      (async function* () {
        for (const f of files) yield* fs.createReadStream(f);
      })(),
    );
    await this.writeAtomic(this.file(key), concatenated);
    // S3's multipart ETag: md5 of the concatenated binary part md5s, then "-<part count>".
    const etag = `"${crypto.createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${parts.length}"`;
    await this.writeMeta(key, { etag, ...(m.contentType ? { contentType: m.contentType } : {}) });
    await fsp.rm(dir, { recursive: true, force: true });
    return { etag };
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.readUpload(key, uploadId);
    await fsp.rm(this.uploadDir(uploadId), { recursive: true, force: true });
  }

  async *listMultipartUploads(prefix: string, opts: { after?: { key: string; uploadId: string } } = {}): AsyncIterable<PendingMultipart> {
    // The local store is the single-machine default: one folder per upload, read whole, then ordered as S3 does.
    const out: PendingMultipart[] = [];
    for (const id of await fsp.readdir(this.multipart)) {
      const m = JSON.parse(await fsp.readFile(path.join(this.multipart, id, 'upload.json'), 'utf8').catch(() => 'null')) as MultipartMeta | null;
      if (m && m.key.startsWith(prefix)) out.push({ key: m.key, uploadId: id, initiated: new Date(m.initiated) });
    }
    const order = (a: { key: string; uploadId: string }, b: { key: string; uploadId: string }) =>
      a.key < b.key ? -1 : a.key > b.key ? 1 : a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0;
    out.sort(order);
    const after = opts.after;
    for (const u of out) if (!after || order(u, after) > 0) yield u;
  }

  async ping(): Promise<void> {
    await fsp.access(this.objects, fs.constants.R_OK | fs.constants.W_OK);
  }
}
