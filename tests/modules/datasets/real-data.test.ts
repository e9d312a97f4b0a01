// Real data from ../shared/datasets imported end to end through the GraphQL API (multipart uploads to the real
// HTTP server, processing into shards). Skips with a message when the shared folder is absent (a fresh clone); fails then under CI=true.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { startTestPlatform, type SeededTenant, type TestPlatform } from '../../helpers/platform';
import { createDataset, createVersion, finalize, settledVersion, uploadFile } from '../../helpers/datasets-api';
import { demandSharedData, SHARED_DATASETS } from '../../helpers/shared-datasets';

const SHARED = SHARED_DATASETS;
const SPAM = path.join(SHARED, 'spam-assassin.jsonl.gz');
const FMNIST = path.join(SHARED, 'fashion-mnist');
const present = demandSharedData('spam-assassin.jsonl.gz and fashion-mnist', fs.existsSync(SPAM) && fs.existsSync(FMNIST));
const maybe = present ? describe : describe.skip;

/** Label histogram counted straight from the source, independently of the ingest code. */
function spamHistogram(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of zlib.gunzipSync(fs.readFileSync(SPAM)).toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    const label = (JSON.parse(line) as { label: string }).label;
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}

function idxLabelHistogram(file: string): Record<string, number> {
  const buf = zlib.gunzipSync(fs.readFileSync(file));
  const counts: Record<string, number> = {};
  for (let i = 8; i < buf.length; i++) counts[String(buf[i])] = (counts[String(buf[i])] ?? 0) + 1;
  return counts;
}

maybe('real datasets through the API', () => {
  let t: TestPlatform;
  let tenant: SeededTenant;
  beforeAll(async () => {
    t = await startTestPlatform('http');
    tenant = await t.seedTenant('real');
  });
  afterAll(async () => {
    await t?.close();
  });

  test('SpamAssassin JSONL.gz becomes a READY text version with the source label histogram', async () => {
    const key = tenant.keys.MEMBER;
    const ds = await createDataset(t, key, 'TEXT', 'spam-assassin');
    const v = await createVersion(t, key, ds);
    const up = await uploadFile(t, key, v, 'spam-assassin.jsonl.gz', fs.readFileSync(SPAM));
    expect(up.body.errors).toBeUndefined();
    await finalize(t, key, v);
    const ready = await settledVersion(t, key, v);
    expect(ready.status).toBe('READY');
    const expected = spamHistogram();
    expect(ready.stats.rows).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
    expect(ready.stats.rows).toBe(6046);
    expect(Object.fromEntries(ready.stats.labelHistogram.map((l: { label: string; count: number }) => [l.label, l.count]))).toEqual(expected);
  }, 300_000);

  test('Fashion-MNIST IDX (train + test pairs) becomes a READY 28×28×1 image version split by file', async () => {
    const key = tenant.keys.MEMBER;
    const ds = await createDataset(t, key, 'IMAGE', 'fashion-mnist');
    const v = await createVersion(t, key, ds, { image: { height: 28, width: 28, channels: 1 } });
    for (const name of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
      const source = path.join(FMNIST, name.replace('t10k', 'test'));
      const up = await uploadFile(t, key, v, name, fs.readFileSync(source));
      expect(up.body.errors).toBeUndefined();
    }
    await finalize(t, key, v);
    const ready = await settledVersion(t, key, v);
    expect(ready.status).toBe('READY');
    expect(ready.stats.rows).toBe(70_002);
    expect(ready.stats.splits).toEqual({ train: 60_002, validation: 0, test: 10_000 });
    const train = idxLabelHistogram(path.join(FMNIST, 'train-labels-idx1-ubyte.gz'));
    const test = idxLabelHistogram(path.join(FMNIST, 'test-labels-idx1-ubyte.gz'));
    const expected = Object.fromEntries(Object.keys(train).map((k) => [k, train[k]! + (test[k] ?? 0)]));
    expect(Object.fromEntries(ready.stats.labelHistogram.map((l: { label: string; count: number }) => [l.label, l.count]))).toEqual(expected);
    expect(ready.stats.features).toBe(784);
  }, 300_000);
});
