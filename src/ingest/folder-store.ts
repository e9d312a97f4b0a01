// An IngestStore over a local folder: for tests, benchmarks and `pretext train --local`. The gateway passes its
// own storage adapter instead.
import { createReadStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import type { IngestStore } from './store';

export function createFolderStore(root: string): IngestStore & { root: string; pathOf(key: string): string } {
  const base = resolve(root);
  const pathOf = (key: string) => {
    const p = resolve(join(base, key));
    if (key.startsWith('/') || key.split('/').includes('..') || !p.startsWith(base + sep)) {
      throw new RangeError(`Object key "${key}" must be relative and stay inside the store.`);
    }
    return p;
  };
  return {
    root: base,
    pathOf,
    async putObject(key, body) {
      const p = pathOf(key);
      await mkdir(dirname(p), { recursive: true });
      if (body instanceof Readable) await pipeline(body, createWriteStream(p));
      else await writeFile(p, body);
    },
    async getObject(key) {
      const p = pathOf(key);
      const s = createReadStream(p);
      // Surface a missing key as a rejected promise, not a later stream error.
      await new Promise<void>((ok, fail) => {
        s.once('open', () => ok());
        s.once('error', fail);
      });
      return s;
    },
    async deleteObject(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}
