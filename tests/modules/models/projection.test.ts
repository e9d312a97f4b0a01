// The embedding-map API behind the console: embeddingSpaces, embeddingProjection (PCA / UMAP) and datasetRows,
// on a space really built from a trained model. PCA is checked against an independent power iteration on the
// covariance of the stored vectors; every field is tenant-scoped like the rest of the API.
import sharp from 'sharp';
import { readVectorIndex, ExactIndex } from '../../../src/inference';
import { tinyImages } from '../../training/data/fixtures';
import { codes, startTestPlatform, type SeededTenant, type TestPlatform } from '../../helpers/platform';
import { registerTrainedModel, type RegisteredTestModel } from '../../helpers/models';
import { createDataset, createVersion, finalize, settledVersion, uploadFile } from '../../helpers/datasets-api';

const PROJECT = `query($id: ID!, $m: ProjectionMethod, $l: Int) { embeddingProjection(spaceId: $id, method: $m, limit: $l) { spaceId method count total coords rows labels labelIds splits } }`;
const ROWS = `query($v: ID!, $r: [Int!]!) { datasetRows(versionId: $v, rows: $r) { index label split image } }`;

function decode(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Largest eigenvalue of the covariance of `x` (n × d) by power iteration: a reference independent of ml-pca. */
function topEigenvalue(x: number[][]): number {
  const n = x.length;
  const d = x[0]!.length;
  const mean = Array.from({ length: d }, (_, j) => x.reduce((s, r) => s + r[j]!, 0) / n);
  const c = x.map((r) => r.map((v, j) => v - mean[j]!));
  let v = Array.from({ length: d }, (_, j) => 1 / Math.sqrt(d) + j * 1e-3);
  let lambda = 0;
  for (let it = 0; it < 500; it++) {
    const cv = c.map((r) => r.reduce((s, val, j) => s + val * v[j]!, 0));
    const w = Array.from({ length: d }, (_, j) => c.reduce((s, r, i) => s + r[j]! * cv[i]!, 0) / (n - 1));
    lambda = Math.sqrt(w.reduce((s, a) => s + a * a, 0));
    v = w.map((a) => a / lambda);
  }
  return lambda;
}

const variance = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
};

describe('embedding map API', () => {
  let t: TestPlatform;
  let acme: SeededTenant;
  let other: SeededTenant;
  let model: RegisteredTestModel;
  let versionId: string;
  let spaceId: string;
  const images = tinyImages(24);

  beforeAll(async () => {
    t = await startTestPlatform('http');
    acme = await t.seedTenant('map');
    other = await t.seedTenant('map-other');
    model = await registerTrainedModel(t, acme, { modality: 'IMAGE', pretext: 'CONTRASTIVE', rows: images.rows, shape: images.shape, name: 'shapes' });
    const key = acme.keys.MEMBER;
    const ds = await createDataset(t, key, 'IMAGE');
    versionId = await createVersion(t, key, ds, { image: { height: 8, width: 8, channels: 1 } });
    for (const r of images.rows) {
      const png = await sharp(Buffer.from(r.pixels), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer();
      await uploadFile(t, key, versionId, `${r.label}/${r.index}.png`, png);
    }
    await finalize(t, key, versionId);
    expect((await settledVersion(t, key, versionId)).status).toBe('READY');
    const space = await t.exec(`mutation($i: CreateEmbeddingSpaceInput!) { createEmbeddingSpace(input: $i) { id } }`, { i: { model: model.versionId, datasetVersionId: versionId } }, { key });
    spaceId = space.body.data!.createEmbeddingSpace.id;
    await t.platform.services.spaces.idle();
  }, 180_000);

  afterAll(async () => {
    model?.result.model.dispose();
    model?.result.heads.dispose();
    await t?.close();
  });

  test('embeddingSpaces lists the tenant’s spaces, filtered by model or dataset version', async () => {
    const q = `query($m: ID, $d: ID) { embeddingSpaces(modelVersionId: $m, datasetVersionId: $d) { id status rows } }`;
    const all = await t.exec(q, {}, { key: acme.keys.READER });
    expect(all.body.data!.embeddingSpaces).toEqual([{ id: spaceId, status: 'READY', rows: images.rows.length }]);
    expect((await t.exec(q, { m: model.versionId }, { key: acme.keys.READER })).body.data!.embeddingSpaces).toHaveLength(1);
    expect((await t.exec(q, { d: '00000000-0000-4000-8000-000000000000' }, { key: acme.keys.READER })).body.data!.embeddingSpaces).toEqual([]);
    expect((await t.exec(q, { m: 'not-a-uuid' }, { key: acme.keys.READER })).body.data!.embeddingSpaces).toEqual([]);
    expect((await t.exec(q, {}, { key: other.keys.READER })).body.data!.embeddingSpaces).toEqual([]);
  });

  test('PCA: one point per row, labels per point, and a first axis carrying the covariance’s top eigenvalue', async () => {
    const res = await t.exec(PROJECT, { id: spaceId }, { key: acme.keys.READER });
    expect(res.body.errors).toBeUndefined();
    const p = res.body.data!.embeddingProjection;
    const n = images.rows.length;
    expect(p).toMatchObject({ spaceId, method: 'PCA', count: n, total: n });
    const xy = decode(p.coords);
    expect(xy.length).toBe(2 * n);
    expect([...p.rows].sort((a: number, b: number) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    // Labels follow the rows: the dataset's ImageFolder labels, by row index.
    const rows = await t.exec(ROWS, { v: versionId, r: p.rows.slice(0, 10) }, { key: acme.keys.READER });
    const labelOf = new Map(rows.body.data!.datasetRows.map((r: { index: number; label: string }) => [r.index, r.label]));
    for (let i = 0; i < 10; i++) expect(p.labels[p.labelIds[i]]).toBe(labelOf.get(p.rows[i]));

    const space = await t.platform.db.prisma.embeddingSpace.findUniqueOrThrow({ where: { id: spaceId } });
    const chunks: Buffer[] = [];
    for await (const c of await t.platform.store.get(space.indexKey!)) chunks.push(c as Buffer);
    const index = readVectorIndex(new Uint8Array(Buffer.concat(chunks))) as ExactIndex;
    const vectors = Array.from({ length: n }, (_, i) => Array.from(index.vectors.subarray(i * index.dim, (i + 1) * index.dim)));
    const xs = Array.from({ length: n }, (_, i) => xy[2 * i]!);
    const ys = Array.from({ length: n }, (_, i) => xy[2 * i + 1]!);
    const lambda = topEigenvalue(vectors);
    expect(Math.abs(variance(xs) - lambda) / lambda).toBeLessThan(1e-3);
    expect(variance(ys)).toBeLessThanOrEqual(variance(xs) + 1e-9);
  });

  test('a limit samples evenly; UMAP is seeded and repeatable', async () => {
    const sampled = (await t.exec(PROJECT, { id: spaceId, l: 6 }, { key: acme.keys.READER })).body.data!.embeddingProjection;
    expect(sampled).toMatchObject({ count: 6, total: images.rows.length });
    expect(decode(sampled.coords).length).toBe(12);
    const u1 = (await t.exec(PROJECT, { id: spaceId, m: 'UMAP' }, { key: acme.keys.READER })).body.data!.embeddingProjection;
    expect(u1).toMatchObject({ method: 'UMAP', count: images.rows.length });
    expect(decode(u1.coords).every(Number.isFinite)).toBe(true);
    t.platform.services.projections['cache'].clear();
    const u2 = (await t.exec(PROJECT, { id: spaceId, m: 'UMAP' }, { key: acme.keys.READER })).body.data!.embeddingProjection;
    expect(u2.coords).toBe(u1.coords);
  }, 180_000);

  test('bad input is BAD_USER_INPUT; another tenant’s space or version is NOT_FOUND; no key is UNAUTHENTICATED', async () => {
    expect(codes(await t.exec(PROJECT, { id: spaceId, l: 0 }, { key: acme.keys.READER }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.exec(PROJECT, { id: spaceId, l: 50_001 }, { key: acme.keys.READER }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.exec(PROJECT, { id: spaceId }, { key: other.keys.ADMIN }))).toEqual(['NOT_FOUND']);
    expect(codes(await t.exec(PROJECT, { id: 'nope' }, { key: acme.keys.READER }))).toEqual(['NOT_FOUND']);
    expect(codes(await t.exec(PROJECT, { id: spaceId }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await t.exec(PROJECT, { id: spaceId }, { key: t.operatorKey }))).toEqual(['FORBIDDEN']);
    expect(codes(await t.exec(ROWS, { v: versionId, r: [0] }, { key: other.keys.READER }))).toEqual(['NOT_FOUND']);
    expect(codes(await t.exec(ROWS, { v: versionId, r: [images.rows.length] }, { key: acme.keys.READER }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.exec(ROWS, { v: versionId, r: Array.from({ length: 51 }, (_, i) => i % 24) }, { key: acme.keys.READER }))).toEqual(['BAD_USER_INPUT']);
  });

  test('datasetRows returns the requested rows in the requested order, as image thumbnails', async () => {
    const res = await t.exec(ROWS, { v: versionId, r: [5, 0, 17] }, { key: acme.keys.READER });
    expect(res.body.errors).toBeUndefined();
    const items = res.body.data!.datasetRows;
    expect(items.map((i: { index: number }) => i.index)).toEqual([5, 0, 17]);
    for (const i of items) expect(i.image).toMatch(/^data:image\/png;base64,/);
  });
});
