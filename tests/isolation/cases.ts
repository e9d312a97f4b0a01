// Every tenant-scoped operation, with a resource of tenant A to aim it at. Later issues add their operations
// here; tests/isolation/isolation.test.ts fails when a READER/MEMBER/ADMIN field is neither listed nor exempted.
import type { IsolationCase } from '../helpers/isolation';
import { datasetCases } from './dataset-cases';
import { modelCases } from './model-cases';
import { fineTuneCases } from './finetune-cases';
import type { SeededTenant, TestPlatform } from '../helpers/platform';
import { createReadyDatasetVersion, tinySequenceJsonl } from '../helpers/datasets';

async function ownKey(t: TestPlatform, owner: SeededTenant): Promise<{ id: string; prefix: string; name: string }> {
  const name = `victim-${Math.random().toString(36).slice(2)}`;
  const res = await t.exec(`mutation($n: String!) { createApiKey(input: { name: $n, role: READER }) { apiKey { id prefix } } }`, { n: name }, { key: owner.keys.ADMIN });
  const k = res.body.data!.createApiKey.apiKey as { id: string; prefix: string };
  return { ...k, name };
}

/** Experiments and runs: a READY dataset version and one experiment with its QUEUED run (no worker runs here). */
async function ownRun(t: TestPlatform, owner: SeededTenant, opts: { cancelled?: boolean } = {}): Promise<{ experimentId: string; runId: string; name: string }> {
  const v = await createReadyDatasetVersion(t.platform, owner.id, [{ name: 'waves.jsonl', content: tinySequenceJsonl(24, 8) }], { modality: 'SEQUENCE', length: 8, features: 2 });
  const name = `exp-${Math.random().toString(36).slice(2)}`;
  const res = await t.exec(
    `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { experiment { id } run { id } } }`,
    { input: { name, datasetVersionId: v.versionId, pretext: 'MASKED', encoder: { kind: 'sequence', dim: 8, layers: 1 }, hyperparameters: { batchSize: 4, steps: 2 } } },
    { key: owner.keys.MEMBER },
  );
  if (!res.body.data) throw new Error(`createExperiment failed: ${JSON.stringify(res.body.errors)}`);
  const out = { experimentId: res.body.data.createExperiment.experiment.id as string, runId: res.body.data.createExperiment.run.id as string, name };
  if (opts.cancelled) await t.exec(`mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: out.runId }, { key: owner.keys.MEMBER });
  return out;
}

const runRow = (t: TestPlatform, id: string) => t.platform.db.prisma.run.findUniqueOrThrow({ where: { id } });

const keyRow = (t: TestPlatform, id: string) => t.platform.db.prisma.apiKey.findUniqueOrThrow({ where: { id } });

export const isolationCases: IsolationCase<any>[] = [
  ...datasetCases,
  ...modelCases,
  ...fineTuneCases,
  {
    field: 'Mutation.revokeApiKey',
    setup: ownKey,
    query: `mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id name revokedAt } } }`,
    variables: (k) => ({ id: k.id }),
    snapshot: (t, k) => keyRow(t, k.id),
    secrets: (k) => [k.name, k.prefix],
  },
  {
    field: 'Query.apiKey',
    setup: ownKey,
    query: `query($id: ID!) { apiKey(id: $id) { id name prefix } }`,
    variables: (k) => ({ id: k.id }),
    snapshot: (t, k) => keyRow(t, k.id),
    secrets: (k) => [k.name, k.prefix],
  },
  {
    field: 'Query.apiKeys',
    expect: 'filtered',
    setup: ownKey,
    query: `query { apiKeys(includeRevoked: true) { id name prefix } }`,
    variables: () => ({}),
    snapshot: (t, k) => keyRow(t, k.id),
    secrets: (k) => [k.id, k.name, k.prefix],
  },
  // --- Experiments and runs ---
  {
    field: 'Query.experiment',
    setup: (t, o) => ownRun(t, o),
    query: `query($id: ID!) { experiment(id: $id) { id name runs { id } } }`,
    variables: (r) => ({ id: r.experimentId }),
    snapshot: (t, r) => runRow(t, r.runId),
    secrets: (r) => [r.name, r.runId],
  },
  {
    field: 'Query.experiments',
    expect: 'filtered',
    setup: (t, o) => ownRun(t, o),
    query: `query { experiments(first: 100) { nodes { id name } } }`,
    variables: () => ({}),
    snapshot: (t, r) => runRow(t, r.runId),
    secrets: (r) => [r.experimentId, r.name],
  },
  {
    field: 'Query.run',
    setup: (t, o) => ownRun(t, o),
    query: `query($id: ID!) { run(id: $id) { id status experimentId logs { message } metrics { value } } }`,
    variables: (r) => ({ id: r.runId }),
    snapshot: (t, r) => runRow(t, r.runId),
    secrets: (r) => [r.experimentId],
  },
  {
    field: 'Query.runs',
    expect: 'filtered',
    setup: (t, o) => ownRun(t, o),
    query: `query { runs(first: 100) { nodes { id experimentId } } }`,
    variables: () => ({}),
    snapshot: (t, r) => runRow(t, r.runId),
    secrets: (r) => [r.runId, r.experimentId],
  },
  {
    field: 'Mutation.cancelRun',
    setup: (t, o) => ownRun(t, o),
    query: `mutation($id: ID!) { cancelRun(id: $id) { id status experimentId } }`,
    variables: (r) => ({ id: r.runId }),
    snapshot: (t, r) => runRow(t, r.runId),
    secrets: (r) => [r.experimentId],
  },
  {
    field: 'Mutation.retryRun',
    setup: (t, o) => ownRun(t, o, { cancelled: true }),
    query: `mutation($id: ID!) { retryRun(id: $id) { id status experimentId } }`,
    variables: (r) => ({ id: r.runId }),
    snapshot: (t, r) => runRow(t, r.runId),
    secrets: (r) => [r.experimentId],
  },
  {
    // Aimed at another tenant's dataset version: NOT_FOUND, and no experiment or run is created for anyone.
    field: 'Mutation.createExperiment',
    setup: async (t, o) => createReadyDatasetVersion(t.platform, o.id, [{ name: 'waves.jsonl', content: tinySequenceJsonl(24, 8) }], { modality: 'SEQUENCE', length: 8, features: 2 }),
    ownerRole: 'MEMBER',
    query: `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { experiment { id datasetVersionId } run { id } } }`,
    variables: (v) => ({ input: { datasetVersionId: v.versionId, pretext: 'MASKED', encoder: { kind: 'sequence', dim: 8, layers: 1 }, hyperparameters: { batchSize: 4, steps: 2 } } }),
    snapshot: (t, v) => t.platform.db.prisma.experiment.count({ where: { datasetVersionId: v.versionId } }),
    secrets: (v) => [v.manifestKey],
  },
];

/**
 * Tenant-role fields that take no resource of another tenant, with the reason. They act on the caller's own
 * tenant by construction (the tenant comes from the key, never from an argument).
 */
export const notResourceScoped: Record<string, string> = {
  'Mutation.createDataset': 'creates a dataset in the caller’s own tenant; no tenant or resource argument',
  'Mutation.createApiKey': 'creates a key in the caller’s own tenant; no tenant or resource argument',
  'Query.usage': 'meters the caller’s own tenant; no tenant or resource argument',
};
