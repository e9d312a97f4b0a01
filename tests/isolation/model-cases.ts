// Isolation cases for the model registry and serving: tenant A owns a trained model (version, alias) and an
// embedding space over one of its dataset versions; tenant B aims every operation at them by id and by name.
import type { IsolationCase } from '../helpers/isolation';
import type { SeededTenant, TestPlatform } from '../helpers/platform';
import { registerFineTunedClassifier, registerTrainedModel } from '../helpers/models';
import { tinyImages } from '../training/data/fixtures';
import { createDataset, createVersion, finalize, settledVersion, uploadFile } from '../helpers/datasets-api';
import { tinyTexts } from '../training/data/fixtures';

interface Fixture { tenantId: string; modelId: string; versionId: string; name: string; datasetVersionId: string; spaceId: string }

async function setup(t: TestPlatform, owner: SeededTenant): Promise<Fixture> {
  const texts = tinyTexts(16);
  const name = `private-model-${Math.random().toString(36).slice(2, 8)}`;
  const m = await registerTrainedModel(t, owner, { modality: 'TEXT', pretext: 'MASKED', rows: texts.rows, shape: texts.shape, name });
  m.result.model.dispose();
  m.result.heads.dispose();
  const key = owner.keys.MEMBER;
  const ds = await createDataset(t, key, 'TEXT');
  const dv = await createVersion(t, key, ds);
  await uploadFile(t, key, dv, 'rows.txt', texts.rows.map((r) => r.text).join('\n') + '\n');
  await finalize(t, key, dv);
  await settledVersion(t, key, dv);
  const space = await t.exec(`mutation($i: CreateEmbeddingSpaceInput!) { createEmbeddingSpace(input: $i) { id } }`, { i: { model: m.versionId, datasetVersionId: dv } }, { key });
  await t.platform.services.spaces.idle();
  await t.exec(`mutation($i: SetModelAliasInput!) { setModelAlias(input: $i) { alias } }`, { i: { modelId: m.modelId, alias: 'production', versionId: m.versionId } }, { key });
  return { tenantId: owner.id, modelId: m.modelId, versionId: m.versionId, name, datasetVersionId: dv, spaceId: space.body.data!.createEmbeddingSpace.id };
}

async function snapshot(t: TestPlatform, f: Fixture) {
  const prisma = t.platform.db.prisma;
  return {
    versions: await prisma.modelVersion.findMany({ where: { modelId: f.modelId }, select: { id: true, version: true } }),
    aliases: await prisma.modelAlias.findMany({ where: { modelId: f.modelId }, select: { alias: true, modelVersionId: true } }),
    spaces: await prisma.embeddingSpace.findMany({ where: { tenantId: f.tenantId }, select: { id: true, status: true, rows: true } }),
  };
}

const base = { setup, snapshot, secrets: (f: Fixture) => [f.name], ownerRole: 'MEMBER' as const };
const EMBED = `query($m: String!) { embed(model: $m, inputs: [{ text: "hello" }]) { dims modelVersion { id } } }`;

export const modelCases: IsolationCase<Fixture>[] = [
  { ...base, field: 'Query.models', expect: 'filtered', query: `{ models { id name } }`, variables: () => ({}) },
  { ...base, field: 'Query.model', query: `query($id: ID!) { model(id: $id) { id name } }`, variables: (f) => ({ id: f.modelId }) },
  { ...base, field: 'Query.modelVersion', query: `query($id: ID!) { modelVersion(id: $id) { id model { name } } }`, variables: (f) => ({ id: f.versionId }) },
  // By reference: a name is looked up only inside the caller's tenant.
  { ...base, field: 'Query.modelVersion', query: `query($id: ID!) { modelVersion(id: $id) { id } }`, variables: (f) => ({ id: `${f.name}@production` }), secrets: (f) => [f.versionId] },
  // By version id, and by the owner's model name: a name is looked up only inside the caller's tenant.
  { ...base, field: 'Query.embed', query: EMBED, variables: (f) => ({ m: f.versionId }) },
  { ...base, field: 'Query.embed', query: EMBED, variables: (f) => ({ m: `${f.name}@production` }), secrets: (f) => [f.versionId] },
  { ...base, field: 'Query.embeddingSpace', query: `query($id: ID!) { embeddingSpace(id: $id) { id rows } }`, variables: (f) => ({ id: f.spaceId }) },
  // The web console's map and row look-ups: a foreign space or version is NOT_FOUND; the list filters by tenant.
  { ...base, field: 'Query.embeddingSpaces', expect: 'filtered', query: `query($m: ID) { embeddingSpaces(modelVersionId: $m) { id } }`, variables: (f) => ({ m: f.versionId }), secrets: (f) => [f.spaceId] },
  { ...base, field: 'Query.embeddingProjection', query: `query($id: ID!) { embeddingProjection(spaceId: $id) { count coords } }`, variables: (f) => ({ id: f.spaceId }) },
  { ...base, field: 'Query.datasetRows', query: `query($v: ID!) { datasetRows(versionId: $v, rows: [0]) { index text } }`, variables: (f) => ({ v: f.datasetVersionId }) },
  {
    ...base,
    field: 'Query.similar',
    query: `query($m: String!, $d: ID!) { similar(input: { model: $m, datasetVersionId: $d, query: { text: "hello" }, k: 2 }) { neighbors { row } } }`,
    variables: (f) => ({ m: f.versionId, d: f.datasetVersionId }),
  },
  {
    ...base,
    field: 'Mutation.setModelAlias',
    query: `mutation($m: ID!, $v: ID!) { setModelAlias(input: { modelId: $m, alias: "staging", versionId: $v }) { alias } }`,
    variables: (f) => ({ m: f.modelId, v: f.versionId }),
  },
  {
    ...base,
    field: 'Mutation.createEmbeddingSpace',
    query: `mutation($m: String!, $d: ID!) { createEmbeddingSpace(input: { model: $m, datasetVersionId: $d }) { id } }`,
    variables: (f) => ({ m: f.versionId, d: f.datasetVersionId }),
  },
  {
    field: 'Query.predict',
    ownerRole: 'READER',
    setup: async (t, owner) => {
      const images = tinyImages(24, 7);
      const name = `private-classifier-${Math.random().toString(36).slice(2, 8)}`;
      const m = await registerFineTunedClassifier(t, owner, { rows: images.rows, shape: images.shape, name });
      return { tenantId: owner.id, modelId: m.modelId, versionId: m.versionId, name, datasetVersionId: '', spaceId: '' };
    },
    query: `query($m: String!, $img: String!) { predict(model: $m, inputs: [{ image: $img }]) { task labels predictions { label } } }`,
    variables: (f) => ({ m: f.versionId, img: TINY_PNG }),
    snapshot,
    secrets: (f) => [f.name],
  },
];

/** An 8×8 grey PNG (the fine-tuned classifier's input size). */
const TINY_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAD0lEQVQImWNowAEYhpYEAILzYAEeEbvlAAAAAElFTkSuQmCC';
