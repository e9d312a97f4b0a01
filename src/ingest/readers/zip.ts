// .zip image archives (flat or ImageFolder `<label>/<file>`). A zip's directory sits at its end, so the upload is
// first spooled to a temporary file (disk, not memory) and then read entry by entry with yauzl.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { counter, InflateGuard, readBounded } from '../bytes';
import { InputError } from '../errors';
import type { Example, ReadContext } from '../source';
import { checkEntryPath, entryToExample, isIgnorableEntry } from './archive-entry';

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    // decodeStrings false: we validate names ourselves and report them as problems instead of aborting the archive.
    yauzl.open(path, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: false }, (err, zip) =>
      err ? reject(new InputError('CORRUPT_FILE', `not a readable zip archive: ${err.message}`)) : resolve(zip!),
    );
  });
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const onEntry = (e: yauzl.Entry) => (cleanup(), resolve(e));
    const onEnd = () => (cleanup(), resolve(null));
    const onError = (err: Error) => (cleanup(), reject(new InputError('CORRUPT_FILE', `zip archive is corrupt: ${err.message}`)));
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) =>
    zip.openReadStream(entry, (err, stream) => (err ? reject(new InputError('CORRUPT_FILE', err.message)) : resolve(stream!))),
  );
}

export async function* readZip(source: AsyncIterable<Buffer>, file: string, ctx: ReadContext): AsyncGenerator<Example> {
  const dir = await mkdtemp(join(tmpdir(), 'pretext-zip-'));
  const path = join(dir, 'upload.zip');
  let zip: yauzl.ZipFile | null = null;
  try {
    let archiveBytes = 0;
    const spoolLimit = ctx.limits.maxUncompressedBytes;
    await pipeline(
      Readable.from(source),
      counter((n) => {
        archiveBytes += n;
        if (archiveBytes > spoolLimit) throw new InputError('TOO_LARGE', `zip archive is larger than ${spoolLimit} bytes (limit maxUncompressedBytes)`);
      }),
      createWriteStream(path),
    );
    zip = await openZip(path);
    const total = new InflateGuard(ctx.limits);
    total.addCompressed(archiveBytes);
    for (;;) {
      const entry = await nextEntry(zip);
      if (!entry) break;
      const raw = entry.fileName as unknown as Buffer | string;
      const name = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
      const at = { file, entry: name };
      try {
        checkEntryPath(name);
        const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
        if (mode === 0o120000) throw new InputError('LINK_ENTRY', `archive entry "${name}" is a symbolic link`);
        if (name.endsWith('/') || isIgnorableEntry(name)) continue;
        if (entry.isEncrypted()) throw new InputError('UNSUPPORTED_FORMAT', `archive entry "${name}" is encrypted`);
        const one = new InflateGuard(ctx.limits);
        one.addCompressed(Math.min(entry.compressedSize, archiveBytes));
        const stream = await openEntry(zip, entry);
        const guarded = stream.pipe(
          counter((n) => {
            one.addInflated(n);
            total.addInflated(n);
          }),
        );
        stream.on('error', (e) => guarded.destroy(new InputError('CORRUPT_FILE', `entry cannot be inflated: ${e.message}`)));
        const bytes = await readBounded(guarded, ctx.limits.maxEntryBytes, `archive entry "${name}"`);
        yield await entryToExample(name, bytes, file, ctx);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        // A bomb or a broken archive stops the whole file; a bad entry only itself.
        if (e.code === 'ARCHIVE_BOMB' || e.code === 'CORRUPT_FILE') throw new InputError(e.code, e.message, at);
        ctx.problems.report(at, e.code, e.message);
      }
    }
  } finally {
    zip?.close();
    await rm(dir, { recursive: true, force: true });
  }
}
