// Isolation cases for fine-tuning: tenant A owns a fine-tunable model version and a labeled dataset version;
// tenant B aims createFineTune at them (by version id and by A's model name). B must get NOT_FOUND or FORBIDDEN,
// A's runs and versions must not change, and A's own call must queue a run (the control).
import type { IsolationCase } from '../helpers/isolation';
import type { SeededTenant, TestPlatform } from '../helpers/platform';
import { registerFineTunableModel } from '../helpers/models';

interface Fixture { tenantId: string; modelId: string; versionId: string; name: string; datasetVersionId: string }

async function setup(t: TestPlatform, owner: SeededTenant): Promise<Fixture> {
  const name = `ft-base-${Math.random().toString(36).slice(2, 8)}`;
  const m = await registerFineTunableModel(t, owner, { name });
  m.result.model.dispose();
  m.result.heads.dispose();
  return { tenantId: owner.id, modelId: m.modelId, versionId: m.versionId, name, datasetVersionId: m.datasetVersionId };
}

async function snapshot(t: TestPlatform, f: Fixture) {
  const prisma = t.platform.db.prisma;
  return {
    runs: await prisma.run.findMany({ where: { tenantId: f.tenantId }, select: { id: true, status: true } }),
    versions: await prisma.modelVersion.findMany({ where: { modelId: f.modelId }, select: { id: true, version: true } }),
  };
}

const CREATE = `mutation($i: CreateFineTuneInput!) { createFineTune(input: $i) { id kind status baseModelVersionId } }`;
const base = { setup, snapshot, ownerRole: 'MEMBER' as const, query: CREATE, field: 'Mutation.createFineTune' };
const input = (model: string, f: Fixture) => ({ i: { model, datasetVersionId: f.datasetVersionId, task: 'CLASSIFICATION', mode: 'LINEAR_PROBE' } });

export const fineTuneCases: IsolationCase<Fixture>[] = [
  { ...base, variables: (f) => input(f.versionId, f), secrets: (f) => [f.name, f.modelId] },
  // An echoed reference is the caller's own input; what must not leak is anything it did not send.
  { ...base, variables: (f) => input(f.name, f), secrets: (f) => [f.versionId, f.modelId] },
  { ...base, variables: (f) => input(f.modelId, f), secrets: (f) => [f.name, f.versionId] },
];
