// Dataset API helpers for tests: GraphQL calls for the common steps and a GraphQL multipart upload (the spec's
// operations/map/file form fields) sent with Node's own fetch + FormData to the real HTTP server.
import type { GqlResponse, TestPlatform } from './platform';

export const VERSION_FIELDS = `id version status shape datasetId
  files { id name bytes sha256 status }
  stats { rows bytes splits { train validation test } labels labelHistogram { label count } features characters tokens shards }
  error { message truncated problems { file line row entry code message } }`;

export async function createDataset(t: TestPlatform, key: string, modality: 'TEXT' | 'IMAGE' | 'SEQUENCE', name = `ds-${Math.random().toString(36).slice(2, 10)}`): Promise<string> {
  const res = await t.exec(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, { i: { name, modality } }, { key });
  if (!res.body.data) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.createDataset.id;
}

export async function createVersion(t: TestPlatform, key: string, datasetId: string, shape: Record<string, unknown> = {}): Promise<string> {
  const res = await t.exec(`mutation($i: CreateDatasetVersionInput!) { createDatasetVersion(input: $i) { id status } }`, { i: { datasetId, ...shape } }, { key });
  if (!res.body.data) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.createDatasetVersion.id;
}

export async function uploadFile(t: TestPlatform, key: string, versionId: string, name: string, content: Buffer | string): Promise<GqlResponse> {
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({
      query: 'mutation($v: ID!, $f: Upload!, $n: String) { uploadDatasetFile(versionId: $v, file: $f, name: $n) { id name bytes sha256 status } }',
      variables: { v: versionId, f: null, n: name },
    }),
  );
  form.append('map', JSON.stringify({ 0: ['variables.f'] }));
  form.append('0', new Blob([typeof content === 'string' ? Buffer.from(content) : content]), name.split('/').pop());
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${key}`, 'apollo-require-preflight': 'true' },
  });
  return { status: res.status, body: (await res.json()) as GqlResponse['body'] };
}

export async function finalize(t: TestPlatform, key: string, versionId: string): Promise<GqlResponse> {
  return t.exec(`mutation($id: ID!) { finalizeDatasetVersion(id: $id) { id status } }`, { id: versionId }, { key });
}

/** Waits for processing to finish (the processor's own completion signal), then reads the version. */
export async function settledVersion(t: TestPlatform, key: string, versionId: string): Promise<Record<string, any>> {
  await t.platform.services.datasets.processor.idle();
  const res = await t.exec(`query($id: ID!) { datasetVersion(id: $id) { ${VERSION_FIELDS} } }`, { id: versionId }, { key });
  if (!res.body.data) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.datasetVersion;
}

/** Every object key under a prefix of the platform's store. */
export async function keysUnder(t: TestPlatform, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of t.platform.store.list(prefix)) out.push(o.key);
  return out;
}
