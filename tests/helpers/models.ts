// Registers a really trained model version for API tests: a few real training steps (tfjs, wasm) through the
// trainer, export to ONNX, artifacts in the platform's object store, Model + ModelVersion rows as the run-completion
// path writes them. Returns the trained tfjs model too, so tests can compare served embeddings with its own output.
import crypto from 'node:crypto';
import type { Row, RowShape } from '../../src/ingest/types';
import { exportOnnx } from '../../src/models/onnx';
import { embeddingDim } from '../../src/models/spec';
import { train, type TrainConfig, type TrainResult } from '../../src/training/trainer';
import { tenantKey } from '../../src/storage';
import type { SeededTenant, TestPlatform } from './platform';

export interface RegisteredTestModel {
  modelId: string;
  versionId: string;
  name: string;
  result: TrainResult;
}

export async function registerTrainedModel(
  t: TestPlatform,
  tenant: SeededTenant,
  opts: { modality: 'TEXT' | 'IMAGE' | 'SEQUENCE'; pretext: TrainConfig['pretext']; rows: Row[]; shape: RowShape; name?: string; evaluation?: Record<string, number | string> },
): Promise<RegisteredTestModel> {
  const result = await train(
    { modality: opts.modality, pretext: opts.pretext, shape: opts.shape, batchSize: 8, steps: 3, dim: 16, layers: 1, maxLength: 16, vocabSize: 120, backend: 'wasm', seed: 3 },
    { data: opts.rows },
  );
  const name = opts.name ?? `m-${crypto.randomBytes(4).toString('hex')}`;
  const prefix = ['models', name, crypto.randomUUID()];
  const onnxKey = tenantKey(tenant.id, ...prefix, 'model.onnx');
  await t.platform.store.put(onnxKey, Buffer.from(exportOnnx(result.spec, result.model.getWeights())));
  const tokenizerJson = result.tokenizer?.toJSON();
  const tokenizerKey = tokenizerJson ? tenantKey(tenant.id, ...prefix, 'tokenizer.json') : null;
  if (tokenizerKey) await t.platform.store.put(tokenizerKey, tokenizerJson!);
  const prisma = t.platform.db.prisma;
  const model =
    (await prisma.model.findFirst({ where: { tenantId: tenant.id, name } })) ??
    (await prisma.model.create({ data: { tenantId: tenant.id, name, modality: opts.modality } }));
  const last = await prisma.modelVersion.findFirst({ where: { modelId: model.id }, orderBy: { version: 'desc' } });
  const version = await prisma.modelVersion.create({
    data: {
      tenantId: tenant.id,
      modelId: model.id,
      version: (last?.version ?? 0) + 1,
      onnxKey,
      tokenizerKey,
      inputSpec: { spec: result.spec, preprocess: { modality: opts.modality, ...(result.normalization ? { normalization: result.normalization } : {}) } } as never,
      embeddingDim: embeddingDim(result.spec),
      ...(opts.evaluation ? { evaluation: opts.evaluation } : {}),
    },
  });
  return { modelId: model.id, versionId: version.id, name, result };
}

/** A fine-tuned classifier version (pretrained encoder + linear-probe head), registered with its label set. */
export async function registerFineTunedClassifier(
  t: TestPlatform,
  tenant: SeededTenant,
  opts: { rows: Row[]; shape: RowShape; name: string },
): Promise<{ modelId: string; versionId: string; baseVersionId: string; labels: string[]; spec: import('../../src/models/spec').ModelSpec; weights: import('../../src/training/encoders/params').NamedWeights }> {
  const { fineTune } = await import('../../src/training/finetune');
  const base = await registerTrainedModel(t, tenant, { modality: 'IMAGE', pretext: 'CONTRASTIVE', rows: opts.rows, shape: opts.shape, name: `${opts.name}-base` });
  const rows = opts.rows.map((r, i) => ({ ...r, split: i % 4 === 3 ? ('test' as const) : ('train' as const) }));
  const ft = await fineTune({ base: { spec: base.result.spec, weights: base.result.model.getWeights() }, rows, task: 'CLASSIFICATION', mode: 'LINEAR_PROBE', seed: 1 });
  base.result.model.dispose();
  base.result.heads.dispose();
  const onnxKey = tenantKey(tenant.id, 'models', opts.name, crypto.randomUUID(), 'model.onnx');
  await t.platform.store.put(onnxKey, Buffer.from(exportOnnx(ft.spec, ft.weights, { includeHead: true })));
  const prisma = t.platform.db.prisma;
  const model = await prisma.model.create({ data: { tenantId: tenant.id, name: opts.name, modality: 'IMAGE' } });
  const v = await prisma.modelVersion.create({
    data: {
      tenantId: tenant.id,
      modelId: model.id,
      version: 1,
      parentVersionId: base.versionId,
      onnxKey,
      inputSpec: { spec: ft.spec, preprocess: { modality: 'IMAGE' } } as never,
      embeddingDim: embeddingDim(ft.spec),
      head: { task: 'CLASSIFICATION', labels: ft.labels } as never,
      evaluation: (ft.evaluation ?? undefined) as never,
    },
  });
  return { modelId: model.id, versionId: v.id, baseVersionId: base.versionId, labels: ft.labels!, spec: ft.spec, weights: ft.weights };
}

/**
 * A version that can be fine-tuned: a really trained SEQUENCE encoder whose weights file is stored beside its ONNX
 * graph (as the trainer task stores them), plus a READY labeled dataset version of the same shape.
 */
export async function registerFineTunableModel(
  t: TestPlatform,
  tenant: SeededTenant,
  opts: { name?: string; rows?: number } = {},
): Promise<RegisteredTestModel & { datasetVersionId: string }> {
  const { createReadyDatasetVersion, tinySequenceJsonl } = await import('./datasets');
  const { readRows } = await import('./rows');
  const { encodeWeights } = await import('../../src/models/weights-file');
  const shape = { modality: 'SEQUENCE' as const, length: 16, features: 2 };
  const jsonl = tinySequenceJsonl(opts.rows ?? 64, 16);
  const dv = await createReadyDatasetVersion(t.platform, tenant.id, [{ name: 'waves.jsonl', content: jsonl }], shape);
  const rows = await readRows(t.platform, dv.manifestKey);
  const m = await registerTrainedModel(t, tenant, { modality: 'SEQUENCE', pretext: 'MASKED', rows, shape, ...(opts.name ? { name: opts.name } : {}) });
  const weightsKey = tenantKey(tenant.id, 'models', m.name, crypto.randomUUID(), 'weights.bin');
  await t.platform.store.put(weightsKey, encodeWeights(m.result.model.getWeights()));
  await t.platform.db.prisma.modelVersion.update({ where: { id: m.versionId }, data: { weightsKey } });
  return { ...m, datasetVersionId: dv.versionId };
}
