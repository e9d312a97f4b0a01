// Experiments: a dataset version × pretext task × encoder × hyperparameters, trained by one or more runs. Creating
// one validates everything the trainer would reject (so a bad request fails now, not minutes later in a task),
// checks the tenant's quotas, and queues its first run.
import type { Db, Experiment, Prisma, Run } from '../../db/client';
import { isUuid } from '../../db/errors';
import { badInput, forbidden, notFound, quotaExceeded, type InputProblem } from '../../errors';
import type { JobsConfig } from '../../config';
import type { Modality } from '../../ingest/types';
import { resolveConfig, type TrainConfig } from '../../training/trainer/config';
import { PRETEXTS, type Pretext } from '../../training/pretext/types';
import { recordAudit } from '../audit/repository';
import { actorOf, roleAtLeast, type Principal, type TenantPrincipal } from '../auth/principal';
import type { RunConfig } from '../runs/run-config';
import { ACTIVE } from '../runs/state';
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
  maxLength?: number | null;
  vocabSize?: number | null;
  sequenceLength?: number | null;
  backend?: string | null;
}

export interface ResourcesInput {
  gpus?: number | null;
  cpus?: number | null;
  memoryMb?: number | null;
  timeoutSeconds?: number | null;
  maxAttempts?: number | null;
}

export interface CreateExperimentInput {
  name?: string | null;
  datasetVersionId: string;
  pretext: string;
  encoder: EncoderChoice;
  hyperparameters?: Hyperparameters | null;
  resources?: ResourcesInput | null;
}

export function requireTenant(p: Principal, role: 'READER' | 'MEMBER'): TenantPrincipal {
  if (p.kind !== 'tenant') throw forbidden(`Experiments and runs belong to a tenant: call with a tenant key (${role} or higher)`);
  if (!roleAtLeast(p.role, role)) throw forbidden(`This operation needs role ${role} or higher; this key has role ${p.role}`);
  return p;
}

const GPU_WINDOW_MS = 30 * 24 * 3600 * 1000;

/** GPU-minutes a tenant's runs used in the last 30 days (running runs count up to now). */
export async function gpuMinutesUsed(db: Db, tenantId: string, now = new Date()): Promise<number> {
  const runs = await db.run.findMany({
    where: { tenantId, startedAt: { not: null }, OR: [{ finishedAt: null }, { finishedAt: { gte: new Date(now.getTime() - GPU_WINDOW_MS) } }] },
    select: { startedAt: true, finishedAt: true, config: true },
  });
  let minutes = 0;
  for (const r of runs) {
    const gpus = Number((r.config as { resources?: { gpus?: number } } | null)?.resources?.gpus ?? 0);
    const end = (r.finishedAt ?? now).getTime();
    minutes += (gpus * Math.max(0, end - r.startedAt!.getTime())) / 60_000;
  }
  return minutes;
}

export class ExperimentService {
  constructor(
    private readonly db: Db,
    private readonly jobs: JobsConfig,
  ) {}

  async create(p: Principal, input: CreateExperimentInput, now = new Date()): Promise<{ experiment: Experiment; run: Run }> {
    const member = requireTenant(p, 'MEMBER');
    // Another tenant's version (or a missing one) is NOT_FOUND: never a hint that the id exists.
    const version = isUuid(input.datasetVersionId)
      ? await this.db.datasetVersion.findFirst({ where: { id: input.datasetVersionId, tenantId: member.tenantId }, include: { dataset: true } })
      : null;
    if (!version || version.dataset.deletedAt) throw notFound('Dataset version', input.datasetVersionId);
    if (version.status !== 'READY' || !version.manifestKey) {
      throw badInput(`Dataset version ${version.id} is ${version.status}; only READY versions can be trained on. Wait for processing to finish.`, [
        { path: 'input.datasetVersionId', message: `status is ${version.status}, must be READY` },
      ]);
    }
    const problems: InputProblem[] = [];
    const modality = version.dataset.modality as Modality;
    const pretext = input.pretext as Pretext;
    if (!PRETEXTS.includes(pretext)) {
      throw badInput(`Unsupported pretext: "${input.pretext}". Should be one of: ${PRETEXTS.join(', ')}.`, [{ path: 'input.pretext', message: 'unknown pretext' }]);
    }
    const h = input.hyperparameters ?? {};
    const task = { ...(h.maskRatio != null ? { maskRatio: h.maskRatio } : {}), ...(h.temperature != null ? { temperature: h.temperature } : {}) };
    let encoderKinds: readonly string[];
    try {
      // Loaded on demand: the registry pulls in the tfjs tasks, which the gateway needs only here.
      const { getPretextTask } = await import('../../training/pretext/registry');
      encoderKinds = getPretextTask(pretext, modality, task).encoderKinds;
    } catch (err) {
      throw badInput(`Invalid pretext settings for ${pretext} on ${modality}: ${(err as Error).message}`, [{ path: 'input.hyperparameters', message: (err as Error).message }]);
    }
    if (!encoderKinds.includes(input.encoder.kind)) {
      throw badInput(`Unsupported encoder: "${input.encoder.kind}" for ${pretext} on ${modality}. Should be one of: ${encoderKinds.join(', ')}.`, [
        { path: 'input.encoder.kind', message: `must be one of ${encoderKinds.join(', ')}` },
      ]);
    }
    const train: TrainConfig = {
      modality,
      pretext,
      shape: version.shape as unknown as TrainConfig['shape'],
      encoder: input.encoder.kind as TrainConfig['encoder'],
      ...(input.encoder.dim != null ? { dim: input.encoder.dim } : {}),
      ...(input.encoder.layers != null ? { layers: input.encoder.layers } : {}),
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
    const r = input.resources ?? {};
    const resources = { gpus: r.gpus ?? 0, cpus: r.cpus ?? 1, memoryMb: r.memoryMb ?? 2048 };
    const timeoutSeconds = r.timeoutSeconds ?? this.jobs.defaultTimeoutSeconds;
    const maxAttempts = r.maxAttempts ?? this.jobs.maxAttempts;
    if (!Number.isInteger(resources.gpus) || resources.gpus < 0 || resources.gpus > 8) problems.push({ path: 'input.resources.gpus', message: 'must be an integer 0-8' });
    if (!(resources.cpus > 0) || resources.cpus > 64) problems.push({ path: 'input.resources.cpus', message: 'must be > 0 and ≤ 64' });
    if (!Number.isInteger(resources.memoryMb) || resources.memoryMb < 256 || resources.memoryMb > 512_000) problems.push({ path: 'input.resources.memoryMb', message: 'must be an integer 256-512000' });
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 7 * 24 * 3600) problems.push({ path: 'input.resources.timeoutSeconds', message: 'must be an integer from 1 s to 7 days' });
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 20) problems.push({ path: 'input.resources.maxAttempts', message: 'must be an integer 1-20' });
    const name = (input.name ?? `${pretext.toLowerCase()}-${version.dataset.name}-v${version.version}`).trim();
    if (name.length < 1 || name.length > 100) problems.push({ path: 'input.name', message: 'must be 1-100 characters' });
    if (problems.length) throw badInput('Invalid experiment', problems);

    // Quotas. Checked before the insert; two simultaneous creations may both pass, which overshoots by at most one
    // run per concurrent request — acceptable for a soft limit, and it avoids a tenant-wide lock on every create.
    const active = await this.db.run.count({ where: { tenantId: member.tenantId, status: { in: [...ACTIVE] } } });
    if (active >= this.jobs.tenantMaxConcurrentRuns) {
      throw quotaExceeded(`This tenant already has ${active} unfinished runs (limit ${this.jobs.tenantMaxConcurrentRuns}); wait for one to finish or cancel one.`, {
        limit: this.jobs.tenantMaxConcurrentRuns,
        used: active,
      });
    }
    if (resources.gpus > 0) {
      const used = await gpuMinutesUsed(this.db, member.tenantId, now);
      if (used >= this.jobs.tenantMaxGpuMinutes) {
        throw quotaExceeded(`GPU-minute quota used up: ${used.toFixed(1)} of ${this.jobs.tenantMaxGpuMinutes} in the last 30 days.`, {
          limit: this.jobs.tenantMaxGpuMinutes,
          used,
        });
      }
    }

    const { shape: _shape, ...trainWithoutShape } = train;
    const runConfig: RunConfig = { datasetVersionId: version.id, manifestKey: version.manifestKey, train: trainWithoutShape, resources, timeoutSeconds };
    return this.db.$transaction(async (tx) => {
      const experiment = await tx.experiment.create({
        data: {
          tenantId: member.tenantId,
          name,
          datasetVersionId: version.id,
          pretext,
          encoderSpec: { ...input.encoder } as Prisma.InputJsonValue,
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
