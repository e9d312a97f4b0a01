// Fault: the object store goes away for a while and comes back. Real parts: the platform's S3 adapter (the real
// @aws-sdk/client-s3 and lib-storage) against s3rver, a real S3-protocol server, as a child process on a loopback
// port; the outage is that process SIGKILLed, the return is a new s3rver on the same port and data folder. The
// database is the test database (Postgres with DATABASE_URL, else embedded PGlite).
//
// What must hold: while the store is away callers get a typed, retryable UNAVAILABLE error (after the SDK's own
// retries with backoff, never INTERNAL), /readyz says so, a finalized version waits instead of failing, and once the
// store returns the waiting work finishes and new work succeeds, with no row or object lost.
import { createDataset, createVersion, finalize, uploadFile } from '../helpers/datasets-api';
import { tinySequenceJsonl } from '../helpers/datasets';
import { startTestPlatform, type SeededTenant, type TestPlatform } from '../helpers/platform';
import { startRestartableS3rver, type RestartableS3rver } from './support/s3rver-process';
import { waitFor } from './support/wait';

jest.setTimeout(120_000);

let s3: RestartableS3rver;
let t: TestPlatform;
let tenant: SeededTenant;

beforeAll(async () => {
  s3 = await startRestartableS3rver();
  t = await startTestPlatform('http', s3.env);
  tenant = await t.seedTenant('outage');
});
afterAll(async () => {
  await t?.close();
  await s3?.close();
});

async function objectsUnder(prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const o of t.platform.store.list(prefix)) out.set(o.key, o.etag);
  return out;
}

const VERSION = `query($id: ID!) { datasetVersion(id: $id) { status stats { rows } files { name status } error { message } } }`;

it('an object-store outage: typed UNAVAILABLE errors after retries, finalized work waits, everything resumes when it returns', async () => {
  expect(t.platform.store.kind).toBe('s3');
  const key = tenant.keys.MEMBER;
  const prefix = `tenants/${tenant.id}/`;
  const datasetId = await createDataset(t, key, 'SEQUENCE');
  const shape = { sequence: { length: 16, features: 2 } };

  // Before the outage: one file stored, a second version with a file ready to be finalized during the outage.
  const first = await createVersion(t, key, datasetId, shape);
  expect((await uploadFile(t, key, first, 'a.jsonl', tinySequenceJsonl(24, 16, 1))).body.errors).toBeUndefined();
  const pending = await createVersion(t, key, datasetId, shape);
  expect((await uploadFile(t, key, pending, 'b.jsonl', tinySequenceJsonl(32, 16, 2))).body.errors).toBeUndefined();
  const objectsBefore = await objectsUnder(prefix);
  const fileRowsBefore = await t.platform.db.prisma.datasetFile.findMany({ where: { tenantId: tenant.id }, select: { id: true, storageKey: true } });
  expect(fileRowsBefore).toHaveLength(2);

  let faults = 0;
  await s3.kill();
  faults += 1;

  // Uploads are refused with a typed, retryable error once the adapter's retries are spent.
  const refused = await uploadFile(t, key, first, 'during-outage.jsonl', tinySequenceJsonl(8, 16, 3));
  expect(refused.body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAVAILABLE']);
  const ext = refused.body.errors![0]!.extensions!;
  expect(ext.retryAfterSeconds).toBeGreaterThan(0);
  expect(ext.attempts).toBeGreaterThan(1); // the SDK retried (standard strategy, exponential backoff) before giving up
  expect(refused.body.errors![0]!.message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/); // no internals leak
  const ready = await fetch(`${t.url}/readyz`);
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { checks: Record<string, string> }).checks.database).toBe('ok');

  // Finalizing needs only the database; processing then meets the outage and waits (PROCESSING, not FAILED).
  const fin = await finalize(t, key, pending);
  expect(fin.body.errors).toBeUndefined();
  await waitFor(() => t.platform.services.datasets.processor.waitingForStore > 0, 20_000, 'processing to wait for the store');
  const waiting = await t.exec(VERSION, { id: pending }, { key });
  expect(waiting.body.data!.datasetVersion.status).toBe('PROCESSING');

  await s3.start();
  // The processor's backoff retry picks the version up by itself.
  await waitFor(
    async () => (await t.exec(VERSION, { id: pending }, { key })).body.data!.datasetVersion.status !== 'PROCESSING',
    60_000,
    'the waiting version to finish processing',
  );
  const done = (await t.exec(VERSION, { id: pending }, { key })).body.data!.datasetVersion;
  expect(done.error).toBeNull();
  expect(done).toMatchObject({ status: 'READY', stats: { rows: 32 } });
  expect((await fetch(`${t.url}/readyz`)).status).toBe(200);

  // New work succeeds again, and the refused upload left nothing behind.
  const again = await uploadFile(t, key, first, 'after-outage.jsonl', tinySequenceJsonl(8, 16, 3));
  expect(again.body.errors).toBeUndefined();
  const files = await t.platform.db.prisma.datasetFile.findMany({ where: { tenantId: tenant.id } });
  expect(files.map((f) => f.name).sort()).toEqual(['a.jsonl', 'after-outage.jsonl', 'b.jsonl']);

  // Nothing lost: every object stored before the outage is still there, unchanged; every file row has its object.
  const objectsAfter = await objectsUnder(prefix);
  const lostObjects = [...objectsBefore].filter(([k, etag]) => objectsAfter.get(k) !== etag).length;
  const lostRows = fileRowsBefore.filter((r) => !files.some((f) => f.id === r.id)).length;
  let missingObjects = 0;
  for (const f of files) if (!(await t.platform.store.head(f.storageKey))) missingObjects += 1;
  expect(await t.platform.store.head(`${prefix}datasets/${datasetId}/versions/${pending}/manifest.json`)).not.toBeNull();
  expect([...objectsAfter.keys()].filter((k) => k.includes('/tmp/'))).toEqual([]);
  // eslint-disable-next-line no-console
  console.log(
    `[faults] object-store outage: faults injected ${faults}, refused attempts ${String(ext.attempts)}, rows lost ${lostRows}, objects lost ${lostObjects + missingObjects}`,
  );
  expect(lostObjects + missingObjects).toBe(0);
  expect(lostRows).toBe(0);
});
