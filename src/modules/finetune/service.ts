// createFineTune: a model version + a labeled dataset version → a FINETUNE run, which the jobs pipeline dispatches
// like any run and which registers a new version (encoder + head in one ONNX graph, the head's labels, an
// evaluation report, parentVersionId = the base). Everything the trainer would reject is checked here first, so a
// bad request fails now with every problem listed instead of minutes later in a task.
import type { Db, ModelVersion, Prisma, Run } from '../../db/client';
import type { JobsConfig } from '../../config';
import { badInput, notFound, type InputProblem } from '../../errors';
import { ingestStoreFrom, readManifest } from '../../ingest';
import { fineTuneIncompatibility, shapeMismatch, type StoredInputSpec } from '../../models/stored-spec';
import type { ObjectStore } from '../../storage';
import { FINETUNE_MODES, FINETUNE_TASKS, resolveHyperparameters, type FineTuneHyperparameters, type FineTuneMode, type FineTuneTask } from '../../contracts/finetune';
import { recordAudit } from '../audit/service';
import { actorOf, type Principal, type TenantPrincipal } from '../auth/principal';
import { requireTenant } from '../experiments/service';
import type { Accelerator } from '../../contracts/accelerator';
import { checkRunQuotas, readyDatasetVersion, resolveAccelerator, resolveResources, type ResourcesInput } from '../runs/admission';
import type { FineTuneRunConfig } from '../runs/run-config';

export interface FineTuneHyperparametersInput {
  learningRate?: number | null;
  batchSize?: number | null;
  epochs?: number | null;
  maxSteps?: number | null;
  minSteps?: number | null;
  weightDecay?: number | null;
  headHidden?: number[] | null;
  outputs?: number | null;
  probeInit?: boolean | null;
  validationFraction?: number | null;
  patience?: number | null;
  augment?: boolean | null;
  checkpointEvery?: number | null;
  selfTraining?: boolean | null;
  seed?: number | null;
  backend?: string | null;
}

export interface CreateFineTuneInput {
  model: string;
  datasetVersionId: string;
  task: string;
  mode: string;
  labelFraction?: number | null;
  hyperparameters?: FineTuneHyperparametersInput | null;
  name?: string | null;
  resources?: ResourcesInput | null;
  /** CPU (default) or GPU; resources.gpus follows it. */
  accelerator?: Accelerator | null;
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Labels that regression can use: every label is `outputs` comma-separated finite numbers. */
function nonNumericLabel(labels: readonly string[], outputs: number): string | null {
  for (const l of labels) {
    const parts = l.split(',').map((s) => s.trim());
    if (parts.length !== outputs || parts.some((p) => p === '' || !Number.isFinite(Number(p)))) return l;
  }
  return null;
}

export class FineTuneService {
  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
    private readonly jobs: JobsConfig,
    /** Resolves `name@alias`, `name@v3`, ids… within the caller's tenant (NOT_FOUND otherwise). */
    private readonly resolveModel: (t: TenantPrincipal, ref: string) => Promise<ModelVersion>,
  ) {}

  async create(p: Principal, input: CreateFineTuneInput, now = new Date()): Promise<Run> {
    const member = requireTenant(p, 'MEMBER');
    // Another tenant's model or dataset version is NOT_FOUND, exactly like a missing one.
    // The resolver may answer from its short cache; the row itself is read fresh, as it decides what is queued.
    const ref = await this.resolveModel(member, input.model);
    const base = await this.db.modelVersion.findFirst({ where: { id: ref.id, tenantId: member.tenantId } });
    if (!base) throw notFound('Model', input.model);
    const baseModel = await this.db.model.findFirst({ where: { id: base.modelId, tenantId: member.tenantId } });
    if (!baseModel) throw notFound('Model', input.model);
    const version = await readyDatasetVersion(this.db, member.tenantId, input.datasetVersionId, 'input.datasetVersionId', 'fine-tuned on');

    const problems: InputProblem[] = [];
    const task = input.task as FineTuneTask;
    const mode = input.mode as FineTuneMode;
    if (!FINETUNE_TASKS.includes(task)) problems.push({ path: 'input.task', message: `Unsupported task: "${input.task}". Should be one of: ${FINETUNE_TASKS.join(', ')}.` });
    if (!FINETUNE_MODES.includes(mode)) problems.push({ path: 'input.mode', message: `Unsupported mode: "${input.mode}". Should be one of: ${FINETUNE_MODES.join(', ')}.` });
    const labelFraction = input.labelFraction ?? 1;
    if (!Number.isFinite(labelFraction) || labelFraction <= 0 || labelFraction > 1) problems.push({ path: 'input.labelFraction', message: `must be > 0 and ≤ 1; got ${labelFraction}` });

    // The base: trained weights stored, an encoder that reads this modality directly, and rows of its input shape.
    const stored = base.inputSpec as unknown as StoredInputSpec;
    const modality = version.dataset.modality;
    if (!base.weightsKey) {
      problems.push({ path: 'input.model', message: `version ${base.version} of ${baseModel.name} was registered without its trained weights, so it cannot be fine-tuned; train it again with a run` });
    }
    if (baseModel.modality !== modality) {
      problems.push({ path: 'input.datasetVersionId', message: `the dataset is ${modality} and the model is ${baseModel.modality}` });
    } else {
      const why = fineTuneIncompatibility(stored, modality) ?? shapeMismatch(stored, version.shape as { modality: string });
      if (why) problems.push({ path: 'input.model', message: why });
    }

    // Labels, from the manifest: classification needs two classes, regression numbers.
    const h = input.hyperparameters ?? {};
    const hyperparameters: FineTuneHyperparameters = {
      ...(h.learningRate != null ? { learningRate: h.learningRate } : {}),
      ...(h.batchSize != null ? { batchSize: h.batchSize } : {}),
      ...(h.epochs != null ? { epochs: h.epochs } : {}),
      ...(h.maxSteps != null ? { maxSteps: h.maxSteps } : {}),
      ...(h.minSteps != null ? { minSteps: h.minSteps } : {}),
      ...(h.weightDecay != null ? { weightDecay: h.weightDecay } : {}),
      ...(h.headHidden != null ? { headHidden: h.headHidden } : {}),
      ...(h.outputs != null ? { outputs: h.outputs } : {}),
      ...(h.probeInit != null ? { probeInit: h.probeInit } : {}),
      ...(h.validationFraction != null ? { validationFraction: h.validationFraction } : {}),
      ...(h.patience != null ? { patience: h.patience } : {}),
      ...(h.augment != null ? { augment: h.augment } : {}),
      ...(h.checkpointEvery != null ? { checkpointEvery: h.checkpointEvery } : {}),
      ...(h.selfTraining != null ? { selfTraining: h.selfTraining } : {}),
    };
    let outputs = 1;
    try {
      const resolved = resolveHyperparameters(hyperparameters);
      outputs = resolved.outputs;
      if (mode === 'LINEAR_PROBE' && resolved.headHidden?.length) throw new Error('LINEAR_PROBE trains a linear head; drop headHidden or use MLP_HEAD.');
      if (resolved.augment && mode !== 'FULL') throw new Error(`augment needs FULL fine-tuning (${mode} fits the head on cached features of the unaugmented rows).`);
      if (resolved.selfTraining && (mode !== 'FULL' || task !== 'CLASSIFICATION')) throw new Error(`selfTraining needs FULL CLASSIFICATION fine-tuning; got ${mode} ${task}.`);
    } catch (err) {
      problems.push({ path: 'input.hyperparameters', message: (err as Error).message });
    }
    if (h.backend != null && !['wasm', 'cpu'].includes(h.backend)) problems.push({ path: 'input.hyperparameters.backend', message: `Unsupported backend: "${h.backend}". Should be one of: wasm, cpu.` });
    const seed = h.seed ?? 0;
    if (!Number.isInteger(seed)) problems.push({ path: 'input.hyperparameters.seed', message: 'must be an integer' });
    const manifest = await readManifest(ingestStoreFrom(this.store), version.manifestKey);
    if (manifest.labels.length === 0) {
      problems.push({ path: 'input.datasetVersionId', message: 'the dataset version has no labels; upload rows with a label field' });
    } else if (task === 'CLASSIFICATION' && manifest.labels.length < 2) {
      problems.push({ path: 'input.datasetVersionId', message: `classification needs at least 2 classes; the dataset has 1 ("${manifest.labels[0]}")` });
    } else if (task === 'REGRESSION') {
      const bad = nonNumericLabel(manifest.labels, outputs);
      if (bad !== null) problems.push({ path: 'input.datasetVersionId', message: `regression needs ${outputs} number(s) per label; "${bad.slice(0, 100)}" is not` });
    }
    if ((manifest.splits.train ?? 0) === 0) problems.push({ path: 'input.datasetVersionId', message: 'the dataset version has no train rows' });

    // Where the new version goes: the base's model, or a named one (created at completion if it does not exist).
    let targetModelId: string | null = baseModel.id;
    let targetModelName: string | null = null;
    if (input.name != null) {
      const name = input.name.trim();
      if (!MODEL_NAME.test(name)) {
        problems.push({ path: 'input.name', message: 'must be 1-100 characters: letters, digits, ., _ and -, starting with a letter or digit' });
      } else {
        const existing = await this.db.model.findFirst({ where: { tenantId: member.tenantId, name } });
        if (existing && existing.modality !== modality) problems.push({ path: 'input.name', message: `model ${name} exists and is ${existing.modality}` });
        targetModelId = existing?.id ?? null;
        targetModelName = existing ? null : name;
      }
    }
    const { resources, timeoutSeconds, maxAttempts } = resolveResources(input.resources, this.jobs, problems);
    const accelerator = resolveAccelerator(input.accelerator, input.resources, resources, this.jobs, problems);
    if (accelerator === 'GPU' && h.backend != null) problems.push({ path: 'input.hyperparameters.backend', message: `pins the CPU backend "${h.backend}"; leave it out for accelerator GPU` });
    if (problems.length) throw badInput('Invalid fine-tune', problems);
    await checkRunQuotas(this.db, member.tenantId, this.jobs, resources.gpus, now);

    const config: FineTuneRunConfig = {
      kind: 'FINETUNE',
      datasetVersionId: version.id,
      manifestKey: version.manifestKey,
      baseModelVersionId: base.id,
      targetModelId,
      targetModelName,
      finetune: { task, mode, labelFraction, hyperparameters, seed, ...(h.backend ? { backend: h.backend as 'wasm' | 'cpu' } : {}) },
      resources,
      accelerator,
      timeoutSeconds,
      maxAttempts,
    };
    return this.db.$transaction(async (tx) => {
      const run = await tx.run.create({
        data: { tenantId: member.tenantId, kind: 'FINETUNE', status: 'QUEUED', config: config as unknown as Prisma.InputJsonValue, maxAttempts, queuedAt: now },
      });
      await recordAudit(tx, {
        tenantId: member.tenantId,
        actor: actorOf(p),
        action: 'finetune.create',
        targetType: 'Run',
        targetId: run.id,
        data: { baseModelVersionId: base.id, datasetVersionId: version.id, task, mode, labelFraction },
      });
      return run;
    });
  }
}
