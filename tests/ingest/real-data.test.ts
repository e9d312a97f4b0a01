// End-to-end ingest of the shared reference datasets. Skips (with a message) when ../shared/datasets is absent,
// as it is in a fresh clone; fails then under CI=true.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createFolderStore, loadDatasetFromPath, processDatasetVersion, readShards, type Row } from '../../src/ingest';
import type { UploadedFile } from '../../src/ingest/process';
import { demandSharedData, SHARED_DATASETS } from '../helpers/shared-datasets';
import { listAll, withTempDir } from './helpers';

const DATA = SHARED_DATASETS;
const FASHION = join(DATA, 'fashion-mnist');
const SPAM = join(DATA, 'spam-assassin.jsonl.gz');
const haveFashion = demandSharedData('fashion-mnist (IDX)', existsSync(join(FASHION, 'train-images-idx3-ubyte.gz')));
const haveSpam = demandSharedData('spam-assassin.jsonl.gz', existsSync(SPAM));

function uploaded(path: string, name: string): UploadedFile {
  const bytes = readFileSync(path); // only to compute the declared checksum the way the upload path does
  return { name, bytes: statSync(path).size, sha256: createHash('sha256').update(bytes).digest('hex'), open: () => createReadStream(path) };
}

/** Independent reference: the label histogram straight from an IDX labels file. */
function idxLabelHistogram(path: string): Record<string, number> {
  const raw = gunzipSync(readFileSync(path));
  const h: Record<string, number> = {};
  for (let i = 8; i < raw.length; i++) h[String(raw[i])] = (h[String(raw[i])] ?? 0) + 1;
  return h;
}

(haveSpam ? test : test.skip)('SpamAssassin .jsonl.gz → READY manifest with counts and spam/ham histogram', async () => {
  const reference: Record<string, number> = {};
  let refRows = 0;
  for (const line of gunzipSync(readFileSync(SPAM)).toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    const label = String(JSON.parse(line).label);
    reference[label] = (reference[label] ?? 0) + 1;
    refRows += 1;
  }
  await withTempDir(async (dir) => {
    const store = createFolderStore(dir);
    const manifest = await processDatasetVersion({ files: [uploaded(SPAM, 'spam-assassin.jsonl.gz')], shape: { modality: 'TEXT' }, store, keyPrefix: 'tenants/t/ds/spam/v1' });
    expect(manifest.rows).toBe(refRows);
    expect(manifest.rows).toBe(6046); // the README's documented count
    expect(manifest.labelHistogram).toEqual(reference);
    expect(manifest.labels).toEqual(['ham', 'spam']);
    expect(manifest.stats.characters).toBeGreaterThan(0);
    expect(manifest.stats.tokens).toBeGreaterThan(0);
    let n = 0;
    for await (const r of readShards(store, manifest)) n += r.modality === 'TEXT' && r.text.length > 0 ? 1 : 0;
    expect(n).toBe(refRows);
    expect((await listAll(dir)).length).toBe(manifest.shards.length + 1);
  });
});

(haveFashion ? test : test.skip)('Fashion-MNIST IDX (full pass): 60 002 train / 10 000 test rows and label histogram', async () => {
  const names = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 'test-images-idx3-ubyte.gz', 'test-labels-idx1-ubyte.gz'];
  const files = names.map((n) => uploaded(join(FASHION, n), n));
  const reference: Record<string, number> = {};
  for (const f of ['train-labels-idx1-ubyte.gz', 'test-labels-idx1-ubyte.gz']) {
    for (const [k, v] of Object.entries(idxLabelHistogram(join(FASHION, f)))) reference[k] = (reference[k] ?? 0) + v;
  }
  await withTempDir(async (dir) => {
    const store = createFolderStore(dir);
    const manifest = await processDatasetVersion({ files, shape: { modality: 'IMAGE', height: 28, width: 28, channels: 1 }, store, keyPrefix: 'tenants/t/ds/fm/v1' });
    expect(manifest.rows).toBe(70_002);
    expect(manifest.splits).toEqual({ train: 60_002, validation: 0, test: 10_000 });
    expect(manifest.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(manifest.labelHistogram).toEqual(reference);
    // Spot-check the first test row against the raw IDX bytes.
    const rawTest = gunzipSync(readFileSync(join(FASHION, 'test-images-idx3-ubyte.gz')));
    let first: Row | null = null;
    for await (const r of readShards(store, manifest, { split: 'test' })) {
      first = r;
      break;
    }
    expect(first!.index).toBe(60_002);
    expect(first!.modality === 'IMAGE' && Buffer.from(first!.pixels).equals(rawTest.subarray(16, 16 + 784))).toBe(true);
  });
});

(haveFashion ? test : test.skip)('loadDatasetFromPath on the Fashion-MNIST folder maps IDX train-/test- pairs to splits', async () => {
  const ds = await loadDatasetFromPath(FASHION, { modality: 'IMAGE' });
  expect(ds.shape).toEqual({ modality: 'IMAGE', height: 28, width: 28, channels: 1 });
  // Read only the head of the stream: the full pass is covered above.
  let n = 0;
  for await (const r of ds.rows) {
    expect(r.split).toBe('test'); // test-* sorts first
    if (++n === 500) break;
  }
  expect(n).toBe(500);
});
