// Isolation cases for the dataset operations: tenant A owns a dataset with a READY version, an UPLOADING version
// holding an uploaded file and an in-flight multipart upload; tenant B aims every operation at them.
import type { IsolationCase } from '../helpers/isolation';
import type { SeededTenant, TestPlatform } from '../helpers/platform';
import { createDataset, createVersion, finalize, settledVersion, uploadFile } from '../helpers/datasets-api';

interface Fixture {
  tenantId: string;
  datasetId: string;
  datasetName: string;
  readyId: string;
  openId: string;
  fileId: string;
  multipartFileId: string;
  multipartEtag: string;
  usedBytes: string;
}

async function setup(t: TestPlatform, owner: SeededTenant): Promise<Fixture> {
  const key = owner.keys.MEMBER;
  const datasetName = `secret-${Math.random().toString(36).slice(2, 10)}`;
  const datasetId = await createDataset(t, key, 'TEXT', datasetName);
  const readyId = await createVersion(t, key, datasetId);
  await uploadFile(t, key, readyId, 'private-notes.txt', 'confidential line one\nconfidential line two\n');
  await finalize(t, key, readyId);
  const ready = await settledVersion(t, key, readyId);
  if (ready.status !== 'READY') throw new Error(`fixture version not READY: ${JSON.stringify(ready.error)}`);
  const openId = await createVersion(t, key, datasetId);
  const up = await uploadFile(t, key, openId, 'draft.txt', 'draft line\n');
  const mp = await t.exec(`mutation($i: StartMultipartUploadInput!) { startMultipartUpload(input: $i) { file { id } parts { url } } }`, { i: { versionId: openId, name: 'big.txt', bytes: 10 } }, { key });
  const put = await fetch(mp.body.data!.startMultipartUpload.parts[0].url, { method: 'PUT', body: '0123456789' });
  return {
    tenantId: owner.id,
    datasetId,
    datasetName,
    readyId,
    openId,
    fileId: up.body.data!.uploadDatasetFile.id,
    multipartFileId: mp.body.data!.startMultipartUpload.file.id,
    multipartEtag: put.headers.get('etag')!,
    usedBytes: String((await t.platform.services.datasets.uploads.remainingQuota(owner.id)).used),
  };
}

/** Everything of A's dataset that an operation could change: rows and the objects under A's prefix. */
async function snapshot(t: TestPlatform, f: Fixture) {
  const prisma = t.platform.db.prisma;
  const keys: string[] = [];
  for await (const o of t.platform.store.list(`tenants/${f.tenantId}/`)) keys.push(`${o.key}:${o.bytes}`);
  return {
    dataset: await prisma.dataset.findUnique({ where: { id: f.datasetId } }),
    versions: await prisma.datasetVersion.findMany({ where: { datasetId: f.datasetId }, orderBy: { version: 'asc' }, select: { id: true, status: true, stats: true } }),
    files: await prisma.datasetFile.findMany({ where: { tenantId: f.tenantId }, orderBy: { name: 'asc' }, select: { id: true, name: true, status: true, storageKey: true } }),
    keys: keys.sort(),
  };
}

const secrets = (f: Fixture) => [f.datasetName, 'private-notes', 'confidential', 'draft.txt'];

const base = { setup, snapshot, secrets, ownerRole: 'MEMBER' as const };

export const datasetCases: IsolationCase<Fixture>[] = [
  { ...base, field: 'Query.dataset', query: `query($id: ID!) { dataset(id: $id) { id name versions { id } } }`, variables: (f) => ({ id: f.datasetId }) },
  {
    ...base,
    field: 'Query.datasetVersion',
    query: `query($id: ID!) { datasetVersion(id: $id) { id files { name } stats { rows } preview { text } } }`,
    variables: (f) => ({ id: f.readyId }),
  },
  { ...base, field: 'Query.datasets', expect: 'filtered', query: `{ datasets { nodes { id name } } }`, variables: () => ({}) },
  {
    ...base,
    field: 'Query.storageUsage',
    expect: 'filtered',
    query: `{ storageUsage { usedBytes } }`,
    variables: () => ({}),
    // Only the owner's own usage figure may appear; the foreign tenant must see its own (zero) usage.
    secrets: (f) => [`"usedBytes":${f.usedBytes}`],
  },
  { ...base, field: 'Query.multipartUpload', query: `query($f: ID!) { multipartUpload(fileId: $f) { parts { url } } }`, variables: (f) => ({ f: f.multipartFileId }) },
  {
    ...base,
    field: 'Mutation.createDatasetVersion',
    query: `mutation($d: ID!) { createDatasetVersion(input: { datasetId: $d }) { id } }`,
    variables: (f) => ({ d: f.datasetId }),
  },
  {
    ...base,
    field: 'Mutation.uploadDatasetFile',
    query: '(multipart upload)',
    variables: () => ({}),
    send: (t, key, f) => uploadFile(t, key, f.openId, 'intruder.txt', 'planted line\n'),
  },
  {
    ...base,
    field: 'Mutation.startMultipartUpload',
    query: `mutation($v: ID!) { startMultipartUpload(input: { versionId: $v, name: "intruder.bin", bytes: 5 }) { file { id } } }`,
    variables: (f) => ({ v: f.openId }),
  },
  {
    ...base,
    field: 'Mutation.completeMultipartUpload',
    query: `mutation($f: ID!, $e: String!) { completeMultipartUpload(fileId: $f, parts: [{ partNumber: 1, etag: $e }]) { id } }`,
    variables: (f) => ({ f: f.multipartFileId, e: f.multipartEtag }),
  },
  { ...base, field: 'Mutation.abortMultipartUpload', query: `mutation($f: ID!) { abortMultipartUpload(fileId: $f) }`, variables: (f) => ({ f: f.multipartFileId }) },
  { ...base, field: 'Mutation.deleteDatasetFile', query: `mutation($f: ID!) { deleteDatasetFile(fileId: $f) }`, variables: (f) => ({ f: f.fileId }) },
  {
    ...base,
    // Without the in-flight multipart upload, so the owner's control call can finalize.
    setup: async (t, owner) => {
      const f = await setup(t, owner);
      await t.exec(`mutation($f: ID!) { abortMultipartUpload(fileId: $f) }`, { f: f.multipartFileId }, { key: owner.keys.MEMBER });
      return f;
    },
    field: 'Mutation.finalizeDatasetVersion',
    query: `mutation($id: ID!) { finalizeDatasetVersion(id: $id) { id } }`, variables: (f) => ({ id: f.openId }) },
  { ...base, field: 'Mutation.deleteDataset', query: `mutation($id: ID!) { deleteDataset(id: $id) }`, variables: (f) => ({ id: f.datasetId }) },
];
