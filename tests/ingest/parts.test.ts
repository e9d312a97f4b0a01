// Sharded processing (src/ingest/parts.ts) against the one-pass processDatasetVersion on the same real files in a
// temp-folder store: the merged manifest and every row (index, split, label, content) must be the same.
import {
  createFolderStore,
  IngestError,
  mergeParts,
  processDatasetVersion,
  processPart,
  readShards,
  unitsForPart,
  type Manifest,
  type PartResult,
  type Row,
  type RowShape,
} from '../../src/ingest';
import type { UploadedFile } from '../../src/ingest/process';
import { codes, fileOf, listAll, wav, withTempDir, zip } from './helpers';

const TEXT: RowShape = { modality: 'TEXT' };

function textFiles(): UploadedFile[] {
  const files: UploadedFile[] = [];
  for (let f = 0; f < 5; f++) {
    const lines = Array.from({ length: 7 + f * 3 }, (_, i) => JSON.stringify({ text: `file ${f} line ${i} ${'x'.repeat(i % 5)}`, label: i % 3 === 0 ? 'a' : 'b' }));
    files.push(fileOf(`part-${f}.jsonl`, lines.join('\n')));
  }
  return files;
}

async function rowsOf(store: ReturnType<typeof createFolderStore>, m: Manifest): Promise<Row[]> {
  const out: Row[] = [];
  for await (const r of readShards(store, m)) out.push(r);
  return out;
}

async function sharded(files: UploadedFile[], shape: RowShape, count: number, prefix: string, store: ReturnType<typeof createFolderStore>, limits = {}) {
  const parts: PartResult[] = [];
  for (let index = 0; index < count; index++) parts.push(await processPart({ files, shape, store, keyPrefix: prefix, part: { index, count }, limits }));
  return { parts, merge: () => mergeParts({ files, shape, store, keyPrefix: prefix, parts, limits }) };
}

describe('sharded dataset processing (map per part, reduce into one manifest)', () => {
  it('gives the same manifest and rows as one pass, for 1 to 7 parts (more parts than files included)', async () => {
    await withTempDir(async (dir) => {
      const store = createFolderStore(dir);
      const base = textFiles();
      // A byte-identical duplicate is read once, in one pass and in every sharding.
      const files = [...base.slice(0, 3), { ...base[1]!, name: 'again.jsonl' }, ...base.slice(3)];
      const one = await processDatasetVersion({ files, shape: TEXT, store, keyPrefix: 'v/one', limits: { shardMaxRows: 4 } });
      const expected = await rowsOf(store, one);
      expect(one.duplicates).toEqual({ 'again.jsonl': 'part-1.jsonl' });
      for (const count of [1, 2, 3, 7]) {
        const { parts, merge } = await sharded(files, TEXT, count, `v/n${count}`, store, { shardMaxRows: 4 });
        expect(parts.reduce((s, p) => s + p.units.length, 0)).toBe(5); // every unique unit read by exactly one part
        const m = await merge();
        const { shards: _a, ...restOne } = one;
        const { shards: _b, ...restMerged } = m;
        expect(restMerged).toEqual(restOne);
        const got = await rowsOf(store, m);
        expect(got).toEqual(expected);
        expect(got.map((r) => r.index)).toEqual(expected.map((_, i) => i));
      }
      // Parts write only under their own prefix.
      const keys = await listAll(dir);
      expect(keys.filter((k) => k.startsWith('v/n3/')).every((k) => /^v\/n3\/(manifest\.json|parts\/0000[0-2]\/(part\.json|shards\/\d{5}\.arrow))$/.test(k))).toBe(true);
    });
  });

  it('balances parts by declared bytes, in upload order', () => {
    const unit = (name: string, bytes: number) => ({ files: [{ name, bytes, open: () => { throw new Error('not read'); } }], split: null });
    const units = [unit('a', 100), unit('b', 100), unit('c', 100), unit('d', 700)];
    const heads = (i: number) => unitsForPart(units, { index: i, count: 2 }).map((u) => u.files[0]!.name);
    expect(heads(0)).toEqual(['a', 'b', 'c']);
    expect(heads(1)).toEqual(['d']);
    expect(() => unitsForPart(units, { index: 2, count: 2 })).toThrow(RangeError);
  });

  it('rejects the version with the problems of every part, and a rejected part leaves no shards', async () => {
    await withTempDir(async (dir) => {
      const store = createFolderStore(dir);
      const files = [
        fileOf('good.jsonl', '{"text":"fine"}\n{"text":"also fine"}'),
        fileOf('bad-1.jsonl', '{"text":"ok"}\n{"text": 3}'),
        fileOf('bad-2.jsonl', 'not json at all'),
      ];
      const { parts, merge } = await sharded(files, TEXT, 3, 'v/bad', store);
      expect(parts.map((p) => p.problems.length)).toEqual([0, 1, 1]);
      expect(parts[1]!.shards).toEqual([]);
      const err = await merge().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IngestError);
      expect((err as IngestError).problems.map((p) => p.file)).toEqual(['bad-1.jsonl', 'bad-2.jsonl']);
      expect(codes(err as IngestError)).toEqual(['BAD_RECORD', 'BAD_RECORD']);
      expect((await listAll(dir)).filter((k) => k.includes('/parts/00001/') || k.includes('/parts/00002/')).sort()).toEqual([
        'v/bad/parts/00001/part.json',
        'v/bad/parts/00002/part.json',
      ]);
    });
  });

  it('refuses parts that disagree on what the data fixed (an audio sample rate), as one pass does', async () => {
    await withTempDir(async (dir) => {
      const store = createFolderStore(dir);
      // Declared without a rate: the first recording fixes it. helpers.wav writes 16 kHz; the second file says 8 kHz.
      const at8k = wav('pcm16', 1, [[0.5], [0.25]]);
      at8k.writeUInt32LE(8000, 24);
      at8k.writeUInt32LE(16000, 28);
      const shape: RowShape = { modality: 'SEQUENCE', length: 3, features: 1 };
      const files = [fileOf('a.zip', zip([{ name: 'go/1.wav', data: wav('pcm16', 1, [[0.5], [0.5]]) }])), fileOf('b.zip', zip([{ name: 'stop/1.wav', data: at8k }]))];
      const onePass = await processDatasetVersion({ files, shape, store, keyPrefix: 'v/one' }).catch((e: unknown) => e);
      expect(codes(onePass as IngestError)).toEqual(['BAD_SHAPE']);
      const { parts, merge } = await sharded(files, shape, 2, 'v/seq', store);
      expect(parts.map((p) => p.problems.length)).toEqual([0, 0]); // each part alone is consistent
      const err = (await merge().catch((e: unknown) => e)) as IngestError;
      expect(err).toBeInstanceOf(IngestError);
      expect(err.problems).toEqual([expect.objectContaining({ file: 'b.zip', code: 'BAD_SHAPE' })]);
    });
  });

  it('needs every part exactly once', async () => {
    await withTempDir(async (dir) => {
      const store = createFolderStore(dir);
      const files = textFiles().slice(0, 2);
      const { parts } = await sharded(files, TEXT, 2, 'v/missing', store);
      await expect(mergeParts({ files, shape: TEXT, store, keyPrefix: 'v/missing', parts: [parts[0]!] })).rejects.toThrow(/parts 0\.\.1 exactly once/);
      await expect(mergeParts({ files, shape: TEXT, store, keyPrefix: 'v/missing', parts: [parts[0]!, parts[0]!] })).rejects.toThrow(RangeError);
    });
  });
});
