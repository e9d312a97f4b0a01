import { PassThrough, type Readable } from 'node:stream';

/** A Readable now for an object the store opens asynchronously (ingest opens files synchronously). */
export function lazyStream(open: () => Promise<Readable>): Readable {
  const out = new PassThrough();
  open().then(
    (s) => {
      s.on('error', (err) => out.destroy(err));
      s.pipe(out);
    },
    (err: Error) => out.destroy(err),
  );
  return out;
}
