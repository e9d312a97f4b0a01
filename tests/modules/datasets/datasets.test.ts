// Datasets through the GraphQL API on the real HTTP server, database and local object store: uploads (GraphQL
// multipart and presigned multipart), processing into READY versions, bad input, quotas, deduplication, deletion.
import crypto from 'node:crypto';
import sharp from 'sharp';
import { codes, startTestPlatform, type SeededTenant, type TestPlatform } from '../../helpers/platform';
import { createDataset, createVersion, finalize, keysUnder, settledVersion, uploadFile } from '../../helpers/datasets-api';
import { tarball } from '../../ingest/helpers';

const jsonl = (rows: Array<Record<string, unknown>>) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('datasets API', () => {
  let t: TestPlatform;
  let acme: SeededTenant;
  beforeAll(async () => {
    t = await startTestPlatform('http', { MAX_UPLOAD_BYTES: '200000', MULTIPART_PART_BYTES: String(5 * 2 ** 20) });
    acme = await t.seedTenant('data');
  });
  afterAll(async () => {
    await t?.close();
  });

  test('text JSONL: upload, finalize, READY with counts, labels, splits, preview and stored shards', async () => {
    const key = acme.keys.MEMBER;
    const ds = await createDataset(t, key, 'TEXT');
    const v = await createVersion(t, key, ds);
    const rows = Array.from({ length: 120 }, (_, i) => ({ text: `message number ${i} about ${i % 3 === 0 ? 'money' : 'lunch'}`, label: i % 3 === 0 ? 'spam' : 'ham' }));
    const up = await uploadFile(t, key, v, 'part1.jsonl', jsonl(rows.slice(0, 70)));
    expect(up.body.errors).toBeUndefined();
    expect(up.body.data?.uploadDatasetFile).toMatchObject({ name: 'part1.jsonl', status: 'UPLOADED', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await uploadFile(t, key, v, 'part2.jsonl', jsonl(rows.slice(70)))).body.errors).toBeUndefined();
    const fin = await finalize(t, key, v);
    expect(fin.body.data?.finalizeDatasetVersion.status).toBe('PROCESSING');

    const ready = await settledVersion(t, key, v);
    expect(ready.status).toBe('READY');
    expect(ready.stats.rows).toBe(120);
    expect(ready.stats.labels).toEqual(['ham', 'spam']);
    expect(ready.stats.labelHistogram).toEqual([{ label: 'ham', count: 80 }, { label: 'spam', count: 40 }]);
    const s = ready.stats.splits;
    expect(s.train + s.validation + s.test).toBe(120);
    expect(s.train).toBeGreaterThan(s.test);
    expect(Number(ready.stats.characters)).toBe(rows.reduce((n, r) => n + (r.text as string).length, 0));

    const prev = await t.exec(`query($id: ID!) { datasetVersion(id: $id) { preview(limit: 3) { index label split text } } }`, { id: v }, { key: acme.keys.READER });
    expect(prev.body.data?.datasetVersion.preview).toHaveLength(3);
    expect(prev.body.data?.datasetVersion.preview[0].text).toMatch(/^message number/);
    expect(await keysUnder(t, `tenants/${acme.id}/datasets/${ds}/versions/${v}/`)).toEqual(
      expect.arrayContaining([expect.stringMatching(/manifest\.json$/), expect.stringMatching(/shards\/\d+\.arrow$/)]),
    );

    // READY versions are immutable.
    expect(codes(await uploadFile(t, key, v, 'late.jsonl', jsonl(rows.slice(0, 2))))).toEqual(['CONFLICT']);
    expect(codes(await finalize(t, key, v))).toEqual(['CONFLICT']);
  });

  test('images: PNGs in an ImageFolder layout decode to the declared size, labels from folders', async () => {
    const key = acme.keys.MEMBER;
    const ds = await createDataset(t, key, 'IMAGE');
    const v = await createVersion(t, key, ds, { image: { height: 8, width: 8, channels: 1 } });
    for (const [label, value] of [['dark', 20], ['light', 230]] as const) {
      for (let i = 0; i < 3; i++) {
        const png = await sharp({ create: { width: 16, height: 12, channels: 3, background: { r: value, g: value + i, b: value } } }).png().toBuffer();
        expect((await uploadFile(t, key, v, `${label}/${i}.png`, png)).body.errors).toBeUndefined();
      }
    }
    await finalize(t, key, v);
    const ready = await settledVersion(t, key, v);
    expect(ready.status).toBe('READY');
    expect(ready.stats.rows).toBe(6);
    expect(ready.stats.labelHistogram).toEqual([{ label: 'dark', count: 3 }, { label: 'light', count: 3 }]);
    expect(ready.stats.features).toBe(64);
    const prev = await t.exec(`query($id: ID!) { datasetVersion(id: $id) { preview(limit: 1) { image } } }`, { id: v }, { key });
    expect(prev.body.data?.datasetVersion.preview[0].image).toMatch(/^data:image\/png;base64,/);
  });

  test('sequences: JSONL sequences become READY with the declared feature count', async () => {
    const key = acme.keys.MEMBER;
    const ds = await createDataset(t, key, 'SEQUENCE');
    const v = await createVersion(t, key, ds, { sequence: { length: 4, features: 2 } });
    const rows = Array.from({ length: 10 }, (_, i) => ({ sequence: [[i, 1], [i, 2], [i, 3], [i, 4]], label: String(i % 2) }));
    await uploadFile(t, key, v, 'seq.jsonl', jsonl(rows));
    await finalize(t, key, v);
    const ready = await settledVersion(t, key, v);
    expect(ready).toMatchObject({ status: 'READY', stats: { rows: 10, features: 2 } });
  });

  test('audio: a tar of <label>/<file>.wav clips with a declared sampleRate; a clip at another rate is named', async () => {
    const wavOf = (rate: number, n: number) => {
      const b = Buffer.alloc(44 + 2 * n);
      b.write('RIFF', 0, 'latin1'); b.writeUInt32LE(36 + 2 * n, 4); b.write('WAVEfmt ', 8, 'latin1');
      b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22); b.writeUInt32LE(rate, 24);
      b.writeUInt32LE(2 * rate, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34); b.write('data', 36, 'latin1'); b.writeUInt32LE(2 * n, 40);
      for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin(i / 3)), 44 + 2 * i);
      return b;
    };
    const key = acme.keys.MEMBER;
    const ds = await createDataset(t, key, 'SEQUENCE');
    const shape = { sequence: { length: 400, features: 1, sampleRate: 8000 } };
    const v = await createVersion(t, key, ds, shape);
    await uploadFile(t, key, v, 'clips.tar', await tarball([{ name: 'yes/1.wav', data: wavOf(8000, 300) }, { name: 'no/1.wav', data: wavOf(8000, 900) }]));
    await finalize(t, key, v);
    const ready = await settledVersion(t, key, v);
    expect(ready).toMatchObject({ status: 'READY', shape: { modality: 'SEQUENCE', length: 400, features: 1, sampleRate: 8000 }, stats: { rows: 2, features: 1, labels: ['no', 'yes'] } });

    const bad = await createVersion(t, key, ds, shape);
    await uploadFile(t, key, bad, 'clips.tar', await tarball([{ name: 'yes/2.wav', data: wavOf(16000, 300) }]));
    await finalize(t, key, bad);
    const failed = await settledVersion(t, key, bad);
    expect(failed.status).toBe('FAILED');
    expect(failed.error.problems[0]).toMatchObject({ file: 'clips.tar', entry: 'yes/2.wav', code: 'BAD_SHAPE' });
  });

  test('bad rows: the version FAILS listing file and line; nothing of it stays in storage', async () => {
    const key = acme.keys.MEMBER;
    const ds = await createDataset(t, key, 'SEQUENCE');
    const v = await createVersion(t, key, ds, { sequence: { length: 2, features: 2 } });
    const body = [JSON.stringify({ sequence: [[1, 2], [3, 4]] }), '{"sequence": [[1, 2], [3]]}', '{"sequence": [[1, 2], [NaN, 4]]}', JSON.stringify({ sequence: [[1, 2], [3, 4]] })].join('\n');
    await uploadFile(t, key, v, 'bad.jsonl', body);
    await finalize(t, key, v);
    const failed = await settledVersion(t, key, v);
    expect(failed.status).toBe('FAILED');
    expect(failed.stats).toBeNull();
    expect(failed.error.problems.length).toBeGreaterThanOrEqual(2);
    expect(failed.error.problems[0]).toMatchObject({ file: 'bad.jsonl', line: 2 });
    expect(failed.error.problems[1]).toMatchObject({ file: 'bad.jsonl', line: 3 });
    expect(await keysUnder(t, `tenants/${acme.id}/datasets/${ds}/`)).toEqual([]);
  });

  test('a file of the wrong modality fails the version', async () => {
    const key = acme.keys.MEMBER;
    const ds = await createDataset(t, key, 'TEXT');
    const v = await createVersion(t, key, ds);
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).png().toBuffer();
    await uploadFile(t, key, v, 'picture.png', png);
    await finalize(t, key, v);
    const failed = await settledVersion(t, key, v);
    expect(failed.status).toBe('FAILED');
    expect(failed.error.problems[0]).toMatchObject({ file: 'picture.png' });
    expect(failed.error.problems[0].code).toMatch(/WRONG_MODALITY|UNSUPPORTED_FORMAT/);
  });

  test('bad requests: shapes, names, empty and oversized uploads are typed errors and leave no objects', async () => {
    const key = acme.keys.MEMBER;
    const img = await createDataset(t, key, 'IMAGE');
    const noShape = await t.exec(`mutation($d: ID!) { createDatasetVersion(input: { datasetId: $d }) { id } }`, { d: img }, { key });
    expect(codes(noShape)).toEqual(['BAD_USER_INPUT']);
    const badChannels = await t.exec(`mutation($d: ID!) { createDatasetVersion(input: { datasetId: $d, image: { height: 8, width: 8, channels: 2 } }) { id } }`, { d: img }, { key });
    expect(codes(badChannels)).toEqual(['BAD_USER_INPUT']);

    const ds = await createDataset(t, key, 'TEXT');
    const v = await createVersion(t, key, ds);
    expect(codes(await uploadFile(t, key, v, '../escape.txt', 'x\n'))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await uploadFile(t, key, v, 'empty.txt', ''))).toEqual(['BAD_USER_INPUT']);
    const big = await uploadFile(t, key, v, 'big.txt', 'y'.repeat(200_001));
    expect(codes(big)).toEqual(['BAD_USER_INPUT']);
    expect(big.body.errors?.[0]?.message).toMatch(/startMultipartUpload/);
    expect(await keysUnder(t, `tenants/${acme.id}/tmp/`)).toEqual([]);
    expect(codes(await finalize(t, key, v))).toEqual(['BAD_USER_INPUT']); // no files yet
    expect((await uploadFile(t, key, v, 'ok.txt', 'fine\n')).body.errors).toBeUndefined();
    expect(codes(await uploadFile(t, key, v, 'ok.txt', 'again\n'))).toEqual(['CONFLICT']);
    // A READER may read but not write.
    expect(codes(await uploadFile(t, acme.keys.READER, v, 'r.txt', 'x\n'))).toEqual(['FORBIDDEN']);
  });

  test('identical files are stored once and counted once against the quota', async () => {
    const tenant = await t.seedTenant('dedupe');
    const key = tenant.keys.MEMBER;
    const content = 'same line\nanother line\n';
    for (const name of ['a', 'b']) {
      const ds = await createDataset(t, key, 'TEXT', name);
      const v = await createVersion(t, key, ds);
      await uploadFile(t, key, v, 'data.txt', content);
      await uploadFile(t, key, v, 'copy.txt', content);
    }
    expect(await keysUnder(t, `tenants/${tenant.id}/blobs/`)).toHaveLength(1);
    const usage = await t.exec(`{ storageUsage { usedBytes quotaBytes } }`, {}, { key: tenant.keys.READER });
    expect(usage.body.data?.storageUsage.usedBytes).toBe(Buffer.byteLength(content));
  });

  test('storage quota is enforced at upload time for both upload paths', async () => {
    const created = await t.exec(`mutation { createTenant(input: { name: "quota-${crypto.randomBytes(3).toString('hex')}", storageQuotaBytes: 100 }) { tenant { id } adminKey } }`, {}, { key: t.operatorKey });
    const key = created.body.data!.createTenant.adminKey;
    const tenantId = created.body.data!.createTenant.tenant.id;
    const ds = await createDataset(t, key, 'TEXT');
    const v = await createVersion(t, key, ds);
    expect((await uploadFile(t, key, v, 'small.txt', 'a'.repeat(60))).body.errors).toBeUndefined();
    const over = await uploadFile(t, key, v, 'more.txt', 'b'.repeat(60));
    expect(codes(over)).toEqual(['QUOTA_EXCEEDED']);
    const mp = await t.exec(`mutation($i: StartMultipartUploadInput!) { startMultipartUpload(input: $i) { file { id } } }`, { i: { versionId: v, name: 'huge.bin', bytes: 1000 } }, { key });
    expect(codes(mp)).toEqual(['QUOTA_EXCEEDED']);
    expect(await keysUnder(t, `tenants/${tenantId}/tmp/`)).toEqual([]);
    expect(await keysUnder(t, `tenants/${tenantId}/blobs/`)).toHaveLength(1);
  });

  test('presigned multipart: resume with the parts already received, refuse bad completions, then READY', async () => {
    const key = acme.keys.MEMBER;
    const ds = await createDataset(t, key, 'TEXT');
    const v = await createVersion(t, key, ds);
    const line = 'a reasonably long line of text for the multipart upload test\n';
    const content = Buffer.from(line.repeat(Math.ceil((6 * 2 ** 20) / line.length)));
    const sha256 = crypto.createHash('sha256').update(content).digest('hex');
    const start = await t.exec(
      `mutation($i: StartMultipartUploadInput!) { startMultipartUpload(input: $i) { file { id status } partSize partCount parts { partNumber url } uploadedParts { partNumber } } }`,
      { i: { versionId: v, name: 'big.txt', bytes: content.length, sha256 } },
      { key },
    );
    expect(start.body.errors).toBeUndefined();
    const mp = start.body.data!.startMultipartUpload;
    expect(mp.partCount).toBe(2);
    const partSize = Number(mp.partSize);
    const put = async (url: string, n: number) => {
      const res = await fetch(url, { method: 'PUT', body: content.subarray((n - 1) * partSize, n * partSize) });
      expect(res.status).toBe(200);
      return res.headers.get('etag')!;
    };
    const e1 = await put(mp.parts[0].url, 1);
    // The client is interrupted here; it resumes by asking what arrived.
    const status = await t.exec(`query($f: ID!) { multipartUpload(fileId: $f) { uploadedParts { partNumber etag } parts { partNumber url } } }`, { f: mp.file.id }, { key });
    expect(status.body.data?.multipartUpload.uploadedParts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1]);
    expect(status.body.data?.multipartUpload.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([2]);
    const e2 = await put(status.body.data!.multipartUpload.parts[0].url, 2);
    expect(codes(await finalize(t, key, v))).toEqual(['CONFLICT']); // still uploading

    const complete = (parts: unknown) =>
      t.exec(`mutation($f: ID!, $p: [CompletedPartInput!]!) { completeMultipartUpload(fileId: $f, parts: $p) { id status bytes sha256 } }`, { f: mp.file.id, p: parts }, { key });
    expect(codes(await complete([{ partNumber: 1, etag: e1 }, { partNumber: 1, etag: e1 }]))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await complete([{ partNumber: 1, etag: e1 }, { partNumber: 2, etag: '"0123"' }]))).toEqual(['BAD_USER_INPUT']);
    const done = await complete([{ partNumber: 1, etag: e1 }, { partNumber: 2, etag: e2 }]);
    expect(done.body.data?.completeMultipartUpload).toMatchObject({ status: 'UPLOADED', bytes: content.length, sha256 });
    expect(await keysUnder(t, `tenants/${acme.id}/uploads/`)).toEqual([]);
    await finalize(t, key, v);
    const ready = await settledVersion(t, key, v);
    expect([ready.status, ready.error]).toEqual(['READY', null]);
    expect(ready.stats.rows).toBe(Math.ceil((6 * 2 ** 20) / line.length));
  });

  test('aborted and abandoned multipart uploads leave nothing behind', async () => {
    const key = acme.keys.MEMBER;
    const ds = await createDataset(t, key, 'TEXT');
    const v = await createVersion(t, key, ds);
    const start = (name: string) =>
      t.exec(`mutation($i: StartMultipartUploadInput!) { startMultipartUpload(input: $i) { file { id } parts { url } } }`, { i: { versionId: v, name, bytes: 10 } }, { key });
    const a = (await start('a.txt')).body.data!.startMultipartUpload;
    await fetch(a.parts[0].url, { method: 'PUT', body: 'abcdefghij' });
    expect((await t.exec(`mutation($f: ID!) { abortMultipartUpload(fileId: $f) }`, { f: a.file.id }, { key })).body.data?.abortMultipartUpload).toBe(true);
    const b = (await start('b.txt')).body.data!.startMultipartUpload;
    await fetch(b.parts[0].url, { method: 'PUT', body: 'abcdefghij' });
    const swept = await t.platform.services.datasets.uploads.cleanupAbandoned(new Date(Date.now() + 48 * 3600 * 1000));
    expect(swept).toBeGreaterThanOrEqual(1);
    expect(await t.platform.db.prisma.datasetFile.count({ where: { versionId: v } })).toBe(0);
    const pending = [];
    for await (const u of t.platform.store.listMultipartUploads(`tenants/${acme.id}/`)) pending.push(u);
    expect(pending).toEqual([]);
  });

  test('deleting a dataset removes its rows, shards and unshared blobs; the name can be reused', async () => {
    const tenant = await t.seedTenant('del');
    const key = tenant.keys.MEMBER;
    const ds = await createDataset(t, key, 'TEXT', 'doomed');
    const v = await createVersion(t, key, ds);
    await uploadFile(t, key, v, 'x.txt', 'one\ntwo\nthree\n');
    await finalize(t, key, v);
    expect((await settledVersion(t, key, v)).status).toBe('READY');
    expect((await keysUnder(t, `tenants/${tenant.id}/`)).length).toBeGreaterThan(1);
    const del = await t.exec(`mutation($id: ID!) { deleteDataset(id: $id) }`, { id: ds }, { key });
    expect(del.body.data?.deleteDataset).toBe(true);
    expect(await keysUnder(t, `tenants/${tenant.id}/`)).toEqual([]);
    expect(codes(await t.exec(`query($id: ID!) { dataset(id: $id) { id } }`, { id: ds }, { key }))).toEqual(['NOT_FOUND']);
    expect(await t.platform.db.prisma.datasetVersion.count({ where: { datasetId: ds } })).toBe(0);
    await createDataset(t, key, 'TEXT', 'doomed');
    const usage = await t.exec(`{ storageUsage { usedBytes } }`, {}, { key });
    expect(usage.body.data?.storageUsage.usedBytes).toBe(0);
  });

  test('datasets list with cursor pagination', async () => {
    const tenant = await t.seedTenant('page');
    for (const n of ['p1', 'p2', 'p3']) await createDataset(t, tenant.keys.MEMBER, 'TEXT', n);
    const q = `query($a: String) { datasets(first: 2, after: $a) { nodes { name } pageInfo { endCursor hasNextPage } } }`;
    const first = await t.exec(q, {}, { key: tenant.keys.READER });
    expect(first.body.data?.datasets.nodes).toHaveLength(2);
    expect(first.body.data?.datasets.pageInfo.hasNextPage).toBe(true);
    const second = await t.exec(q, { a: first.body.data?.datasets.pageInfo.endCursor }, { key: tenant.keys.READER });
    expect(second.body.data?.datasets.nodes).toHaveLength(1);
    const names = [...first.body.data!.datasets.nodes, ...second.body.data!.datasets.nodes].map((d: { name: string }) => d.name).sort();
    expect(names).toEqual(['p1', 'p2', 'p3']);
  });
});
