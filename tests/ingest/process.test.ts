import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { readFile } from 'node:fs/promises';
import {
  assignSplit,
  createFolderStore,
  IngestError,
  ingestStoreFrom,
  loadDatasetFromPath,
  manifestKey,
  previewVersion,
  processDatasetVersion,
  readManifest,
  readShards,
  type IngestStore,
  type Row,
  type TextRow,
} from '../../src/ingest';
import { LocalObjectStore } from '../../src/storage';
import { fileOf, ingest, listAll, npy, png, withTempDir } from './helpers';

const TEXT = { modality: 'TEXT' } as const;
const PREFIX = 'tenants/t1/datasets/d1/versions/v1';

function lines(n: number, label = true): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ text: `example number ${i} ${'w'.repeat(i % 17)}`, ...(label ? { label: ['a', 'b', 'c'][i % 3] } : {}) })).join('\n');
}

describe('processDatasetVersion', () => {
  test('bounded shards, manifest, split counts, label histogram, source checksums', async () => {
    await withTempDir(async (dir) => {
      const store = createFolderStore(dir);
      const f = fileOf('data.jsonl', lines(1000));
      const manifest = await processDatasetVersion({ files: [f], shape: TEXT, store, keyPrefix: PREFIX, limits: { shardMaxRows: 300 } });
      expect(manifest.rows).toBe(1000);
      expect(manifest.shards.map((s) => s.rows)).toEqual([300, 300, 300, 100]);
      expect(manifest.shards.map((s) => s.key)).toEqual([0, 1, 2, 3].map((i) => `${PREFIX}/shards/0000${i}.arrow`));
      expect(manifest.splits.train + manifest.splits.validation + manifest.splits.test).toBe(1000);
      // 10 % / 10 % by hash: loose bounds that a correct uniform hash meets with overwhelming probability.
      expect(manifest.splits.test).toBeGreaterThan(60);
      expect(manifest.splits.test).toBeLessThan(140);
      expect(manifest.splits.validation).toBeGreaterThan(60);
      expect(manifest.splits.validation).toBeLessThan(140);
      expect(manifest.labels).toEqual(['a', 'b', 'c']);
      expect(manifest.labelHistogram).toEqual({ a: 334, b: 333, c: 333 });
      expect(manifest.sources).toEqual([{ name: 'data.jsonl', bytes: f.bytes, sha256: f.sha256 }]);
      expect(manifest.stats.bytes).toBe(f.bytes);

      const keys = await listAll(dir);
      expect(keys.sort()).toEqual([...manifest.shards.map((s) => s.key), manifestKey(PREFIX)].sort());
      expect(await readManifest(store, manifestKey(PREFIX))).toEqual(manifest);

      // The shard is a real Arrow IPC file with the documented columns.
      const table = tableFromIPC(await readFile(join(dir, manifest.shards[0]!.key)));
      expect(table.schema.fields.map((x) => x.name)).toEqual(['index', 'text', 'label', 'split']);
      expect(table.numRows).toBe(300);

      const all: Row[] = [];
      for await (const r of readShards(store, manifest)) all.push(r);
      expect(all.map((r) => r.index)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
      expect((all[5] as TextRow).text).toBe('example number 5 wwwww');
      const test: Row[] = [];
      for await (const r of readShards(store, manifest, { split: 'test' })) test.push(r);
      expect(test).toHaveLength(manifest.splits.test);
      expect(test.every((r) => r.split === 'test')).toBe(true);

      const preview = await previewVersion(store, manifest, { limit: 3, maxChars: 10 });
      expect(preview.map((p) => p.text)).toEqual(['example n…', 'example n…', 'example n…']);
    });
  });

  test('works through the platform object store (LocalObjectStore) via ingestStoreFrom, and cleans it on failure', async () => {
    await withTempDir(async (dir) => {
      const platform = new LocalObjectStore({ root: dir, signingSecret: 'test-secret', publicUrl: () => 'http://127.0.0.1:1' });
      const store = ingestStoreFrom(platform);
      const manifest = await processDatasetVersion({ files: [fileOf('d.jsonl', lines(50))], shape: TEXT, store, keyPrefix: PREFIX });
      const keys: string[] = [];
      for await (const o of platform.list(PREFIX)) keys.push(o.key);
      expect(keys.sort()).toEqual([manifest.shards[0]!.key, manifestKey(PREFIX)].sort());
      let n = 0;
      for await (const r of readShards(store, manifest)) n += r.index >= 0 ? 1 : 0;
      expect(n).toBe(50);

      const other = `${PREFIX}-bad`;
      await expect(
        processDatasetVersion({ files: [fileOf('d.jsonl', lines(300) + '\nnot json')], shape: TEXT, store, keyPrefix: other, limits: { shardMaxRows: 100 } }),
      ).rejects.toBeInstanceOf(IngestError);
      const left: string[] = [];
      for await (const o of platform.list(other)) left.push(o.key);
      expect(left).toEqual([]);
    });
  });

  test('split is a deterministic function of content and seed', async () => {
    const a = await ingest([fileOf('a.jsonl', lines(200))], TEXT);
    const b = await ingest([fileOf('b.txt', Array.from({ length: 200 }, (_, i) => `example number ${i} ${'w'.repeat(i % 17)}`).join('\n'))], TEXT);
    expect(a.rows.map((r) => r.split)).toEqual(b.rows.map((r) => r.split));
    const rule = a.manifest.splitRule;
    expect(a.rows.every((r) => r.split === assignSplit(Buffer.from((r as TextRow).text), rule))).toBe(true);
  });

  test('byte-size bound on shards', async () => {
    const { manifest } = await ingest([fileOf('d.jsonl', lines(500))], TEXT, { shardMaxBytes: 4096 });
    expect(manifest.shards.length).toBeGreaterThan(3);
    expect(manifest.shards.every((s) => s.bytes < 4096 * 3)).toBe(true);
  });

  test('identical files are read once', async () => {
    const { manifest } = await ingest([fileOf('a.txt', 'x\ny\n'), fileOf('copy.txt', 'x\ny\n')], TEXT);
    expect(manifest.rows).toBe(2);
    expect(manifest.duplicates).toEqual({ 'copy.txt': 'a.txt' });
    expect(manifest.sources).toHaveLength(2);
  });

  test('a failure after shards were written deletes every shard (bad row late in the file)', async () => {
    await withTempDir(async (dir) => {
      const store = createFolderStore(dir);
      const body = lines(900) + '\n{broken\n';
      const err = await processDatasetVersion({ files: [fileOf('d.jsonl', body)], shape: TEXT, store, keyPrefix: PREFIX, limits: { shardMaxRows: 100 } }).catch((e) => e);
      expect(err).toBeInstanceOf(IngestError);
      expect((err as IngestError).problems).toEqual([expect.objectContaining({ file: 'd.jsonl', line: 901, code: 'BAD_RECORD' })]);
      expect(await listAll(dir)).toEqual([]);
    });
  });

  test('a store failure mid-way deletes the shards already written', async () => {
    await withTempDir(async (dir) => {
      const folder = createFolderStore(dir);
      let puts = 0;
      const flaky: IngestStore = {
        putObject: async (k, b, o) => {
          if (++puts === 3) throw new Error('store unavailable');
          await folder.putObject(k, b, o);
        },
        getObject: (k) => folder.getObject(k),
        deleteObject: (k) => folder.deleteObject(k),
      };
      await expect(
        processDatasetVersion({ files: [fileOf('d.jsonl', lines(500))], shape: TEXT, store: flaky, keyPrefix: PREFIX, limits: { shardMaxRows: 100 } }),
      ).rejects.toThrow('store unavailable');
      expect(await listAll(dir)).toEqual([]);
    });
  });

  test('bad shapes and options are rejected with a message saying how to fix them', async () => {
    const store = createFolderStore('/nonexistent-never-written');
    await expect(processDatasetVersion({ files: [fileOf('a.png', 'x')], shape: { modality: 'IMAGE', height: 0, width: 8, channels: 3 }, store, keyPrefix: PREFIX })).rejects.toThrow(
      /image height must be an integer in \[1, 4096\]/,
    );
    await expect(processDatasetVersion({ files: [fileOf('a.png', 'x')], shape: { modality: 'IMAGE', height: 8, width: 8, channels: 2 as 1 }, store, keyPrefix: PREFIX })).rejects.toThrow(
      'Should be one of: 1, 3',
    );
    await expect(processDatasetVersion({ files: [fileOf('a.txt', 'x')], shape: TEXT, store, keyPrefix: PREFIX, split: { validation: 0.6, test: 0.5 } })).rejects.toThrow(/sum < 1/);
  });

  test('image and sequence versions round-trip through shards; preview gives thumbnails and excerpts', async () => {
    await withTempDir(async (dir) => {
      const store = createFolderStore(dir);
      const shape = { modality: 'IMAGE', height: 8, width: 8, channels: 3 } as const;
      const m = await processDatasetVersion({ files: [fileOf('a/x.png', await png(8, 8, 1))], shape, store, keyPrefix: 'img' });
      const prev = await previewVersion(store, m);
      expect(prev[0]!.label).toBe('a');
      expect(prev[0]!.image).toMatch(/^data:image\/png;base64,/);
      const seqShape = { modality: 'SEQUENCE', length: 3, features: 2 } as const;
      const data = [1, 2, 3, 4, 5, 6.123456];
      const ms = await processDatasetVersion({ files: [fileOf('s.npy', npy('<f4', [1, 3, 2], data))], shape: seqShape, store, keyPrefix: 'seq' });
      const rows: Row[] = [];
      for await (const r of readShards(store, ms)) rows.push(r);
      expect(rows[0]!.modality === 'SEQUENCE' && Array.from(rows[0]!.values)).toEqual(Array.from(new Float32Array(data)));
      const sp = await previewVersion(store, ms, { steps: 2 });
      expect(sp[0]!.sequence).toEqual([
        [1, 2],
        [3, 4],
      ]);
    });
  });
});

describe('loadDatasetFromPath', () => {
  test('benchmark folder: train.jsonl + test.jsonl map to splits', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'train.jsonl'), lines(30));
      await writeFile(join(dir, 'test.jsonl'), lines(12));
      await writeFile(join(dir, 'README.md'), '# ignored');
      const ds = await loadDatasetFromPath(dir, { modality: 'TEXT' });
      expect(ds.shape).toEqual(TEXT);
      expect(ds.files).toEqual(['test.jsonl', 'train.jsonl']);
      const rows: Row[] = [];
      for await (const r of ds.rows) rows.push(r);
      expect(rows.filter((r) => r.split === 'train')).toHaveLength(30);
      expect(rows.filter((r) => r.split === 'test')).toHaveLength(12);
    });
  });

  test('ImageFolder folder with the image size taken from the first image; npy features inferred', async () => {
    await withTempDir(async (dir) => {
      await mkdir(join(dir, 'imgs/cat'), { recursive: true });
      await mkdir(join(dir, 'imgs/dog'), { recursive: true });
      await writeFile(join(dir, 'imgs/cat/1.png'), await png(10, 6, 1));
      await writeFile(join(dir, 'imgs/dog/1.png'), await png(20, 12, 2));
      const ds = await loadDatasetFromPath(join(dir, 'imgs'), { modality: 'IMAGE' });
      expect(ds.shape).toEqual({ modality: 'IMAGE', height: 6, width: 10, channels: 3 });
      const rows: Row[] = [];
      for await (const r of ds.rows) rows.push(r);
      expect(rows.map((r) => r.label)).toEqual(['cat', 'dog']);
      expect(rows.every((r) => r.modality === 'IMAGE' && r.pixels.length === 6 * 10 * 3)).toBe(true);

      await writeFile(join(dir, 'train.npy'), npy('<f4', [2, 4, 3], Array.from({ length: 24 }, (_, i) => i)));
      const seq = await loadDatasetFromPath(join(dir, 'train.npy'), { modality: 'SEQUENCE' });
      expect(seq.shape).toEqual({ modality: 'SEQUENCE', length: null, features: 3 });
      let n = 0;
      for await (const r of seq.rows) n += r.split === 'train' ? 1 : 0;
      expect(n).toBe(2);
    });
  });

  test('problems surface as IngestError', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'train.csv'), 'body\nx\n');
      await expect(loadDatasetFromPath(dir, { modality: 'TEXT' })).rejects.toBeInstanceOf(IngestError);
    });
  });
});
