// Streaming byte helpers: exact-size reads, peeking magic bytes, checksum verification and guarded inflation.
import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from './errors';
import type { IngestLimits } from './limits';
import type { SourceFile } from './source';

/** Reads exact byte counts from a stream without holding more than one chunk beyond the request. */
export class ByteReader {
  private readonly it: AsyncIterator<Buffer>;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  /** Bytes handed out so far. */
  consumed = 0;

  constructor(source: AsyncIterable<Buffer | Uint8Array | string>) {
    const inner = source[Symbol.asyncIterator]();
    this.it = {
      next: async () => {
        const r = await inner.next();
        if (r.done) return r;
        const v = r.value;
        return { done: false, value: typeof v === 'string' ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength) };
      },
      return: async () => {
        if (inner.return) await inner.return();
        return { done: true, value: undefined };
      },
    };
  }

  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.done) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        break;
      }
      if (r.value.length === 0) continue;
      this.chunks.push(r.value);
      this.buffered += r.value.length;
    }
  }

  /** Returns exactly n bytes, or fewer only at end of stream. The result is a private, 8-byte-aligned copy. */
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    const take = Math.min(n, this.buffered);
    // allocUnsafeSlow: own ArrayBuffer at offset 0, so typed-array views over it are aligned.
    const out = Buffer.allocUnsafeSlow(take);
    let off = 0;
    while (off < take) {
      const head = this.chunks[0]!;
      const k = Math.min(head.length, take - off);
      head.copy(out, off, 0, k);
      off += k;
      if (k === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(k);
    }
    this.buffered -= take;
    this.consumed += take;
    return out;
  }

  /** Skips n bytes; returns how many were skipped. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      await this.fill(1);
      if (this.buffered === 0) break;
      const head = this.chunks[0]!;
      const k = Math.min(head.length, left);
      if (k === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(k);
      this.buffered -= k;
      left -= k;
    }
    this.consumed += n - left;
    return n - left;
  }

  async atEnd(): Promise<boolean> {
    await this.fill(1);
    return this.buffered === 0;
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

/** Reads up to n leading bytes and returns them with a stream that still yields the whole content. */
export async function peek(stream: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const held: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size < n) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    held.push(r.value);
    size += r.value.length;
  }
  const head = Buffer.concat(held).subarray(0, n);
  async function* replay(): AsyncGenerator<Buffer> {
    try {
      for (const c of held) yield c;
      held.length = 0;
      if (ended) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      if (!ended) await it.return?.();
    }
  }
  return { head, stream: Readable.from(replay(), { objectMode: false }) };
}

/** Opens a source file, verifying its declared size and sha256 when the stream has been read to the end. */
export function openVerified(file: SourceFile): Readable {
  const src = file.open();
  if (file.sha256 === undefined && file.bytes === undefined) return src;
  const hash = createHash('sha256');
  let bytes = 0;
  const check = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (file.bytes !== undefined && bytes !== file.bytes) {
        cb(new InputError('CHECKSUM_MISMATCH', `file has ${bytes} bytes but ${file.bytes} were declared`));
        return;
      }
      const digest = hash.digest('hex');
      if (file.sha256 !== undefined && file.sha256 !== '' && digest !== file.sha256.toLowerCase()) {
        cb(new InputError('CHECKSUM_MISMATCH', `sha256 is ${digest} but ${file.sha256} was declared`));
        return;
      }
      cb();
    },
  });
  src.on('error', (e) => check.destroy(e));
  return src.pipe(check);
}

/**
 * Tracks inflated vs compressed bytes for one archive or compressed file and throws as soon as either the total
 * or the ratio limit is exceeded. Counts real bytes as they flow: headers are never trusted.
 */
export class InflateGuard {
  compressed = 0;
  inflated = 0;
  constructor(private readonly limits: IngestLimits) {}

  addCompressed(n: number): void {
    this.compressed += n;
  }

  addInflated(n: number): void {
    this.inflated += n;
    const { maxUncompressedBytes, maxCompressionRatio, ratioGraceBytes } = this.limits;
    if (this.inflated > maxUncompressedBytes) {
      throw new InputError(
        'ARCHIVE_BOMB',
        `inflates to more than ${maxUncompressedBytes} bytes (limit maxUncompressedBytes)`,
      );
    }
    if (this.inflated > ratioGraceBytes && this.inflated > maxCompressionRatio * Math.max(1, this.compressed)) {
      throw new InputError(
        'ARCHIVE_BOMB',
        `compression ratio exceeds ${maxCompressionRatio}:1 (${this.inflated} bytes from ${this.compressed}; limit maxCompressionRatio)`,
      );
    }
  }
}

/** A pass-through that reports each chunk's size; throwing in `onBytes` fails the stream. */
export function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        onBytes(chunk.length);
        cb(null, chunk);
      } catch (e) {
        cb(e as Error);
      }
    },
  });
}

/** Gunzips a stream under an InflateGuard. */
export function gunzipGuarded(src: Readable, guard: InflateGuard): Readable {
  const before = counter((n) => guard.addCompressed(n));
  const gunzip = createGunzip();
  const after = counter((n) => guard.addInflated(n));
  const fail = (e: Error) => after.destroy(e);
  src.on('error', fail);
  before.on('error', fail);
  gunzip.on('error', (e) => after.destroy(new InputError('CORRUPT_FILE', `gzip data is corrupt: ${e.message}`)));
  return src.pipe(before).pipe(gunzip).pipe(after);
}

/** Collects a whole (bounded) stream into memory; for single images and archive entries only. */
export async function readBounded(stream: AsyncIterable<Buffer>, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    size += c.length;
    if (size > maxBytes) throw new InputError('TOO_LARGE', `${what} is larger than ${maxBytes} bytes (limit maxEntryBytes)`);
    chunks.push(c);
  }
  return Buffer.concat(chunks, size);
}

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}
