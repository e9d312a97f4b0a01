// Fault: the gateway process killed with SIGKILL mid-upload and mid-finalize, then started again against the same
// database and object store. Real parts: the `pretext serve` entry as a child process (tsx, no build), its local
// object store in a shared data folder, and the database outside it (Postgres with DATABASE_URL; otherwise an
// embedded PGlite served over its socket by this test process, so that it survives the gateway like a server does).
// The gateway's own worker tick runs the dataset reconciler (ABANDONED_UPLOAD_HOURS shrinks its window to ~2 s).
//
// What must hold after the restarts and a reconciler pass: no orphaned rows (UPLOADING files of abandoned uploads,
// versions stuck PROCESSING) and no orphaned objects (temporaries, multipart targets and parts, unreferenced blobs,
// shards of versions that are not READY); every file acknowledged before a kill is still there with its object.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { openDatabase, type Database } from '../../src/db';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded';
import { createObjectStore, type ObjectStore } from '../../src/storage';
import { tinySequenceJsonl } from '../helpers/datasets';
import { createOwnDatabase, type OwnDatabase } from '../helpers/own-database';
import { startGatewayProcess, type GatewayProcess } from './support/gateway-process';
import { waitFor } from './support/wait';

jest.setTimeout(180_000);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-crash-'));
const operatorKey = `op_${crypto.randomBytes(24).toString('hex')}`;
let pg: EmbeddedPostgres | undefined;
let own: OwnDatabase | undefined;
let env: Record<string, string>;
let db: Database;
let store: ObjectStore;
let gw: GatewayProcess | undefined;
let faults = 0;
/** Gateways started so far (their logs count the reconciler's removals across restarts). */
const gateways: GatewayProcess[] = [];

beforeAll(async () => {
  // The gateways' workers recover and reconcile every tenant's rows: on a server, a database of this file's own.
  own = process.env.DATABASE_URL ? await createOwnDatabase(process.env.DATABASE_URL, 'pretext_crash') : undefined;
  let url = own?.url;
  if (!url) {
    pg = await startEmbeddedPostgres({ dataDir: 'memory://', maxConnections: 16 });
    url = pg.url;
  }
  env = {
    DATABASE_URL: url,
    // PGlite's socket server multiplexes one session: one connection per process keeps queries from interleaving.
    ...(pg ? { DATABASE_POOL_SIZE: '1' } : {}),
    PRETEXT_DATA_DIR: dataDir,
    PRETEXT_ADMIN_KEY: operatorKey,
    RUN_WORKER: 'true',
    WORKER_POLL_MS: '200',
    ABANDONED_UPLOAD_HOURS: '0.0006', // ~2.2 s: the abandoned-upload window and the reconciler's grace and period
    MULTIPART_PART_BYTES: String(5 * 2 ** 20),
    // Bounded passes: the orphans are found by several passes, each resuming where the previous one stopped.
    RECONCILE_OBJECTS_PER_PASS: '1',
  };
  const config = loadConfig({ NODE_ENV: 'test', ...env });
  db = await openDatabase(pg ? { ...config.database, poolSize: 1 } : config.database);
  store = createObjectStore(config.storage, { signingSecret: 'unused-here', publicUrl: () => 'http://127.0.0.1' });
});
afterAll(async () => {
  await gw?.kill();
  await db?.close();
  await pg?.stop();
  await own?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function gql(query: string, variables: Record<string, unknown>, key: string): Promise<Record<string, any>> {
  const res = await fetch(`${gw!.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
  if (!body.data || body.errors) throw new Error(`GraphQL failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** A GraphQL multipart upload whose file part is sent in two halves; resolves once the first half is written. */
function startSlowUpload(key: string, versionId: string, name: string, content: Buffer): { firstHalfSent: Promise<void>; finish(): void; done: Promise<unknown> } {
  const boundary = `----crash${crypto.randomBytes(8).toString('hex')}`;
  const ops = JSON.stringify({ query: 'mutation($v: ID!, $f: Upload!) { uploadDatasetFile(versionId: $v, file: $f) { id } }', variables: { v: versionId, f: null } });
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${ops}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.f"]}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const u = new URL(`${gw!.url}/graphql`);
  const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'apollo-require-preflight': 'true', authorization: `Bearer ${key}` } });
  const done = new Promise((resolve) => {
    req.on('response', (r) => r.resume().on('end', resolve));
    req.on('error', resolve); // the kill resets the connection: that is the point
  });
  const half = Math.floor(content.length / 2);
  const firstHalfSent = new Promise<void>((resolve) => req.write(Buffer.concat([head, content.subarray(0, half)]), () => resolve()));
  return { firstHalfSent, finish: () => req.end(Buffer.concat([content.subarray(half), tail])), done };
}

/** Everything that would be an orphan or a loss for one tenant, by kind (all zero when the state is clean). */
async function audit(tenantId: string, acknowledged: Array<{ id: string }>): Promise<Record<string, number>> {
  const prisma = db.prisma;
  const files = await prisma.datasetFile.findMany({ where: { tenantId } });
  const versions = await prisma.datasetVersion.findMany({ where: { tenantId } });
  const ready = new Set(versions.filter((v) => v.status === 'READY').map((v) => v.id));
  const blobKeys = new Set(files.filter((f) => f.status === 'UPLOADED').map((f) => f.storageKey));
  const out = { uploadingRows: 0, processingVersions: 0, orphanObjects: 0, multipartUploads: 0, missingObjects: 0, missingManifests: 0, lostRows: 0, storeTempFiles: 0 };
  out.uploadingRows = files.filter((f) => f.status === 'UPLOADING').length;
  out.processingVersions = versions.filter((v) => v.status === 'PROCESSING').length;
  for await (const o of store.list(`tenants/${tenantId}/`)) {
    const shard = /\/versions\/([0-9a-f-]{36})\//.exec(o.key);
    const ok = blobKeys.has(o.key) || (shard !== null && ready.has(shard[1]!));
    if (!ok) out.orphanObjects += 1;
  }
  out.multipartUploads = 0;
  for await (const _ of store.listMultipartUploads(`tenants/${tenantId}/`)) out.multipartUploads += 1;
  for (const f of files) if (f.status === 'UPLOADED' && !(await store.head(f.storageKey))) out.missingObjects += 1;
  for (const v of versions) if (v.status === 'READY' && (!v.manifestKey || !(await store.head(v.manifestKey)))) out.missingManifests += 1;
  out.lostRows = acknowledged.filter((a) => !files.some((f) => f.id === a.id)).length;
  // The local adapter writes through its own temp folder: a kill mid-write must not leave files there for ever.
  const tmpDir = path.join(dataDir, 'objects', '.tmp');
  out.storeTempFiles = fs.existsSync(tmpDir) ? fs.readdirSync(tmpDir).length : 0;
  return out;
}

const reconcilerPasses = (g: GatewayProcess) => g.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('dataset reconciler')).length;
const reconcilerRemoved = (g: GatewayProcess) =>
  g.logs.filter((l) => l.msg === 'dataset reconciler removed orphans').reduce((s, l) => s + Number(l.abandonedUploads ?? 0) + Number(l.tmpObjects ?? 0) + Number(l.multipartObjects ?? 0) + Number(l.blobs ?? 0) + Number(l.shardObjects ?? 0) + Number(l.multipartUploads ?? 0) + Number(l.storeTemporaries ?? 0), 0);

it('SIGKILL mid-upload, mid-multipart and mid-finalize, then restarts: nothing orphaned after a reconciler pass, nothing lost', async () => {
  gw = await startGatewayProcess(env);
  gateways.push(gw);
  const created = await gql(`mutation($n: String!) { createTenant(input: { name: $n }) { tenant { id } adminKey } }`, { n: `crash-${crypto.randomBytes(4).toString('hex')}` }, operatorKey);
  const tenantId = created.createTenant.tenant.id as string;
  const key = created.createTenant.adminKey as string;
  const datasetId = (await gql(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, { i: { name: 'waves', modality: 'SEQUENCE' } }, key)).createDataset.id as string;
  const newVersion = async () =>
    (await gql(`mutation($i: CreateDatasetVersionInput!) { createDatasetVersion(input: $i) { id } }`, { i: { datasetId, sequence: { length: 16, features: 2 } } }, key)).createDatasetVersion.id as string;

  // 1. A file acknowledged before any kill (must survive everything), then SIGKILL while a second streams in.
  const v1 = await newVersion();
  const acknowledged: Array<{ id: string }> = [];
  const small = Buffer.from(tinySequenceJsonl(40, 16, 1));
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: 'mutation($v: ID!, $f: Upload!) { uploadDatasetFile(versionId: $v, file: $f) { id } }', variables: { v: v1, f: null } }));
  form.append('map', JSON.stringify({ 0: ['variables.f'] }));
  form.append('0', new Blob([small]), 'kept.jsonl');
  const kept = (await (await fetch(`${gw.url}/graphql`, { method: 'POST', body: form, headers: { authorization: `Bearer ${key}`, 'apollo-require-preflight': 'true' } })).json()) as { data: { uploadDatasetFile: { id: string } } };
  acknowledged.push(kept.data.uploadDatasetFile);
  const big = Buffer.from(tinySequenceJsonl(4000, 16, 2));
  const slow = startSlowUpload(key, v1, 'interrupted.jsonl', big);
  await slow.firstHalfSent;
  // The gateway is now streaming the upload into the store: kill it before the rest arrives.
  await waitFor(() => fs.readdirSync(path.join(dataDir, 'objects', '.tmp')).length > 0, 20_000, 'the streamed upload to reach the store');
  await gw.kill();
  faults += 1;
  await slow.done;

  // 2. Restart; a presigned multipart upload gets one of its two parts, then SIGKILL before completion.
  gw = await startGatewayProcess(env);
  gateways.push(gw);
  const mp = (
    await gql(
      `mutation($i: StartMultipartUploadInput!) { startMultipartUpload(input: $i) { file { id } partSize partCount parts { partNumber url } } }`,
      { i: { versionId: v1, name: 'multipart.jsonl', bytes: String(6 * 2 ** 20) } },
      key,
    )
  ).startMultipartUpload;
  expect(mp.partCount).toBe(2);
  const part = await fetch(mp.parts[0].url, { method: 'PUT', body: Buffer.alloc(Number(mp.partSize), 0x61) });
  expect(part.ok).toBe(true);
  await gw.kill();
  faults += 1;

  // 3. Restart; finalize a version with a larger file and SIGKILL while it is being processed.
  gw = await startGatewayProcess(env);
  gateways.push(gw);
  const v2 = await newVersion();
  const form2 = new FormData();
  form2.append('operations', JSON.stringify({ query: 'mutation($v: ID!, $f: Upload!) { uploadDatasetFile(versionId: $v, file: $f) { id } }', variables: { v: v2, f: null } }));
  form2.append('map', JSON.stringify({ 0: ['variables.f'] }));
  form2.append('0', new Blob([big]), 'waves.jsonl');
  const up2 = (await (await fetch(`${gw.url}/graphql`, { method: 'POST', body: form2, headers: { authorization: `Bearer ${key}`, 'apollo-require-preflight': 'true' } })).json()) as { data: { uploadDatasetFile: { id: string } } };
  acknowledged.push(up2.data.uploadDatasetFile);
  const fin = await gql(`mutation($id: ID!) { finalizeDatasetVersion(id: $id) { status } }`, { id: v2 }, key);
  expect(fin.finalizeDatasetVersion.status).toBe('PROCESSING');
  await gw.kill();
  faults += 1;
  const processingAtKill = (await db.prisma.datasetVersion.findUniqueOrThrow({ where: { id: v2 } })).status;

  // 4. Restart: recovery finishes the version; the worker tick's reconciler removes what the kills left behind.
  gw = await startGatewayProcess(env);
  gateways.push(gw);
  const final = gw;
  let last: Record<string, number> = {};
  await waitFor(
    async () => {
      last = await audit(tenantId, acknowledged);
      return Object.values(last).every((n) => n === 0) && reconcilerPasses(final) > 0;
    },
    60_000,
    'a clean state after recovery and a reconciler pass',
    300,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last audit ${JSON.stringify(last)}`);
  });
  const v2Row = await db.prisma.datasetVersion.findUniqueOrThrow({ where: { id: v2 } });
  expect(v2Row.status).toBe('READY');
  expect((v2Row.stats as { rows?: number }).rows).toBe(4000);
  const names = (await db.prisma.datasetFile.findMany({ where: { tenantId } })).map((f) => f.name).sort();
  expect(names).toEqual(['kept.jsonl', 'waves.jsonl']);
  const lost = last.lostRows! + last.missingObjects! + last.missingManifests!;
  // Every pass stayed within its budget; the cursor carried the later passes on from where the earlier ones stopped.
  const passes = gateways.flatMap((g) => g.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('dataset reconciler')));
  expect(passes.every((l) => Number(l.scanned) <= 1)).toBe(true);
  expect(passes.some((l) => l.wrapped === false)).toBe(true);
  // eslint-disable-next-line no-console
  console.log(
    `[faults] gateway SIGKILL: faults injected ${faults} (mid-stream upload, mid-multipart, mid-finalize with the version ${processingAtKill}), ` +
      `orphans removed by the reconciler ${gateways.reduce((n, g) => n + reconcilerRemoved(g), 0)} over ${gateways.length} gateway starts (${passes.length} passes of ≤ 1 object, ${passes.filter((l) => l.wrapped === false).length} resumed by the next), orphans left ${last.orphanObjects! + last.uploadingRows! + last.multipartUploads! + last.storeTempFiles!}, rows/objects lost ${lost}`,
  );
  expect(lost).toBe(0);
});
