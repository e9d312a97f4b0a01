// Experiments: a dataset version × pretext task × encoder × hyperparameters, trained by one or more runs. Creating
// one validates everything the trainer would reject (so a bad request fails now, not minutes later in a task),
// checks the tenant's quotas, and queues its first run.
import type { Db, Experiment, Prisma, Run } from '../../db/client';
import { isUuid } from '../../db/errors';
import { badInput, forbidden, notFound, type InputProblem } from '../../errors';
import type { JobsConfig } from '../../config';
import type { Modality } from '../../ingest/types';
import { checkPretextSettings, PRETEXTS, type Pretext } from '../../contracts/pretext';
import { resolveConfig, type TrainConfig } from '../../contracts/train-config';
import { recordAudit } from '../audit/service';
import { actorOf, roleAtLeast, type Principal, type TenantPrincipal } from '../auth/principal';
import type { RunConfig } from '../runs/run-config';
import { defaultRecipe, type PretrainRecipe } from '../../models/recipes';
import type { Accelerator } from '../../contracts/accelerator';
import { checkRunQuotas, readyDatasetVersion, resolveAccelerator, resolveResources, type ResourcesInput } from '../runs/admission';
import { decodeCursor, encodeCursor, type Page } from '../runs/pagination';

export interface EncoderChoice {
  /** Encoder family: mlp, cnn, transformer or sequence (which ones fit depends on pretext × modality). */
  kind: string;
  dim?: number | null;
  layers?: number | null;
}

export interface Hyperparameters {
  batchSize?: number | null;
  steps?: number | null;
  epochs?: number | null;
  learningRate?: number | null;
  weightDecay?: number | null;
  warmupSteps?: number | null;
  seed?: number | null;
  checkpointEvery?: number | null;
  evalEvery?: number | null;
  maskRatio?: number | null;
  temperature?: number | null;
  projectionDim?: number | null;
  objective?: string | null;
  spatialEmbedding?: boolean | null;
  maxLength?: number | null;
  vocabSize?: number | null;
  sequenceLength?: number | null;
  backend?: string | null;
}

export interface CreateExperimentInput {
  name?: string | null;
  datasetVersionId: string;
  /** A labeled version (same modality and shape) to evaluate the trained encoder on. */
  evaluationDatasetVersionId?: string | null;
  pretext: string;
  /** Omitted: the platform recipe for the modality × pretext (src/models/recipes.ts). */
  encoder?: EncoderChoice | null;
  hyperparameters?: Hyperparameters | null;
  resources?: ResourcesInput | null;
  /** CPU (default) or GPU; resources.gpus follows it. */
  accelerator?: Accelerator | null;
}

export function requireTenant(p: Principal, role: 'READER' | 'MEMBER'): TenantPrincipal {
  if (p.kind !== 'tenant') throw forbidden(`Experiments and runs belong to a tenant: call with a tenant key (${role} or higher)`);
  if (!roleAtLeast(p.role, role)) throw forbidden(`This operation needs role ${role} or higher; this key has role ${p.role}`);
  return p;
}

export class ExperimentService {
  constructor(
    private readonly db: Db,
    private readonly jobs: JobsConfig,
  ) {}

  async create(p: Principal, input: CreateExperimentInput, now = new Date()): Promise<{ experiment: Experiment; run: Run }> {
    const member = requireTenant(p, 'MEMBER');
    const version = await readyDatasetVersion(this.db, member.tenantId, input.datasetVersionId, 'input.datasetVersionId', 'trained on');
    const problems: InputProblem[] = [];
    const modality = version.dataset.modality as Modality;
    const pretext = input.pretext as Pretext;
    if (!PRETEXTS.includes(pretext)) {
      throw badInput(`Unsupported pretext: "${input.pretext}". Should be one of: ${PRETEXTS.join(', ')}.`, [{ path: 'input.pretext', message: 'unknown pretext' }]);
    }
    // Leaving the encoder out asks for the platform recipe: its encoder, width and training settings fill every field
    // the caller did not set. Naming an encoder keeps the plain trainer defaults for the rest.
    const recipe = input.encoder ? null : defaultRecipe(modality, pretext, { audio: Boolean((version.shape as { sampleRate?: number } | null)?.sampleRate) });
    const encoderInput = input.encoder ?? { kind: recipe!.encoder, dim: recipe!.dim, layers: recipe!.layers ?? null };
    const h = { ...(recipe ? recipeHyperparameters(recipe) : {}), ...definedOnly(input.hyperparameters ?? {}) };
    const task = {
      ...(h.maskRatio != null ? { maskRatio: h.maskRatio } : {}),
      ...(h.temperature != null ? { temperature: h.temperature } : {}),
      ...(h.projectionDim != null ? { projectionDim: h.projectionDim } : {}),
      ...(h.objective != null ? { objective: h.objective as 'infonce' | 'vicreg' } : {}),
      ...(h.spatialEmbedding != null ? { spatialEmbedding: h.spatialEmbedding } : {}),
    };
    let encoderKinds: readonly string[];
    try {
      // The contract's tables, not the trainer's task classes: the gateway never loads TensorFlow.js.
      encoderKinds = checkPretextSettings(pretext, modality, task);
    } catch (err) {
      throw badInput(`Invalid pretext settings for ${pretext} on ${modality}: ${(err as Error).message}`, [{ path: 'input.hyperparameters', message: (err as Error).message }]);
    }
    if (!encoderKinds.includes(encoderInput.kind)) {
      throw badInput(`Unsupported encoder: "${encoderInput.kind}" for ${pretext} on ${modality}. Should be one of: ${encoderKinds.join(', ')}.`, [
        { path: 'input.encoder.kind', message: `must be one of ${encoderKinds.join(', ')}` },
      ]);
    }
    const train: TrainConfig = {
      modality,
      pretext,
      shape: version.shape as unknown as TrainConfig['shape'],
      encoder: encoderInput.kind as TrainConfig['encoder'],
      ...(encoderInput.dim != null ? { dim: encoderInput.dim } : {}),
      ...(encoderInput.layers != null ? { layers: encoderInput.layers } : {}),
      ...(recipe ? { workers: recipe.workers } : {}),
      task,
      batchSize: h.batchSize ?? 32,
      ...(h.steps != null ? { steps: h.steps } : {}),
      ...(h.epochs != null ? { epochs: h.epochs } : {}),
      ...(h.learningRate != null ? { learningRate: h.learningRate } : {}),
      ...(h.weightDecay != null ? { weightDecay: h.weightDecay } : {}),
      ...(h.warmupSteps != null ? { warmupSteps: h.warmupSteps } : {}),
      seed: h.seed ?? 0,
      checkpointEvery: h.checkpointEvery ?? 100,
      ...(h.evalEvery != null ? { evalEvery: h.evalEvery } : {}),
      ...(h.maxLength != null ? { maxLength: h.maxLength } : {}),
      ...(h.vocabSize != null ? { vocabSize: h.vocabSize } : {}),
      ...(h.sequenceLength != null ? { sequenceLength: h.sequenceLength } : {}),
      ...(h.backend != null ? { backend: h.backend as TrainConfig['backend'] } : {}),
    };
    try {
      resolveConfig(train);
    } catch (err) {
      problems.push({ path: 'input.hyperparameters', message: (err as Error).message });
    }
    if (h.backend != null && !['wasm', 'cpu'].includes(h.backend)) problems.push({ path: 'input.hyperparameters.backend', message: `Unsupported backend: "${h.backend}". Should be one of: wasm, cpu.` });
    const { resources, timeoutSeconds, maxAttempts } = resolveResources(input.resources, this.jobs, problems);
    const accelerator = resolveAccelerator(input.accelerator, input.resources, resources, this.jobs, problems);
    if (accelerator === 'GPU' && h.backend != null) problems.push({ path: 'input.hyperparameters.backend', message: `pins the CPU backend "${h.backend}"; leave it out for accelerator GPU` });
    const name = (input.name ?? `${pretext.toLowerCase()}-${version.dataset.name}-v${version.version}`).trim();
    if (name.length < 1 || name.length > 100) problems.push({ path: 'input.name', message: 'must be 1-100 characters' });
    const evaluation = input.evaluationDatasetVersionId ? await this.evaluationSet(member.tenantId, input.evaluationDatasetVersionId, version, problems) : null;
    if (problems.length) throw badInput('Invalid experiment', problems);

    await checkRunQuotas(this.db, member.tenantId, this.jobs, resources.gpus, now);

    const { shape: _shape, ...trainWithoutShape } = train;
    const runConfig: RunConfig = {
      kind: 'PRETRAIN',
      datasetVersionId: version.id,
      manifestKey: version.manifestKey,
      train: trainWithoutShape,
      resources,
      accelerator,
      timeoutSeconds,
      ...(evaluation ? { evaluation } : {}),
    };
    return this.db.$transaction(async (tx) => {
      const experiment = await tx.experiment.create({
        data: {
          tenantId: member.tenantId,
          name,
          datasetVersionId: version.id,
          pretext,
          encoderSpec: { ...encoderInput, ...(recipe ? { recipe: true } : {}) } as Prisma.InputJsonValue,
          hyperparameters: trainWithoutShape as unknown as Prisma.InputJsonValue,
          resources: { ...resources, timeoutSeconds, maxAttempts },
        },
      });
      const run = await tx.run.create({
        data: {
          tenantId: member.tenantId,
          experimentId: experiment.id,
          kind: 'PRETRAIN',
          status: 'QUEUED',
          config: runConfig as unknown as Prisma.InputJsonValue,
          maxAttempts,
          queuedAt: now,
        },
      });
      await recordAudit(tx, { tenantId: member.tenantId, actor: actorOf(p), action: 'experiment.create', targetType: 'Experiment', targetId: experiment.id, data: { runId: run.id } });
      return { experiment, run };
    });
  }

  /**
   * The labeled version an encoder is evaluated on: the caller's own (NOT_FOUND otherwise), READY, labeled, and of
   * the training version's modality and row shape, so that the trained encoder can embed its rows.
   */
  private async evaluationSet(
    tenantId: string,
    id: string,
    training: { shape: unknown; dataset: { modality: string } },
    problems: InputProblem[],
  ): Promise<{ datasetVersionId: string; manifestKey: string } | null> {
    const path = 'input.evaluationDatasetVersionId';
    const v = await readyDatasetVersion(this.db, tenantId, id, path, 'evaluated on');
    if (v.dataset.modality !== training.dataset.modality) {
      problems.push({ path, message: `the evaluation dataset is ${v.dataset.modality} and the training dataset ${training.dataset.modality}` });
      return null;
    }
    const a = training.shape as Record<string, unknown>;
    const b = v.shape as Record<string, unknown>;
    const differs = ['height', 'width', 'channels', 'features'].filter((k) => a[k] !== b[k]);
    if (differs.length) problems.push({ path, message: `its rows differ in ${differs.join(', ')} from the training rows (${JSON.stringify(b)} vs ${JSON.stringify(a)})` });
    const stats = v.stats as { labels?: unknown } | null;
    if (Array.isArray(stats?.labels) && stats.labels.length === 0) problems.push({ path, message: 'the evaluation dataset has no labels' });
    return { datasetVersionId: v.id, manifestKey: v.manifestKey };
  }

  async get(p: Principal, id: string): Promise<Experiment> {
    const reader = requireTenant(p, 'READER');
    const row = isUuid(id) ? await this.db.experiment.findFirst({ where: { id, tenantId: reader.tenantId } }) : null;
    if (!row) throw notFound('Experiment', id);
    return row;
  }

  async list(p: Principal, first: number, after?: string | null): Promise<Page<Experiment>> {
    const reader = requireTenant(p, 'READER');
    const take = Math.min(Math.max(first, 1), 100);
    const cursor = after ? decodeCursor(after) : null;
    const rows = await this.db.experiment.findMany({
      where: { tenantId: reader.tenantId, ...(cursor ? { OR: [{ createdAt: { lt: cursor.at } }, { createdAt: cursor.at, id: { lt: cursor.id } }] } : {}) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: take + 1,
    });
    const nodes = rows.slice(0, take);
    const last = nodes[nodes.length - 1];
    return { nodes, pageInfo: { hasNextPage: rows.length > take, endCursor: last ? encodeCursor(last.createdAt, last.id) : null } };
  }

  /** Runs of an experiment (already known to be the caller's), newest first. */
  runsOf(experiment: Experiment): Promise<Run[]> {
    return this.db.run.findMany({ where: { experimentId: experiment.id, tenantId: experiment.tenantId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
  }
}

type HyperparametersIn = NonNullable<CreateExperimentInput['hyperparameters']>;

/** A recipe as the hyperparameters a caller could have sent (GraphQL field names). */
function recipeHyperparameters(r: PretrainRecipe): HyperparametersIn {
  return {
    batchSize: r.batchSize,
    steps: r.steps,
    learningRate: r.learningRate,
    ...(r.task.temperature !== undefined ? { temperature: r.task.temperature } : {}),
    ...(r.task.projectionDim !== undefined ? { projectionDim: r.task.projectionDim } : {}),
    ...(r.task.objective !== undefined ? { objective: r.task.objective } : {}),
    ...(r.task.spatialEmbedding !== undefined ? { spatialEmbedding: r.task.spatialEmbedding } : {}),
    ...(r.task.maskRatio !== undefined ? { maskRatio: r.task.maskRatio } : {}),
    ...(r.maxLength !== undefined ? { maxLength: r.maxLength } : {}),
    ...(r.vocabSize !== undefined ? { vocabSize: r.vocabSize } : {}),
  };
}

/** GraphQL sends explicit nulls for unset input fields; they must not erase a recipe's value. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}
