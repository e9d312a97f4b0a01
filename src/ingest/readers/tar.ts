// .tar / .tar.gz image archives (flat or ImageFolder `<label>/<file>`), read as a stream with tar-stream.
// Links are refused: a symlink or hard link in an upload is either a mistake or an attempt to read elsewhere.
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { readBounded } from '../bytes';
import { InputError } from '../errors';
import type { Example, ReadContext } from '../source';
import { checkEntryPath, entryToExample, isIgnorableEntry } from './archive-entry';

/** `source` is the plain tar stream; a .tar.gz is inflated (under the bomb guard) before it gets here. */
export async function* readTar(source: AsyncIterable<Buffer>, file: string, ctx: ReadContext): AsyncGenerator<Example> {
  const bytes = Readable.from(source, { objectMode: false });
  const extract = tar.extract();
  bytes.on('error', (e) => extract.destroy(e));
  bytes.pipe(extract);
  let seen = 0;
  try {
    for await (const entry of extract) {
      seen += 1;
      const { name, type } = entry.header;
      const at = { file, entry: name };
      try {
        checkEntryPath(name);
        if (type === 'symlink' || type === 'link') {
          throw new InputError('LINK_ENTRY', `archive entry "${name}" is a ${type === 'link' ? 'hard' : 'symbolic'} link to "${entry.header.linkname}"`);
        }
        if (type === 'directory' || isIgnorableEntry(name)) {
          entry.resume();
          continue;
        }
        if (type !== 'file' && type !== 'contiguous-file') {
          throw new InputError('UNSUPPORTED_FORMAT', `archive entry "${name}" is a ${type}, not a regular file`);
        }
        const content = await readBounded(entry as AsyncIterable<Buffer>, ctx.limits.maxEntryBytes, `archive entry "${name}"`);
        yield await entryToExample(name, content, file, ctx);
      } catch (e) {
        entry.resume();
        if (!(e instanceof InputError)) throw e;
        if (e.code === 'ARCHIVE_BOMB' || e.code === 'CORRUPT_FILE') throw new InputError(e.code, e.message, at);
        ctx.problems.report(at, e.code, e.message);
      }
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError('CORRUPT_FILE', `not a readable tar archive: ${(e as Error).message}`);
  } finally {
    extract.destroy();
    bytes.destroy();
  }
  if (seen === 0) throw new InputError('EMPTY_FILE', 'archive has no entries');
}
