// DATASET_PROCESSING=job (src/modules/datasets/processing-jobs.ts): a finalized version is processed by a dispatched
// job of several copies, each a REAL child process (the local dispatcher running src/jobs/platform-main.ts through
// tsx) that reads its run of the files from the real local object store and writes its part; the worker's pass then
// merges the parts. Real database, real GraphQL uploads over HTTP. No part of the path is stubbed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createFolderStore, processDatasetVersion, readManifest, readShards, type Manifest, type Row } from '../../src/ingest';
import { LocalDispatcher } from '../../src/jobs/dispatchers';
import { specKey } from '../../src/jobs/platform/spec';
import { runPlatformJob } from '../../src/jobs/platform-main';
import { ProcessingJobs } from '../../src/modules/datasets/processing-jobs';
import { DatasetService } from '../../src/modules/datasets/service';
import { versionPrefix } from '../../src/modules/datasets/keys';
import { ingestStoreFrom } from '../../src/ingest';
import { createDataset, createVersion, finalize, keysUnder, uploadFile, VERSION_FIELDS } from '../helpers/datasets-api';
import { startTestPlatform, type SeededTenant, type TestPlatform } from '../helpers/platform';
import { registerTrainedModel } from '../helpers/models';
import { tinyTexts } from '../training/data/fixtures';
import { InferenceRuntime, readVectorIndex } from '../../src/inference';
import { loadArtifact } from '../../src/modules/models/artifacts';
import { embedShards } from '../../src/modules/models/space-build';
import { SpaceJobs } from '../../src/modules/models/space-jobs';
import { tenantKey } from '../../src/storage';

async function readAll(t: TestPlatform, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await t.platform.store.get(key)) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

const PLATFORM_JOB_COMMAND = JSON.stringify([process.execPath, '--import', 'tsx', path.resolve(__dirname, '../../src/jobs/platform-main.ts')]);

function jsonl(file: number, rows: number): string {
  return Array.from({ length: rows }, (_, i) => JSON.stringify({ text: `file ${file} note ${i} about ${['cats', 'dogs', 'birds'][(i + file) % 3]}`, label: ['cats', 'dogs', 'birds'][(i + file) % 3] })).join('\n') + '\n';
}

async function rowsOf(store: Parameters<typeof readShards>[0], m: Manifest): Promise<Row[]> {
  const out: Row[] = [];
  for await (const r of readShards(store, m)) out.push(r);
  return out;
}

describe('dataset processing as dispatched, sharded jobs (local children)', () => {
  let t: TestPlatform;
  let tenant: SeededTenant;
  const tenants: string[] = [];
  beforeAll(async () => {
    // 600 bytes per copy: the four files below (≈ 0.5–1.4 KB each) make a job of 4 copies (capped by the file count).
    t = await startTestPlatform('http', { DATASET_PROCESSING: 'job', PLATFORM_JOB_COMMAND, DATASET_JOB_BYTES_PER_PART: '600', RUN_WORKER: 'false', LOCAL_MAX_CONCURRENT: '4' }, { jobTenantScope: () => tenants });
    tenant = await t.seedTenant('pjobs');
    tenants.push(tenant.id);
  });
  afterAll(async () => {
    await t?.close();
  });

  const jobs = () => t.platform.services.processingJobs!;
  const version = async (id: string) => (await t.exec(`query($id: ID!) { datasetVersion(id: $id) { ${VERSION_FIELDS} } }`, { id }, { key: tenant.keys.ADMIN })).body.data!.datasetVersion;
  async function passUntilSettled(id: string): Promise<Record<string, any>> {
    for (let i = 0; i < 400; i++) {
      await jobs().pass();
      const v = await version(id);
      if (v.status !== 'PROCESSING') return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the processing job did not settle in 40 s');
  }

  test('a version of four files is processed by four copies and merged into the one-pass manifest and rows', async () => {
    const key = tenant.keys.ADMIN;
    const ds = await createDataset(t, key, 'TEXT');
    const v = await createVersion(t, key, ds);
    const contents = [jsonl(0, 9), jsonl(1, 25), jsonl(2, 14), jsonl(3, 30)];
    for (const [i, c] of contents.entries()) expect((await uploadFile(t, key, v, `notes-${i}.jsonl`, c)).status).toBe(200);
    expect((await finalize(t, key, v)).body.data?.finalizeDatasetVersion.status).toBe('PROCESSING');

    const first = await jobs().pass();
    expect(first.submitted).toBe(1);
    const row = await t.platform.db.prisma.datasetVersion.findUniqueOrThrow({ where: { id: v } });
    const prefix = versionPrefix(tenant.id, ds, v);
    const chunks: Buffer[] = [];
    for await (const c of await t.platform.store.get(specKey(prefix))) chunks.push(Buffer.from(c as Buffer));
    const spec = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { count: number };
    expect(spec.count).toBe(4);
    expect(row.processingAttempts).toBe(1);
    expect(row.processingJobId).toMatch(/.+/);

    const done = await passUntilSettled(v);
    expect(done.status).toBe('READY');
    expect(done.stats.rows).toBe(78);

    // The same files through the one-pass processor give the same manifest (shard keys aside) and the same rows.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-onepass-'));
    try {
      const folder = createFolderStore(dir);
      const files = contents.map((c, i) => ({ name: `notes-${i}.jsonl`, bytes: Buffer.byteLength(c), sha256: crypto.createHash('sha256').update(c).digest('hex'), open: () => Readable.from([Buffer.from(c)]) }));
      const one = await processDatasetVersion({ files, shape: { modality: 'TEXT' }, store: folder, keyPrefix: 'one' });
      const merged = await readManifest(ingestStoreFrom(t.platform.store), `${prefix}/manifest.json`);
      const { shards: _a, ...a } = one;
      const { shards: _b, ...b } = merged;
      expect(b).toEqual(a);
      expect(merged.shards.map((s) => s.key.slice(prefix.length + 1).replace(/\/shards\/.*/, ''))).toEqual(['parts/00000', 'parts/00001', 'parts/00002', 'parts/00003']);
      expect(await rowsOf(ingestStoreFrom(t.platform.store), merged)).toEqual(await rowsOf(folder, one));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // The job's bookkeeping is gone; the shards and the manifest stay. The stored row forgets the job.
    const keys = await keysUnder(t, `${prefix}/`);
    expect(keys.filter((k) => k.endsWith('part.json') || k.includes('/job/'))).toEqual([]);
    expect(keys.filter((k) => k.endsWith('.arrow'))).toHaveLength(4);
    expect((await t.platform.db.prisma.datasetVersion.findUniqueOrThrow({ where: { id: v } })).processingJobId).toBeNull();
    // Rows read back through the API by index come from the right part (index offsets applied).
    const rows = await t.exec(`query($id: ID!) { datasetRows(versionId: $id, rows: [0, 8, 9, 77]) { index text label } }`, { id: v }, { key });
    expect(rows.body.errors).toBeUndefined();
    expect(rows.body.data!.datasetRows.map((r: { text: string }) => r.text)).toEqual(['file 0 note 0 about cats', 'file 0 note 8 about birds', 'file 1 note 0 about dogs', 'file 3 note 29 about birds']);
  });

  test('bad data in one copy fails the version with that file named, and leaves no objects of the version', async () => {
    const key = tenant.keys.ADMIN;
    const ds = await createDataset(t, key, 'TEXT');
    const v = await createVersion(t, key, ds);
    expect((await uploadFile(t, key, v, 'good.jsonl', jsonl(0, 30))).status).toBe(200);
    expect((await uploadFile(t, key, v, 'bad.jsonl', `${jsonl(1, 20)}{"text": 42}\n`)).status).toBe(200);
    await finalize(t, key, v);
    const done = await passUntilSettled(v);
    expect(done.status).toBe('FAILED');
    expect(done.error.problems).toEqual([expect.objectContaining({ file: 'bad.jsonl', line: 21, code: 'BAD_RECORD' })]);
    expect(await keysUnder(t, `${versionPrefix(tenant.id, ds, v)}/`)).toEqual([]);
  });

  test('a job that crashes is retried until the attempts run out, then FAILED with an internal error and nothing left', async () => {
    const key = tenant.keys.ADMIN;
    const ds = await createDataset(t, key, 'TEXT');
    const v = await createVersion(t, key, ds);
    expect((await uploadFile(t, key, v, 'a.jsonl', jsonl(0, 5))).status).toBe(200);
    await finalize(t, key, v);
    // The same pass over a dispatcher whose "job" is a real child that exits 3 (an OOM-killed or broken image).
    const crashing = new LocalDispatcher({ kind: 'local', maxConcurrent: 2 });
    const cfg = t.platform.config;
    const pj = new ProcessingJobs(t.platform.db.prisma, t.platform.store, crashing, t.platform.log, {
      job: { ...cfg.datasets.job, command: [process.execPath, '-e', 'process.exit(3)'] },
      storage: cfg.storage,
      maxAttempts: 2,
      tenantScope: () => tenants,
    });
    const seen: string[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const r = await pj.pass();
        seen.push(JSON.stringify(r));
        const row = await t.platform.db.prisma.datasetVersion.findUniqueOrThrow({ where: { id: v } });
        if (row.status !== 'PROCESSING') break;
        await new Promise((res) => setTimeout(res, 50));
      }
    } finally {
      await crashing.close();
    }
    const row = await t.platform.db.prisma.datasetVersion.findUniqueOrThrow({ where: { id: v } });
    expect(row.status).toBe('FAILED');
    expect(row.processingAttempts).toBe(2);
    expect((row.error as { message: string }).message).toMatch(/internal error/);
    expect(seen.some((s) => JSON.parse(s).retried === 1)).toBe(true);
    expect(await keysUnder(t, `${versionPrefix(tenant.id, ds, v)}/`)).toEqual([]);
  });

  test('purging a deleted dataset while its version is processed cancels the job', async () => {
    const key = tenant.keys.ADMIN;
    const ds = await createDataset(t, key, 'TEXT');
    const v = await createVersion(t, key, ds);
    expect((await uploadFile(t, key, v, 'a.jsonl', jsonl(0, 5))).status).toBe(200);
    await finalize(t, key, v);
    // A real child that would run for a minute (a long processing job), on a dispatcher of this test's own.
    const slow = new LocalDispatcher({ kind: 'local', maxConcurrent: 2, killGraceMs: 200 });
    const pj = new ProcessingJobs(t.platform.db.prisma, t.platform.store, slow, t.platform.log, {
      job: { ...t.platform.config.datasets.job, command: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'] },
      storage: t.platform.config.storage,
      maxAttempts: 2,
      tenantScope: () => tenants,
    });
    const svc = t.platform.services.datasets;
    // The platform's dataset service, wired to that dispatcher the way createServices wires the platform's own.
    const datasets = new DatasetService(t.platform.db.prisma, t.platform.store, svc.uploads, svc.processor, t.platform.log, svc.reconciler, (id) => slow.cancel(id));
    try {
      expect((await pj.pass()).submitted).toBe(1);
      const jobId = (await t.platform.db.prisma.datasetVersion.findUniqueOrThrow({ where: { id: v } })).processingJobId!;
      expect((await slow.describe(jobId)).state).toBe('RUNNING');
      // deleteDataset's two steps: the soft delete, then the purge.
      await t.platform.db.prisma.dataset.update({ where: { id: ds }, data: { deletedAt: new Date() } });
      await datasets.purge(ds);
      for (let i = 0; i < 50 && (await slow.describe(jobId)).state === 'RUNNING'; i++) await new Promise((r) => setTimeout(r, 50));
      expect((await slow.describe(jobId)).state).toBe('FAILED');
      expect(await t.platform.db.prisma.datasetVersion.findUnique({ where: { id: v } })).toBeNull();
      expect(await keysUnder(t, `${versionPrefix(tenant.id, ds, v)}/`)).toEqual([]);
    } finally {
      await slow.close();
    }
  });

  test('an embedding space over a three-shard version is built by three copies; each row vector sits at its row', async () => {
    const key = tenant.keys.ADMIN;
    const ds = await createDataset(t, key, 'TEXT');
    const v = await createVersion(t, key, ds);
    // Three files → three processing copies → three shards (each part cuts its own).
    for (const f of [0, 1, 2]) expect((await uploadFile(t, key, v, `s-${f}.jsonl`, jsonl(f, 10 + 3 * f))).status).toBe(200);
    await finalize(t, key, v);
    expect((await passUntilSettled(v)).status).toBe('READY');
    const texts = tinyTexts(16);
    await registerTrainedModel(t, tenant, { modality: 'TEXT', pretext: 'MASKED', rows: texts.rows, shape: texts.shape, name: 'space-job-words' });
    const created = await t.exec(`mutation($i: CreateEmbeddingSpaceInput!) { createEmbeddingSpace(input: $i) { id status } }`, { i: { model: 'space-job-words', datasetVersionId: v } }, { key });
    expect(created.body.errors).toBeUndefined();
    const spaceId = created.body.data!.createEmbeddingSpace.id as string;
    // 12 rows per copy over 39 rows: 4 wanted, capped at the 3 shards.
    const spaces = new SpaceJobs(t.platform.db.prisma, t.platform.store, t.platform.jobs.platformDispatcher, t.platform.log, {
      job: t.platform.config.datasets.job, storage: t.platform.config.storage, rowsPerPart: 12, maxAttempts: 2, tenantScope: () => tenants,
    });
    const first = await spaces.pass();
    expect(first.submitted).toBe(1);
    const spec = JSON.parse((await readAll(t, specKey(tenantKey(tenant.id, 'spaces', spaceId)))).toString('utf8')) as { count: number };
    expect(spec.count).toBe(3);
    let status = 'BUILDING';
    for (let i = 0; i < 600 && status === 'BUILDING'; i++) {
      await spaces.pass();
      status = (await t.platform.db.prisma.embeddingSpace.findUniqueOrThrow({ where: { id: spaceId } })).status;
      if (status === 'BUILDING') await new Promise((r) => setTimeout(r, 100));
    }
    const space = await t.platform.db.prisma.embeddingSpace.findUniqueOrThrow({ where: { id: spaceId }, include: { modelVersion: true } });
    expect(space).toMatchObject({ status: 'READY', rows: 39, buildJobId: null, buildAttempts: 1 });
    expect((await keysUnder(t, `${tenantKey(tenant.id, 'spaces', spaceId)}/`)).sort()).toEqual([space.indexKey, space.vectorsKey].sort());

    // The same rows embedded here in one piece: row r's own vector finds row r first in the job-built index.
    const manifest = await readManifest(ingestStoreFrom(t.platform.store), `${versionPrefix(tenant.id, ds, v)}/manifest.json`);
    const runtime = new InferenceRuntime();
    try {
      const artifact = await loadArtifact(space.modelVersion, async (k) => readAll(t, k));
      const one = await embedShards({ runtime, artifact, version: space.modelVersion, store: ingestStoreFrom(t.platform.store), manifest, shards: manifest.shards });
      const stored = JSON.parse((await readAll(t, space.vectorsKey!)).toString('utf8')) as { rows: number[]; meta: Array<{ label: string | null }> };
      expect(stored.rows).toEqual(one.rows);
      expect(stored.meta).toEqual(one.meta);
      const index = readVectorIndex(new Uint8Array(await readAll(t, space.indexKey!)));
      const dim = space.modelVersion.embeddingDim;
      for (const r of [0, 9, 10, 22, 23, 38]) {
        const hit = index.search(one.vectors.subarray(r * dim, (r + 1) * dim), 1)[0]!;
        expect(hit.score).toBeCloseTo(1, 4);
        // The nearest stored vector is the row's own (or, on an exact tie, one equal to it).
        const found = stored.rows[hit.index]!;
        const own = one.vectors.subarray(r * dim, (r + 1) * dim);
        const theirs = one.vectors.subarray(found * dim, (found + 1) * dim);
        expect(found === r || own.every((x, i) => Math.abs(x - theirs[i]!) < 1e-6)).toBe(true);
      }
    } finally {
      await runtime.close();
    }
    // similar over GraphQL answers from the job-built index.
    const near = await t.exec(`query($i: SimilarInput!) { similar(input: $i) { neighbors { row score } } }`, { i: { model: 'space-job-words', datasetVersionId: v, query: { text: 'file 2 note 3 about cats' }, k: 3 } }, { key });
    expect(near.body.errors).toBeUndefined();
    expect(near.body.data!.similar.neighbors).toHaveLength(3);
  });

  test('the job entry refuses a spec key outside a version or space prefix, objects of another tenant, and a copy count the spec was not written for', async () => {
    const env = { PRETEXT_JOB_STORAGE: JSON.stringify(t.platform.config.storage) };
    await expect(runPlatformJob(['process-version', `tenants/${tenant.id}/blobs/sha256/x`], env)).rejects.toThrow(/not a job spec key/);
    await expect(runPlatformJob(['process-version', `tenants/${tenant.id}/datasets/d/versions/../job/spec.json`], env)).rejects.toThrow(/not a job spec key/);
    await expect(runPlatformJob(['train'], env)).rejects.toThrow(/usage/);
    // A real spec, read by a copy that believes the job has 3 copies while the spec says 1.
    const ds = await createDataset(t, tenant.keys.ADMIN, 'TEXT');
    const v = await createVersion(t, tenant.keys.ADMIN, ds);
    const prefix = versionPrefix(tenant.id, ds, v);
    await t.platform.store.put(specKey(prefix), Buffer.from(JSON.stringify({ formatVersion: 1, kind: 'process-version', versionId: v, keyPrefix: prefix, shape: { modality: 'TEXT' }, split: {}, count: 1, files: [] })));
    await expect(runPlatformJob(['process-version', specKey(prefix)], { ...env, PRETEXT_JOB_INDEX: '1', PRETEXT_JOB_COUNT: '3' })).rejects.toThrow(/spec was written for 1/);
    await t.platform.store.deletePrefix(`${prefix}/`);
    // A space build spec that names another tenant's manifest is refused before anything is read.
    const spacePrefix = tenantKey(tenant.id, 'spaces', crypto.randomUUID());
    const foreign = { formatVersion: 1, kind: 'build-space', spaceId: 's', keyPrefix: spacePrefix, manifestKey: 'tenants/someone-else/datasets/d/versions/v/manifest.json', model: { id: 'm', onnxKey: `${spacePrefix}/m.onnx`, tokenizerKey: null, inputSpec: {}, head: null, embeddingDim: 4 }, count: 1 };
    await t.platform.store.put(specKey(spacePrefix), Buffer.from(JSON.stringify(foreign)));
    await expect(runPlatformJob(['build-space', specKey(spacePrefix)], env)).rejects.toThrow(/outside its tenant/);
    await expect(runPlatformJob(['process-version', specKey(spacePrefix)], env)).rejects.toThrow(/does not describe this job/);
    await t.platform.store.deletePrefix(`${spacePrefix}/`);
  });
});
