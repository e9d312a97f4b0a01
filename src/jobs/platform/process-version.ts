// The map half of sharded dataset processing, as a job: copy `index` of `count` reads its run of the version's
// files and writes parts/<index>/ (src/ingest/parts.ts). Bad data is a result (part.json lists the problems), so
// only an infrastructure failure (the store) makes the process exit non-zero and the attempt retry.
import { ingestStoreFrom, processPart, type PartResult } from '../../ingest';
import type { ObjectStore } from '../../storage';
import type { ProcessVersionSpec } from './spec';
import { lazyStream } from '../../storage/lazy-stream';

export async function runProcessVersion(store: ObjectStore, spec: ProcessVersionSpec, part: { index: number; count: number }): Promise<PartResult> {
  if (part.count !== spec.count) {
    throw new Error(`the job runs ${part.count} cop${part.count === 1 ? 'y' : 'ies'} but the spec was written for ${spec.count}; refusing to write a part the merge would not expect.`);
  }
  const files = spec.files.map((f) => ({ name: f.name, bytes: f.bytes, sha256: f.sha256, open: () => lazyStream(() => store.get(f.key)) }));
  return processPart({ files, shape: spec.shape, store: ingestStoreFrom(store), keyPrefix: spec.keyPrefix, part, split: spec.split });
}
