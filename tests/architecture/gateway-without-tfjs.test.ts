// The gateway process never loads TensorFlow.js: not at start-up, and not while it validates and queues an
// experiment (createExperiment used to load the trainer's task classes to check hyperparameters). Checked in a
// fresh process from its own require.cache; jest's registry of this worker would say nothing about a gateway.
import { loadedModulesAfter, packagesOf } from '../helpers/loaded-modules';

test('a started gateway, after a full createExperiment over GraphQL, has loaded no TensorFlow.js', async () => {
  const files = await loadedModulesAfter(`
    const tf = () => Object.keys(require.cache).filter((f) => f.includes('@tensorflow'));
    const { startTestPlatform } = require(root + '/tests/helpers/platform');
    const { createReadyDatasetVersion, tinySequenceJsonl } = require(root + '/tests/helpers/datasets');
    const t = await startTestPlatform('http');
    try {
      if (tf().length) throw new Error('TensorFlow.js loaded at start-up: ' + tf()[0]);
      const tenant = await t.seedTenant('no-tf');
      const v = await createReadyDatasetVersion(t.platform, tenant.id, [{ name: 'w.jsonl', content: tinySequenceJsonl(24, 8) }], { modality: 'SEQUENCE', length: 8, features: 2 });
      const input = { datasetVersionId: v.versionId, pretext: 'CONTRASTIVE', encoder: { kind: 'sequence', dim: 8, layers: 1 }, hyperparameters: { batchSize: 4, steps: 2, temperature: 0.2, projectionDim: 8 } };
      const ok = await t.exec('mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { run { id status } } }', { input }, { key: tenant.keys.MEMBER });
      if (!ok.body.data) throw new Error('createExperiment failed: ' + JSON.stringify(ok.body.errors));
      // The refusal path validates too (it used to be the one that needed the task classes).
      const bad = await t.exec('mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { run { id } } }', { input: { ...input, hyperparameters: { temperature: 0 } } }, { key: tenant.keys.MEMBER });
      if (bad.body.errors?.[0]?.extensions?.code !== 'BAD_USER_INPUT') throw new Error('expected BAD_USER_INPUT, got ' + JSON.stringify(bad.body));
    } finally {
      await t.close();
    }`, { DATABASE_URL: '' }); // embedded PGlite: the child owns its database and shares no rows with this run
  expect(packagesOf(files)).toEqual(expect.arrayContaining(['@apollo/server', '@prisma/client'])); // it did start a gateway
  expect(packagesOf(files).filter((p) => p.startsWith('@tensorflow/'))).toEqual([]);
}, 300_000); // a whole platform in a child process, on a machine that may be busy
