// The dataset reconciler's two bounds: a pass looks at no more than `objectsPerPass` objects and the next one resumes
// after the last key it saw (every object still visited once per cycle), and versions stuck PROCESSING because
// their gateway died are taken over on the periodic pass once their processing lease lapsed — exactly once when
// several gateways pass at the same time, and never while a live process holds the lease; the same holds for a
// gateway's start-up pass (a restart next to a live gateway must not re-process the version that one is writing).
import crypto from 'node:crypto';
import { createLogger } from '../../../src/logger';
import { DatasetProcessor } from '../../../src/modules/datasets/processor';
import { DatasetReconciler, type ReconcileReport } from '../../../src/modules/datasets/reconciler';
import { tenantKey } from '../../../src/storage';
import { createReadyDatasetVersion, tinySequenceJsonl } from '../../helpers/datasets';
import { createDataset, createVersion, uploadFile } from '../../helpers/datasets-api';
import { startTestPlatform, type SeededTenant, type TestPlatform } from '../../helpers/platform';

let t: TestPlatform;
let tenant: SeededTenant;
const log = createLogger('silent');

// Other test files share the database (CI): this platform's recovery passes take only this file's tenant's versions.
const tenants: string[] = [];
beforeAll(async () => {
  t = await startTestPlatform('http', {}, { jobTenantScope: () => tenants });
  tenant = await t.seedTenant('recon');
  tenants.push(tenant.id);
});
afterAll(async () => {
  await t?.close();
});

async function countUnder(prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of t.platform.store.list(prefix)) n += 1;
  return n;
}

/**
 * A maker of versions with one uploaded file, left PROCESSING as a gateway that died mid-finalize leaves them,
 * their processing lease `leaseAgeMs` old (all in one new dataset of this file's tenant).
 */
async function stuckVersions(): Promise<(leaseAgeMs: number) => Promise<string>> {
  const key = tenant.keys.MEMBER;
  const ds = await createDataset(t, key, 'SEQUENCE');
  return async (leaseAgeMs) => {
    const v = await createVersion(t, key, ds, { sequence: { length: 16, features: 2 } });
    const up = await uploadFile(t, key, v, 'waves.jsonl', tinySequenceJsonl(32, 16));
    expect(up.body.errors).toBeUndefined();
    await t.platform.db.prisma.datasetVersion.update({ where: { id: v }, data: { status: 'PROCESSING', processingStartedAt: new Date(Date.now() - leaseAgeMs) } });
    return v;
  };
}

test('a pass is bounded by objectsPerPass and the next resumes after its last key; a cycle visits every object once', async () => {
  const ready = await createReadyDatasetVersion(t.platform, tenant.id, [{ name: 'waves.jsonl', content: tinySequenceJsonl(48, 16) }], { modality: 'SEQUENCE', length: 16, features: 2 });
  const versionPrefix = ready.manifestKey.replace(/manifest\.json$/, '');
  const kept = await countUnder(versionPrefix);
  // Orphans a crash could leave: streamed-upload temporaries and blobs no file row names.
  for (let i = 0; i < 23; i++) await t.platform.store.put(tenantKey(tenant.id, 'tmp', 'uploads', crypto.randomUUID()), `tmp ${i}`);
  for (let i = 0; i < 2; i++) await t.platform.store.put(tenantKey(tenant.id, 'blobs', 'sha256', crypto.randomBytes(32).toString('hex')), `blob ${i}`);
  const total = await countUnder('tenants/');
  expect(total).toBe(kept + 25);

  const perPass = 7;
  const r = new DatasetReconciler(t.platform.db.prisma, t.platform.store, { cleanupAbandoned: async () => 0, purgeDeleted: async () => undefined }, 60_000, log, { objectsPerPass: perPass });
  const later = new Date(Date.now() + 3_600_000); // everything is past the grace window
  const reports: ReconcileReport[] = [];
  do reports.push(await r.run(later));
  while (!reports.at(-1)!.wrapped && reports.length < 50);

  expect(reports).toHaveLength(Math.ceil(total / perPass));
  for (const rep of reports) expect(rep.scanned).toBeLessThanOrEqual(perPass);
  expect(reports[0]!.fromKey).toBeNull();
  for (let i = 1; i < reports.length; i++) expect(reports[i]!.fromKey).toBe(reports[i - 1]!.toKey);
  expect(reports.at(-1)!.toKey).toBeNull();
  expect(reports.reduce((n, rep) => n + rep.scanned, 0)).toBe(total);
  expect(reports.reduce((n, rep) => n + rep.tmpObjects, 0)).toBe(23);
  expect(reports.reduce((n, rep) => n + rep.blobs, 0)).toBe(2);
  // Nothing a READY version owns was touched; the next cycle starts over from the beginning.
  expect(await countUnder(versionPrefix)).toBe(kept);
  expect(await countUnder('tenants/')).toBe(kept);
  const next = await r.run(later);
  expect(next.fromKey).toBeNull();
  expect(next.scanned).toBe(Math.min(perPass, kept));
});

test('versions stuck PROCESSING are taken over on the periodic pass once their lease lapsed, once across gateways', async () => {
  const stuckVersion = await stuckVersions();
  const processor = t.platform.services.datasets.processor;
  const lease = processor.leaseMs;
  const dead = await stuckVersion(2 * lease); // its gateway died long ago
  const live = await stuckVersion(0); // another gateway is processing it right now
  const report = await t.platform.services.datasets.reconciler.run(new Date());
  expect(report.staleProcessing).toBe(1);
  await processor.idle();
  const status = async (id: string) => (await t.platform.db.prisma.datasetVersion.findUniqueOrThrow({ where: { id } })).status;
  expect(await status(dead)).toBe('READY');
  expect(await status(live)).toBe('PROCESSING');
  expect((await t.platform.db.prisma.datasetVersion.findUniqueOrThrow({ where: { id: dead } })).stats).toMatchObject({ rows: 32 });

  // Two gateways' passes at once: the compare-and-set on the lease lets exactly one take the version over.
  const other = new DatasetProcessor(t.platform.db.prisma, t.platform.store, log, { baseDelayMs: 100, maxDelayMs: 100, maxRetries: 1, leaseMs: lease }, { inline: true, tenantScope: () => tenants });
  try {
    const contested = await stuckVersion(2 * lease);
    const now = new Date();
    const [a, b] = await Promise.all([processor.recoverStale(now), other.recoverStale(now)]);
    expect(a + b).toBe(1);
    await Promise.all([processor.idle(), other.idle()]);
    expect(await status(contested)).toBe('READY');
    // A version this process holds (queued here) is not taken over again by its own pass, however old its lease.
    const held = await stuckVersion(2 * lease);
    processor.enqueue(held);
    expect(processor.holds(held)).toBe(true);
    expect(await processor.recoverStale(new Date())).toBe(0);
    await processor.idle();
    expect(processor.holds(held)).toBe(false);
    expect(await status(held)).toBe('READY');
  } finally {
    await other.close();
  }
  // The live version's lease is still fresh: it is left alone until it lapses.
  expect(await status(live)).toBe('PROCESSING');
});

test('start-up recovery takes over only versions with no live holder: lapsed at once, its own pre-crash lease after a second look', async () => {
  const stuckVersion = await stuckVersions();
  const status = async (id: string) => (await t.platform.db.prisma.datasetVersion.findUniqueOrThrow({ where: { id } })).status;
  // A short lease so the second look comes within the test (real default: 10 minutes, i.e. 5 minutes).
  const lease = 1_500;
  const restarted = new DatasetProcessor(t.platform.db.prisma, t.platform.store, log, { baseDelayMs: 100, maxDelayMs: 100, maxRetries: 1, leaseMs: lease }, { inline: true, tenantScope: () => tenants });
  // The previous test leaves a version PROCESSING with a fresh lease ("live"): out of this test's count.
  await t.platform.db.prisma.datasetVersion.updateMany({ where: { tenantId: tenant.id, status: 'PROCESSING' }, data: { status: 'FAILED' } });
  try {
    const lapsed = await stuckVersion(lease); // not renewed for two renewal periods: nobody holds it
    const ownPreCrash = await stuckVersion(0); // renewed just before this gateway was killed; nobody renews it now
    const peers = await stuckVersion(0); // a live gateway is writing it and keeps renewing its lease
    const renewing = setInterval(() => {
      // (Prisma queries run when awaited: catch() starts this one.)
      t.platform.db.prisma.datasetVersion.updateMany({ where: { id: peers, status: 'PROCESSING' }, data: { processingStartedAt: new Date() } }).catch(() => undefined);
    }, lease / 4);
    try {
      const { now, followUp } = await restarted.recoverAtStartup(new Date());
      expect(now).toBe(1);
      expect(restarted.holds(lapsed)).toBe(true);
      expect(restarted.holds(ownPreCrash)).toBe(false);
      expect(restarted.holds(peers)).toBe(false);
      expect(await followUp).toBe(1); // its lease did not move: taken over; the peer's moved: left alone
      await restarted.idle();
    } finally {
      clearInterval(renewing);
    }
    expect(await status(lapsed)).toBe('READY');
    expect(await status(ownPreCrash)).toBe('READY');
    expect(await status(peers)).toBe('PROCESSING');
    expect(restarted.holds(peers)).toBe(false);
    await t.platform.db.prisma.datasetVersion.update({ where: { id: peers }, data: { status: 'FAILED' } });
  } finally {
    await restarted.close();
  }
});


test('multipart uploads in progress are listed page by page, at most objectsPerPass a pass, resuming after the last one', async () => {
  const pending = async () => {
    let n = 0;
    for await (const _ of t.platform.store.listMultipartUploads(`tenants/${tenant.id}/uploads/`)) n += 1;
    return n;
  };
  const before = await pending();
  // Uploads a crash left with no file row (CreateMultipartUpload done, the row's insert never happened).
  for (let i = 0; i < 5; i++) await t.platform.store.createMultipart(tenantKey(tenant.id, 'uploads', crypto.randomUUID()));
  expect(await pending()).toBe(before + 5);
  const perPass = 2;
  const r = new DatasetReconciler(t.platform.db.prisma, t.platform.store, { cleanupAbandoned: async () => 0, purgeDeleted: async () => undefined }, 60_000, log, { objectsPerPass: perPass });
  const later = new Date(Date.now() + 3_600_000);
  const aborted: number[] = [];
  for (let pass = 0; pass < 10 && (await pending()) > before; pass++) aborted.push((await r.run(later)).multipartUploads);
  for (const n of aborted) expect(n).toBeLessThanOrEqual(perPass);
  expect(aborted.reduce((a, b) => a + b, 0)).toBe(5);
  expect(await pending()).toBe(before);
});
