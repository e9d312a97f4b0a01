// What a trainer task may do with its job-scoped token, and nothing more: read its spec, get presigned URLs for
// exactly its dataset version's manifest and shards (given in the spec) and for objects under its own output
// prefix `tenants/<t>/runs/<run>/`, report heartbeats, metrics, logs and checkpoints, and report completion.
import type { Db, Prisma, Run } from '../../db/client';
import type { JobsConfig } from '../../config';
import { ingestStoreFrom, readManifest } from '../../ingest';
import { hashJobToken, parseJobToken } from '../../jobs/tokens';
import { assertValidKey, tenantKey, type ObjectStore } from '../../storage';
import type { RunLifecycle } from './lifecycle';
import { DeviceReportSchema } from '../../contracts/accelerator';
import type { CompletionReport, HeadReport, TrainerSpec } from '../../contracts/trainer-wire';
import { acceleratorOf, isFineTuneConfig, readRunConfig, type FineTuneSettings } from './run-config';
import { transition } from './state';

// The wire format lives in src/contracts (the trainer imports it from there, never from here).
export type { CompletionReport, FineTuneSpec, HeadReport, TrainerSpec } from '../../contracts/trainer-wire';

/** Errors the REST shim turns into HTTP statuses. */
export class TrainerApiError extends Error {
  constructor(readonly status: 400 | 401 | 404 | 409, message: string) {
    super(message);
    this.name = 'TrainerApiError';
  }
}

const URL_TTL_SECONDS = 3600;

export class TrainerService {
  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
    private readonly lifecycle: RunLifecycle,
    private readonly jobs: JobsConfig,
  ) {}

  /**
   * The run a token belongs to. Only live runs accept reports; a SUCCEEDED run still answers `complete` so that a
   * repeated completion report gets the same model version back instead of an error.
   */
  async authenticate(authorization: string | undefined, opts: { allowSucceeded?: boolean } = {}, now = new Date()): Promise<Run> {
    const token = parseJobToken(authorization);
    if (!token) throw new TrainerApiError(401, 'A job token is required: Authorization: Bearer ptj_…');
    const run = await this.db.run.findFirst({ where: { tokenHash: hashJobToken(token) } });
    const allowed = ['DISPATCHED', 'RUNNING', ...(opts.allowSucceeded ? ['SUCCEEDED'] : [])];
    if (!run || !run.tokenExpiresAt || run.tokenExpiresAt <= now || !allowed.includes(run.status)) {
      throw new TrainerApiError(401, 'This job token is unknown, expired, or its run is no longer running');
    }
    return run;
  }

  outputPrefix(run: Pick<Run, 'tenantId' | 'id'>): string {
    return `${tenantKey(run.tenantId, 'runs', run.id)}/`;
  }

  /** First call of an attempt: DISPATCHED → RUNNING, and everything the trainer needs. */
  async spec(run: Run, now = new Date()): Promise<TrainerSpec> {
    const cfg = readRunConfig(run.config);
    if (run.status === 'DISPATCHED') {
      await transition(this.db, run.id, 'DISPATCHED', 'RUNNING', { heartbeatAt: now, ...(run.startedAt ? {} : { startedAt: now }) }, { attempt: run.attempt }, now);
    }
    const { manifest, shards } = await this.presignedVersion(cfg.manifestKey);
    let checkpoint: TrainerSpec['checkpoint'] = null;
    if (run.checkpointKey && run.checkpointStep !== null) {
      const prefix = run.checkpointKey.replace(/\/+$/, '');
      checkpoint = {
        step: run.checkpointStep,
        prefix,
        jsonUrl: await this.store.presignGet(`${prefix}/checkpoint.json`, URL_TTL_SECONDS),
        tensorsUrl: await this.store.presignGet(`${prefix}/tensors.bin`, URL_TTL_SECONDS),
      };
    }
    let kindSpec: Pick<TrainerSpec, 'kind' | 'train' | 'finetune' | 'evaluationSet'>;
    if (isFineTuneConfig(cfg)) {
      const base = await this.db.modelVersion.findFirst({ where: { id: cfg.baseModelVersionId, tenantId: run.tenantId } });
      if (!base?.weightsKey) throw new TrainerApiError(409, `The base model version ${cfg.baseModelVersionId} is gone or has no stored weights`);
      kindSpec = {
        kind: 'FINETUNE',
        finetune: {
          ...cfg.finetune,
          base: {
            modelVersionId: base.id,
            inputSpec: base.inputSpec,
            weightsUrl: await this.store.presignGet(base.weightsKey, URL_TTL_SECONDS),
            tokenizerUrl: base.tokenizerKey ? await this.store.presignGet(base.tokenizerKey, URL_TTL_SECONDS) : null,
          },
        },
      };
    } else {
      kindSpec = { kind: 'PRETRAIN', train: cfg.train };
      if (cfg.evaluation) {
        const e = await this.presignedVersion(cfg.evaluation.manifestKey);
        kindSpec.evaluationSet = { datasetVersionId: cfg.evaluation.datasetVersionId, manifest: e.manifest, shards: e.shards };
      }
    }
    return {
      runId: run.id,
      attempt: run.attempt,
      heartbeatSeconds: this.jobs.heartbeatSeconds,
      ...kindSpec,
      accelerator: acceleratorOf(cfg),
      datasetVersionId: cfg.datasetVersionId,
      manifest,
      shards,
      checkpoint,
      outputPrefix: this.outputPrefix(run),
    };
  }

  /** Presigned GETs for a dataset version's manifest and every shard: exactly what a run may read of it. */
  private async presignedVersion(manifestKey: string): Promise<{ manifest: { key: string; url: string }; shards: Array<{ key: string; url: string }> }> {
    const m = await readManifest(ingestStoreFrom(this.store), manifestKey);
    return {
      manifest: { key: manifestKey, url: await this.store.presignGet(manifestKey, URL_TTL_SECONDS) },
      shards: await Promise.all(m.shards.map(async (s) => ({ key: s.key, url: await this.store.presignGet(s.key, URL_TTL_SECONDS) }))),
    };
  }

  /** A key under the run's output prefix, from a relative path; anything else is refused. */
  ownKey(run: Run, relative: unknown): string {
    if (typeof relative !== 'string' || relative.length === 0 || relative.length > 512) throw new TrainerApiError(400, 'path must be a relative object path under the run prefix');
    const key = `${this.outputPrefix(run)}${relative.replace(/^\/+/, '')}`;
    try {
      assertValidKey(key);
    } catch (err) {
      throw new TrainerApiError(400, (err as Error).message);
    }
    return key;
  }

  async presign(run: Run, body: { path?: unknown; method?: unknown }): Promise<{ key: string; url: string }> {
    const key = this.ownKey(run, body.path);
    if (body.method === 'PUT') return { key, url: await this.store.presignPut(key, URL_TTL_SECONDS) };
    if (body.method === 'GET') return { key, url: await this.store.presignGet(key, URL_TTL_SECONDS) };
    throw new TrainerApiError(400, `Unsupported method: "${String(body.method)}". Should be one of: GET, PUT.`);
  }

  async heartbeat(run: Run, body: { step?: unknown; totalSteps?: unknown }, now = new Date()): Promise<{ cancel: boolean }> {
    // A beat without a step (the trainer's liveness thread) only says "alive": writing back the step read at
    // authentication could overwrite a newer step that a concurrent progress beat just stored.
    const progress: Prisma.RunUpdateManyMutationInput = {};
    if (Number.isInteger(body.step)) {
      const step = body.step as number;
      const total = Number.isInteger(body.totalSteps) && (body.totalSteps as number) > 0 ? (body.totalSteps as number) : run.totalSteps;
      Object.assign(progress, { step, ...(total ? { totalSteps: total, progress: Math.min(1, step / total) } : {}) });
    }
    await this.db.run.updateMany({
      where: { id: run.id, attempt: run.attempt, status: { in: ['DISPATCHED', 'RUNNING'] } },
      data: { heartbeatAt: now, ...progress },
    });
    return { cancel: false };
  }

  async metrics(run: Run, body: { points?: unknown }): Promise<{ accepted: number }> {
    const points = Array.isArray(body.points) ? body.points.slice(0, 1000) : [];
    const data = points
      .filter((p): p is { step: number; name: string; value: number; epoch?: number } =>
        !!p && Number.isInteger(p.step) && typeof p.name === 'string' && p.name.length > 0 && p.name.length <= 64 && typeof p.value === 'number' && Number.isFinite(p.value))
      .map((p) => ({ tenantId: run.tenantId, runId: run.id, attempt: run.attempt, step: p.step, name: p.name, value: p.value, ...(Number.isInteger(p.epoch) ? { epoch: p.epoch } : {}) }));
    if (data.length) await this.db.metricPoint.createMany({ data });
    return { accepted: data.length };
  }

  async logs(run: Run, body: { lines?: unknown }): Promise<{ accepted: number }> {
    const lines = Array.isArray(body.lines) ? body.lines.slice(0, 500) : [];
    const data = lines
      .filter((l): l is { level: string; message: string } => !!l && typeof l.message === 'string')
      .map((l) => ({ tenantId: run.tenantId, runId: run.id, attempt: run.attempt, level: ['info', 'warn', 'error'].includes(l.level) ? l.level : 'info', message: l.message.slice(0, 4000) }));
    if (data.length) await this.db.runLog.createMany({ data });
    return { accepted: data.length };
  }

  async checkpoint(run: Run, body: { step?: unknown; path?: unknown }): Promise<{ ok: true }> {
    if (!Number.isInteger(body.step) || (body.step as number) < 0) throw new TrainerApiError(400, 'step must be an integer ≥ 0');
    const prefix = this.ownKey(run, body.path);
    if (!(await this.store.head(`${prefix}/checkpoint.json`)) || !(await this.store.head(`${prefix}/tensors.bin`))) {
      throw new TrainerApiError(400, `Upload ${prefix}/checkpoint.json and tensors.bin before reporting the checkpoint`);
    }
    await this.db.run.updateMany({ where: { id: run.id, attempt: run.attempt, status: 'RUNNING' }, data: { checkpointKey: prefix, checkpointStep: body.step as number } });
    return { ok: true };
  }

  /**
   * The device the trainer proved at start (src/contracts/accelerator.ts): stored on the run with the backend name.
   * A report for another accelerator than the run asked for is refused: a GPU run must not train on a CPU engine.
   */
  async device(run: Run, body: unknown): Promise<{ ok: true }> {
    const parsed = DeviceReportSchema.safeParse(body);
    if (!parsed.success) throw new TrainerApiError(400, `Invalid device report: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    const wanted = acceleratorOf(readRunConfig(run.config));
    if (parsed.data.accelerator !== wanted) throw new TrainerApiError(409, `This run asked for accelerator ${wanted}; the trainer reported ${parsed.data.accelerator}`);
    await this.db.run.updateMany({
      where: { id: run.id, attempt: run.attempt, status: { in: ['DISPATCHED', 'RUNNING'] } },
      data: { device: { ...parsed.data, attempt: run.attempt } as Prisma.InputJsonValue, backend: parsed.data.backend },
    });
    return { ok: true };
  }

  /** The attempt failed in a way the trainer saw (bad data, exception): record the reason, retry or fail. */
  async fail(run: Run, body: { error?: unknown; retryable?: unknown }): Promise<{ ok: true }> {
    const reason = typeof body.error === 'string' && body.error ? body.error.slice(0, 2000) : 'the trainer reported a failure';
    await this.lifecycle.finishAttempt(run.id, run.attempt, `trainer error: ${reason}`, body.retryable !== false);
    return { ok: true };
  }

  /** A key the trainer reported: its own output prefix, given either whole or relative to the prefix. */
  private reportedKey(run: Run, key: unknown): string {
    const prefix = this.outputPrefix(run);
    return this.ownKey(run, typeof key === 'string' && key.startsWith(prefix) ? key.slice(prefix.length) : key);
  }

  /** The head a FINETUNE run must report: the task it was asked for, and labels / outputs that fit it. */
  private checkHead(head: HeadReport | null | undefined, settings: FineTuneSettings): Prisma.InputJsonValue {
    if (!head || head.task !== settings.task) throw new TrainerApiError(400, `A FINETUNE run must report its ${settings.task} head`);
    if (head.task === 'CLASSIFICATION') {
      const ok = Array.isArray(head.labels) && head.labels.length >= 2 && head.labels.length <= 10_000 && head.labels.every((l) => typeof l === 'string' && l.length <= 1000);
      if (!ok) throw new TrainerApiError(400, 'head.labels must list 2-10000 class names');
      return { task: head.task, labels: head.labels!, mode: settings.mode, labelFraction: settings.labelFraction, ...(Number.isInteger(head.trainSize) ? { trainSize: head.trainSize! } : {}) };
    }
    if (!Number.isInteger(head.outputs) || head.outputs! < 1) throw new TrainerApiError(400, 'head.outputs must be a positive integer');
    return { task: head.task, outputs: head.outputs!, mode: settings.mode, labelFraction: settings.labelFraction, ...(Number.isInteger(head.trainSize) ? { trainSize: head.trainSize! } : {}) };
  }

  /**
   * Registers what the run trained as a new ModelVersion, then SUCCEEDED. PRETRAIN: under a Model named after the
   * experiment. FINETUNE: under the target model (the base's by default), with parentVersionId = the base version and
   * the trained head. Idempotent: ModelVersion.runId is UNIQUE, so a repeated (or concurrent) report returns the
   * version already there.
   */
  async complete(run: Run, report: CompletionReport): Promise<{ modelId: string; modelVersionId: string; version: number }> {
    const existing = await this.db.modelVersion.findUnique({ where: { runId: run.id } });
    if (existing) return { modelId: existing.modelId, modelVersionId: existing.id, version: existing.version };
    if (run.status === 'SUCCEEDED') throw new TrainerApiError(409, 'The run already succeeded without a model version');
    const cfg = readRunConfig(run.config);
    const onnxKey = this.reportedKey(run, report.onnxKey);
    const tokenizerKey = report.tokenizerKey ? this.reportedKey(run, report.tokenizerKey) : null;
    const weightsKey = report.weightsKey ? this.reportedKey(run, report.weightsKey) : null;
    for (const key of [onnxKey, tokenizerKey, weightsKey]) {
      if (key && !(await this.store.head(key))) throw new TrainerApiError(400, `Upload ${key} before reporting completion`);
    }
    if (!Number.isInteger(report.embeddingDim) || report.embeddingDim < 1) throw new TrainerApiError(400, 'embeddingDim must be a positive integer');
    const head = isFineTuneConfig(cfg) ? this.checkHead(report.head, cfg.finetune) : null;

    // Where the version goes: the experiment's model (PRETRAIN) or the fine-tune's target (FINETUNE).
    let target: { id: string } | { name: string; modality: string };
    let parentVersionId: string | null = null;
    if (isFineTuneConfig(cfg)) {
      const base = await this.db.modelVersion.findFirst({ where: { id: cfg.baseModelVersionId, tenantId: run.tenantId }, include: { model: true } });
      if (!base) throw new TrainerApiError(404, 'The base model version of this fine-tune is gone');
      parentVersionId = base.id;
      target = cfg.targetModelId ? { id: cfg.targetModelId } : { name: cfg.targetModelName ?? base.model.name, modality: base.model.modality };
    } else {
      const experiment = run.experimentId ? await this.db.experiment.findFirst({ where: { id: run.experimentId, tenantId: run.tenantId }, include: { datasetVersion: { include: { dataset: true } } } }) : null;
      if (!experiment) throw new TrainerApiError(404, 'The run has no experiment to name its model after');
      target = { name: experiment.name, modality: experiment.datasetVersion.dataset.modality };
    }
    try {
      return await this.db.$transaction(async (tx) => {
        const model =
          'id' in target
            ? await tx.model.findFirst({ where: { id: target.id, tenantId: run.tenantId } })
            : await tx.model.upsert({
                where: { tenantId_name: { tenantId: run.tenantId, name: target.name } },
                create: { tenantId: run.tenantId, name: target.name, modality: target.modality as never },
                update: {},
              });
        if (!model) throw new TrainerApiError(404, 'The model this run registers into is gone');
        const last = await tx.modelVersion.findFirst({ where: { modelId: model.id }, orderBy: { version: 'desc' }, select: { version: true } });
        const mv = await tx.modelVersion.create({
          data: {
            tenantId: run.tenantId,
            modelId: model.id,
            version: (last?.version ?? 0) + 1,
            runId: run.id,
            parentVersionId,
            onnxKey,
            tokenizerKey,
            weightsKey,
            inputSpec: report.inputSpec,
            embeddingDim: report.embeddingDim,
            ...(head ? { head } : {}),
            // Stamped with the dataset version it was computed on: alias promotion compares only like with like.
            ...(report.evaluation && typeof report.evaluation === 'object' && !Array.isArray(report.evaluation)
              ? { evaluation: { ...(report.evaluation as Prisma.InputJsonObject), datasetVersionId: evaluatedOn(cfg, report.evaluation) } }
              : {}),
          },
        });
        if (run.status === 'DISPATCHED') await transition(tx, run.id, 'DISPATCHED', 'RUNNING', {}, { attempt: run.attempt });
        const done = await transition(tx, run.id, 'RUNNING', 'SUCCEEDED', { progress: 1, error: null }, { attempt: run.attempt });
        if (!done) throw new TrainerApiError(409, 'The run is no longer running (cancelled or superseded); the model was not registered');
        await tx.runLog.create({ data: { tenantId: run.tenantId, runId: run.id, attempt: run.attempt, level: 'info', message: `registered model ${model.name} version ${mv.version}` } });
        return { modelId: model.id, modelVersionId: mv.id, version: mv.version };
      });
    } catch (err) {
      // A concurrent report won the UNIQUE(run_id) race: answer with its version.
      const again = await this.db.modelVersion.findUnique({ where: { runId: run.id } });
      if (again) return { modelId: again.modelId, modelVersionId: again.id, version: again.version };
      throw err;
    }
  }
}

/** The version a report was computed on: the run's evaluation version when the trainer says it used it, else its own. */
function evaluatedOn(cfg: ReturnType<typeof readRunConfig>, evaluation: unknown): string {
  const claimed = (evaluation as { datasetVersionId?: unknown }).datasetVersionId;
  const allowed = [cfg.datasetVersionId, ...(!isFineTuneConfig(cfg) && cfg.evaluation ? [cfg.evaluation.datasetVersionId] : [])];
  return typeof claimed === 'string' && allowed.includes(claimed) ? claimed : cfg.datasetVersionId;
}
