// The model registry (models, immutable versions, atomically switched aliases) and serving: `embed` and
// `similar` over ONNX Runtime through the inference runtime, which receives resolved artifacts only.
import type { Logger } from 'pino';
import type { Db, EmbeddingSpace, Model, ModelVersion } from '../../db/client';
import { isUniqueViolation, isUuid } from '../../db/errors';
import { AppError, badInput, conflict, ErrorCode, notFound } from '../../errors';
import {
  ENCODINGS,
  ExactIndex,
  HnswIndex,
  InferenceError,
  InferenceInputError,
  readVectorIndex,
  TRUNCATIONS,
  type EmbedOptions,
  type InferenceInput,
  type InferenceRuntime,
  type ModelArtifact,
  type VectorIndex,
} from '../../inference';
import { type ApiInput, toInferenceInputs } from '../../inference/request-inputs';
import { ingestStoreFrom, readManifest, readShards, type Row } from '../../ingest';
import type { StoredInputSpec } from '../../models/stored-spec';
import { tenantKey, type ObjectStore } from '../../storage';
import { recordAudit } from '../audit/repository';
import { actorOf, requireTenant, type Principal, type TenantPrincipal } from '../auth/principal';
import { headlineScore, parseModelRef } from './reference';


export interface EmbedRequest {
  model: string;
  inputs: ApiInput[];
  options?: { normalize?: boolean | null; dimensions?: number | null; truncate?: string | null; encoding?: string | null } | null;
}

const ALIAS = /^[a-z][a-z0-9_-]{0,39}$/;
/** Above this many rows an embedding space also gets an HNSW index; below, exact search is fast enough. */
const HNSW_MIN_ROWS = 20_000;
const SPACE_BATCH = 256;
/** How long a resolved model reference is reused; alias switches in this process take effect at once. */
const RESOLVE_TTL_MS = 5_000;
const USAGE_FLUSH_MS = 5_000;

export class ModelService {
  private readonly artifacts = new Map<string, Promise<ModelArtifact>>();
  private readonly indexes = new Map<string, Promise<{ index: VectorIndex; rows: Int32Array; labels: Array<string | null>; splits: string[] }>>();
  private building: Promise<void> = Promise.resolve();
  /** Model references resolved recently (`tenant|ref` → version), so serving does not query the registry per request. */
  private readonly resolved = new Map<string, { version: ModelVersion; expires: number }>();
  /** Inference usage is summed in memory and written every few seconds, not once per request. */
  private readonly usage = new Map<string, { tenantId: string; versionId: string; inputs: number }>();
  private readonly usageTimer: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
    private readonly runtime: InferenceRuntime,
    private readonly log: Logger,
    /** The tenant's inference-input rate limit (RATE_LIMITED when its bucket is empty). */
    private readonly limiter?: { consume(tenantId: string, kind: 'inference', cost: number): Promise<void> },
  ) {
    this.usageTimer = setInterval(() => void this.flushUsage(), USAGE_FLUSH_MS);
    this.usageTimer.unref();
  }

  async flushUsage(): Promise<void> {
    const pending = [...this.usage.values()];
    this.usage.clear();
    if (pending.length === 0) return;
    await this.db.usageRecord
      .createMany({ data: pending.map((u) => ({ tenantId: u.tenantId, kind: 'inference.inputs', quantity: BigInt(u.inputs), ref: u.versionId })) })
      .catch((err: unknown) => this.log.warn({ err }, 'could not record inference usage'));
  }

  async close(): Promise<void> {
    clearInterval(this.usageTimer);
    await this.building;
    await this.flushUsage();
  }

  // --- registry ---------------------------------------------------------------------------------------------

  list(p: Principal): Promise<Model[]> {
    const t = requireTenant(p, 'READER');
    return this.db.model.findMany({ where: { tenantId: t.tenantId }, orderBy: { createdAt: 'desc' } });
  }

  async get(p: Principal, id: string): Promise<Model> {
    const t = requireTenant(p, 'READER');
    const m = isUuid(id) ? await this.db.model.findFirst({ where: { id, tenantId: t.tenantId } }) : null;
    if (!m) throw notFound('Model', id);
    return m;
  }

  versions(m: Model): Promise<ModelVersion[]> {
    return this.db.modelVersion.findMany({ where: { modelId: m.id, tenantId: m.tenantId }, orderBy: { version: 'desc' } });
  }

  aliases(m: Model) {
    return this.db.modelAlias.findMany({ where: { modelId: m.id, tenantId: m.tenantId }, include: { modelVersion: true }, orderBy: { alias: 'asc' } });
  }

  async versionAliases(v: ModelVersion): Promise<string[]> {
    return (await this.db.modelAlias.findMany({ where: { modelVersionId: v.id, tenantId: v.tenantId }, select: { alias: true } })).map((a) => a.alias);
  }

  modelOf(v: ModelVersion): Promise<Model> {
    return this.db.model.findUniqueOrThrow({ where: { id: v.modelId } });
  }

  /** A version by id, or by a reference (`name@v3`, `name@alias`, `name`) within the caller's tenant. */
  async getVersion(p: Principal, id: string): Promise<ModelVersion> {
    const t = requireTenant(p, 'READER');
    if (!isUuid(id)) return this.resolve(t, id);
    const v = await this.db.modelVersion.findFirst({ where: { id, tenantId: t.tenantId } });
    if (!v) throw notFound('Model version', id);
    return v;
  }

  /** `name@alias`, `name@v3`, `name` (its `production` alias, else its newest version), a model id or a version id. */
  async resolve(t: TenantPrincipal, ref: string): Promise<ModelVersion> {
    const key = `${t.tenantId}|${ref}`;
    const hit = this.resolved.get(key);
    if (hit && hit.expires > Date.now()) return hit.version;
    const version = await this.resolveUncached(t, ref);
    if (this.resolved.size >= 10_000) this.resolved.delete(this.resolved.keys().next().value!);
    this.resolved.set(key, { version, expires: Date.now() + RESOLVE_TTL_MS });
    return version;
  }

  private async resolveUncached(t: TenantPrincipal, ref: string): Promise<ModelVersion> {
    const parsed = parseModelRef(ref);
    if (!parsed) throw badInput(`Invalid model reference "${ref}": use a model version id, a model id, or name, name@alias, name@v3`);
    if (parsed.kind === 'id') {
      const v = await this.db.modelVersion.findFirst({ where: { id: parsed.id, tenantId: t.tenantId } });
      if (v) return v;
      const m = await this.db.model.findFirst({ where: { id: parsed.id, tenantId: t.tenantId } });
      if (m) return this.defaultVersion(m, ref);
      throw notFound('Model', ref);
    }
    const m = await this.db.model.findFirst({ where: { tenantId: t.tenantId, name: parsed.name } });
    if (!m) throw notFound('Model', ref);
    if (parsed.version !== null) {
      const v = await this.db.modelVersion.findFirst({ where: { modelId: m.id, version: parsed.version } });
      if (!v) throw notFound('Model version', ref);
      return v;
    }
    if (parsed.alias) {
      const a = await this.db.modelAlias.findFirst({ where: { modelId: m.id, alias: parsed.alias }, include: { modelVersion: true } });
      if (!a) throw notFound('Model alias', ref);
      return a.modelVersion;
    }
    return this.defaultVersion(m, ref);
  }

  private async defaultVersion(m: Model, ref: string): Promise<ModelVersion> {
    const prod = await this.db.modelAlias.findFirst({ where: { modelId: m.id, alias: 'production' }, include: { modelVersion: true } });
    if (prod) return prod.modelVersion;
    const latest = await this.db.modelVersion.findFirst({ where: { modelId: m.id }, orderBy: { version: 'desc' } });
    if (!latest) throw notFound('Model version', ref);
    return latest;
  }

  /**
   * Points an alias at a version in one statement (readers see the old or the new target, never neither).
   * Evaluation-gated: moving an alias to a version that scores worse than the current target needs `force`.
   */
  async setAlias(p: Principal, input: { modelId: string; alias: string; versionId: string; force?: boolean | null }) {
    const t = requireTenant(p, 'MEMBER');
    if (!ALIAS.test(input.alias)) throw badInput('alias: 1-40 characters, lowercase letters, digits, _ and -, starting with a letter');
    const m = isUuid(input.modelId) ? await this.db.model.findFirst({ where: { id: input.modelId, tenantId: t.tenantId } }) : null;
    if (!m) throw notFound('Model', input.modelId);
    const v = isUuid(input.versionId) ? await this.db.modelVersion.findFirst({ where: { id: input.versionId, modelId: m.id, tenantId: t.tenantId } }) : null;
    if (!v) throw notFound('Model version', input.versionId);
    const current = await this.db.modelAlias.findFirst({ where: { modelId: m.id, alias: input.alias }, include: { modelVersion: true } });
    if (current && current.modelVersionId !== v.id && !input.force) {
      const before = headlineScore(current.modelVersion.evaluation);
      const after = headlineScore(v.evaluation);
      const datasets = [current.modelVersion.evaluation, v.evaluation].map((e) => (e as { datasetVersionId?: string } | null)?.datasetVersionId);
      if (before && after && datasets[0] && datasets[1] && datasets[0] !== datasets[1]) {
        throw conflict(
          `Version ${v.version} was evaluated on dataset version ${datasets[1]} and the current "${input.alias}" (version ${current.modelVersion.version}) on ${datasets[0]}: the scores are not comparable; pass force: true to promote it anyway`,
        );
      }
      if (before && (!after || (after.metric === before.metric && after.value < before.value) || after.metric !== before.metric)) {
        throw conflict(
          `Version ${v.version} scores ${after ? `${after.metric} ${after.value.toFixed(4)}` : 'no evaluation'} against ${before.metric} ${before.value.toFixed(4)} for the current "${input.alias}" (version ${current.modelVersion.version}); pass force: true to promote it anyway`,
        );
      }
    }
    const alias = await this.db.$transaction(async (tx) => {
      const a = await tx.modelAlias.upsert({
        where: { modelId_alias: { modelId: m.id, alias: input.alias } },
        create: { tenantId: t.tenantId, modelId: m.id, alias: input.alias, modelVersionId: v.id },
        update: { modelVersionId: v.id, updatedAt: new Date() },
        include: { modelVersion: true },
      });
      await recordAudit(tx, { tenantId: t.tenantId, actor: actorOf(p), action: 'model.alias', targetType: 'Model', targetId: m.id, data: { alias: input.alias, version: v.version, force: !!input.force } });
      return a;
    });
    for (const k of this.resolved.keys()) if (k.startsWith(`${t.tenantId}|`)) this.resolved.delete(k);
    return alias;
  }

  // --- serving ----------------------------------------------------------------------------------------------

  /** Whole small objects (model files, index files) — these are loaded into memory anyway. */
  private async readObject(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.store.get(key)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  private artifact(v: ModelVersion): Promise<ModelArtifact> {
    let a = this.artifacts.get(v.id);
    if (!a) {
      a = (async () => {
        const spec = (v.inputSpec as unknown as StoredInputSpec).spec;
        return {
          modelVersionId: v.id,
          onnx: new Uint8Array(await this.readObject(v.onnxKey)),
          spec,
          ...(v.tokenizerKey ? { tokenizerJson: (await this.readObject(v.tokenizerKey)).toString('utf8') } : {}),
          ...(v.head && Array.isArray((v.head as { labels?: unknown }).labels) ? { labels: (v.head as { labels: string[] }).labels } : {}),
        };
      })();
      a.catch(() => this.artifacts.delete(v.id));
      // Versions are immutable, so cached artifacts never go stale; keep only a handful of their bytes around.
      if (this.artifacts.size >= 16) this.artifacts.delete(this.artifacts.keys().next().value!);
      this.artifacts.set(v.id, a);
    }
    return a;
  }

  private toInferenceInputs(v: ModelVersion, inputs: EmbedRequest['inputs']): InferenceInput[] {
    return toInferenceInputs(v.inputSpec as unknown as StoredInputSpec, inputs);
  }

  private mapInferenceError(err: unknown): never {
    if (err instanceof InferenceInputError) throw badInput(err.message, err.problems.map((p) => ({ path: `inputs.${p.index}`, message: p.message })));
    if (err instanceof InferenceError) {
      if (err.code === 'OVERLOADED') throw new AppError(ErrorCode.INTERNAL, `Inference is overloaded; retry shortly (${err.message})`, { retryable: true });
      if (err.code === 'INVALID_INPUT' || err.code === 'LIMIT_EXCEEDED' || err.code === 'UNSUPPORTED') throw badInput(err.message);
    }
    throw err;
  }

  /** Inputs over the per-request maximum are refused by the runtime without spending the tenant's tokens. */
  private async takeInputs(tenantId: string, n: number): Promise<void> {
    if (!this.limiter || n > this.runtime.limits.maxInputs) return;
    await this.limiter.consume(tenantId, 'inference', n);
  }

  async embed(p: Principal, req: EmbedRequest) {
    const t = requireTenant(p, 'READER');
    const v = await this.resolve(t, req.model);
    const o = req.options ?? {};
    if (o.truncate && !(TRUNCATIONS as readonly string[]).includes(o.truncate)) throw badInput(`Unsupported truncate: "${o.truncate}". Should be one of: ${TRUNCATIONS.join(', ')}.`);
    if (o.encoding && !(ENCODINGS as readonly string[]).includes(o.encoding)) throw badInput(`Unsupported encoding: "${o.encoding}". Should be one of: ${ENCODINGS.join(', ')}.`);
    if (req.inputs.length === 0) throw badInput('inputs must not be empty');
    const options: EmbedOptions = {
      ...(o.normalize != null ? { normalize: o.normalize } : {}),
      ...(o.dimensions != null ? { dimensions: o.dimensions } : {}),
      ...(o.truncate ? { truncate: o.truncate as EmbedOptions['truncate'] } : {}),
      ...(o.encoding ? { encoding: o.encoding as EmbedOptions['encoding'] } : {}),
    };
    await this.takeInputs(t.tenantId, req.inputs.length);
    try {
      const res = await this.runtime.embed(await this.artifact(v), this.toInferenceInputs(v, req.inputs), options);
      const u = this.usage.get(v.id) ?? { tenantId: t.tenantId, versionId: v.id, inputs: 0 };
      u.inputs += req.inputs.length;
      this.usage.set(v.id, u);
      return { modelVersion: v, embeddingSpace: `${v.modelId}:${v.id}`, dims: res.dims, embeddings: res.vectors.map((vec, index) => ({ index, ...vec })) };
    } catch (err) {
      this.mapInferenceError(err);
    }
  }

  async predict(p: Principal, req: { model: string; inputs: EmbedRequest['inputs']; topK?: number | null; truncate?: string | null }) {
    const t = requireTenant(p, 'READER');
    const v = await this.resolve(t, req.model);
    if (!v.head) throw badInput(`Model version ${v.version} has no prediction head; fine-tune it first (createFineTune)`);
    if (req.inputs.length === 0) throw badInput('inputs must not be empty');
    if (req.truncate && !(TRUNCATIONS as readonly string[]).includes(req.truncate)) throw badInput(`Unsupported truncate: "${req.truncate}". Should be one of: ${TRUNCATIONS.join(', ')}.`);
    await this.takeInputs(t.tenantId, req.inputs.length);
    try {
      const artifact = await this.artifact(v);
      const res = await this.runtime.predict(artifact, this.toInferenceInputs(v, req.inputs), {
        ...(req.topK != null ? { topK: req.topK } : {}),
        ...(req.truncate ? { truncate: req.truncate as EmbedOptions['truncate'] } : {}),
      });
      const u = this.usage.get(v.id) ?? { tenantId: t.tenantId, versionId: v.id, inputs: 0 };
      u.inputs += req.inputs.length;
      this.usage.set(v.id, u);
      if (res.kind === 'classification') {
        return {
          modelVersion: v,
          task: 'CLASSIFICATION',
          labels: artifact.labels ? [...artifact.labels] : null,
          predictions: res.predictions.map((pr, index) => ({ index, label: pr.top[0]?.label ?? null, probabilities: pr.probabilities, top: pr.top, values: null })),
        };
      }
      return { modelVersion: v, task: 'REGRESSION', labels: null, predictions: res.predictions.map((pr, index) => ({ index, label: null, probabilities: null, top: null, values: pr.values })) };
    } catch (err) {
      this.mapInferenceError(err);
    }
  }

  // --- embedding spaces and similarity search ----------------------------------------------------------------

  spaceKey(tenantId: string, spaceId: string, file: string): string {
    return tenantKey(tenantId, 'spaces', spaceId, file);
  }

  /** Starts (or returns) the embedding space of a dataset version under a model version; built in the background. */
  async createSpace(p: Principal, input: { model: string; datasetVersionId: string }): Promise<EmbeddingSpace> {
    const t = requireTenant(p, 'MEMBER');
    const v = await this.resolve(t, input.model);
    const dv = isUuid(input.datasetVersionId)
      ? await this.db.datasetVersion.findFirst({ where: { id: input.datasetVersionId, tenantId: t.tenantId, dataset: { deletedAt: null } } })
      : null;
    if (!dv) throw notFound('Dataset version', input.datasetVersionId);
    if (dv.status !== 'READY') throw conflict(`Dataset version ${dv.version} is ${dv.status}; only READY versions can be embedded`);
    const existing = await this.db.embeddingSpace.findFirst({ where: { modelVersionId: v.id, datasetVersionId: dv.id } });
    if (existing && existing.status !== 'FAILED') return existing;
    let space: EmbeddingSpace;
    try {
      space = existing
        ? await this.db.embeddingSpace.update({ where: { id: existing.id }, data: { status: 'BUILDING', error: null, rows: 0 } })
        : await this.db.embeddingSpace.create({ data: { tenantId: t.tenantId, modelVersionId: v.id, datasetVersionId: dv.id, status: 'BUILDING', dim: v.embeddingDim } });
    } catch (err) {
      if (isUniqueViolation(err)) return this.db.embeddingSpace.findFirstOrThrow({ where: { modelVersionId: v.id, datasetVersionId: dv.id } });
      throw err;
    }
    this.building = this.building.then(() => this.buildSpace(space.id)).catch((err: unknown) => this.log.error({ err }, 'embedding space build crashed'));
    return space;
  }

  /** Resolves when every space build started so far has finished (tests, shutdown). */
  idle(): Promise<void> {
    return this.building;
  }

  private async buildSpace(spaceId: string): Promise<void> {
    const space = await this.db.embeddingSpace.findUniqueOrThrow({ where: { id: spaceId }, include: { modelVersion: true } });
    const dv = await this.db.datasetVersion.findUniqueOrThrow({ where: { id: space.datasetVersionId } });
    try {
      const store = ingestStoreFrom(this.store);
      const manifest = await readManifest(store, dv.manifestKey!);
      const artifact = await this.artifact(space.modelVersion);
      const dim = space.modelVersion.embeddingDim;
      const vectors = new Float32Array(manifest.rows * dim);
      const rowIds = new Int32Array(manifest.rows);
      const meta: Array<{ label: string | null; split: string }> = [];
      let n = 0;
      let batch: Row[] = [];
      const flush = async () => {
        if (!batch.length) return;
        const inputs = batch.map((r) => this.rowInput(space.modelVersion, r));
        const res = await this.runtime.embed(artifact, inputs, { normalize: true, encoding: 'FLOAT', truncate: 'END' });
        for (const [i, vec] of res.vectors.entries()) {
          vectors.set((vec as { values: number[] }).values, (n + i) * dim);
          rowIds[n + i] = batch[i]!.index;
          meta.push({ label: batch[i]!.label, split: batch[i]!.split });
        }
        n += batch.length;
        batch = [];
      };
      for await (const row of readShards(store, manifest)) {
        batch.push(row);
        if (batch.length >= SPACE_BATCH) await flush();
      }
      await flush();
      const used = vectors.subarray(0, n * dim);
      const index: VectorIndex = n >= HNSW_MIN_ROWS ? HnswIndex.build(used, dim, 'cosine') : ExactIndex.build(used, dim, 'cosine');
      const indexKey = this.spaceKey(space.tenantId, space.id, 'index.bin');
      const vectorsKey = this.spaceKey(space.tenantId, space.id, 'rows.json');
      await this.store.put(indexKey, Buffer.from(index.toBytes()));
      await this.store.put(vectorsKey, JSON.stringify({ rows: Array.from(rowIds.subarray(0, n)), meta }), { contentType: 'application/json' });
      await this.db.embeddingSpace.update({ where: { id: space.id }, data: { status: 'READY', rows: n, vectorsKey, indexKey } });
      this.log.info({ spaceId, rows: n, kind: n >= HNSW_MIN_ROWS ? 'hnsw' : 'exact' }, 'embedding space ready');
    } catch (err) {
      this.log.error({ err, spaceId }, 'embedding space failed');
      await this.db.embeddingSpace.update({ where: { id: space.id }, data: { status: 'FAILED', error: (err as Error).message.slice(0, 2000) } });
    }
  }

  private rowInput(v: ModelVersion, r: Row): InferenceInput {
    switch (r.modality) {
      case 'TEXT':
        return { text: r.text };
      case 'IMAGE':
        return { pixels: r.pixels };
      case 'SEQUENCE': {
        const spec = (v.inputSpec as unknown as StoredInputSpec).spec;
        const features = spec.input.kind === 'sequence' ? spec.input.features : 1;
        const steps: number[][] = [];
        for (let s = 0; s < r.length; s++) steps.push(Array.from(r.values.subarray(s * features, (s + 1) * features)));
        return this.toInferenceInputs(v, [{ sequence: steps }])[0]!;
      }
    }
  }

  private loadIndex(space: EmbeddingSpace) {
    let entry = this.indexes.get(space.id);
    if (!entry) {
      entry = (async () => {
        const index = readVectorIndex(new Uint8Array(await this.readObject(space.indexKey!)));
        const rows = JSON.parse((await this.readObject(space.vectorsKey!)).toString('utf8')) as { rows: number[]; meta: Array<{ label: string | null; split: string }> };
        return { index, rows: Int32Array.from(rows.rows), labels: rows.meta.map((m) => m.label), splits: rows.meta.map((m) => m.split) };
      })();
      entry.catch(() => this.indexes.delete(space.id));
      if (this.indexes.size >= 8) this.indexes.delete(this.indexes.keys().next().value!);
      this.indexes.set(space.id, entry);
    }
    return entry;
  }

  async getSpace(p: Principal, id: string): Promise<EmbeddingSpace> {
    const t = requireTenant(p, 'READER');
    const s = isUuid(id) ? await this.db.embeddingSpace.findFirst({ where: { id, tenantId: t.tenantId } }) : null;
    if (!s) throw notFound('Embedding space', id);
    return s;
  }

  async similar(p: Principal, input: { model: string; datasetVersionId: string; query: EmbedRequest['inputs'][number]; k?: number | null }) {
    const t = requireTenant(p, 'READER');
    const k = input.k ?? 10;
    if (!Number.isInteger(k) || k < 1 || k > 1000) throw badInput('k must be between 1 and 1000');
    const v = await this.resolve(t, input.model);
    const space = isUuid(input.datasetVersionId)
      ? await this.db.embeddingSpace.findFirst({ where: { modelVersionId: v.id, datasetVersionId: input.datasetVersionId, tenantId: t.tenantId } })
      : null;
    if (!space) throw notFound('Embedding space for dataset version', input.datasetVersionId);
    if (space.status !== 'READY') throw conflict(`The embedding space is ${space.status}${space.error ? `: ${space.error}` : ''}`);
    await this.takeInputs(t.tenantId, 1);
    let query: number[];
    try {
      const res = await this.runtime.embed(await this.artifact(v), this.toInferenceInputs(v, [input.query]), { normalize: true, encoding: 'FLOAT', truncate: 'END' });
      query = (res.vectors[0] as { values: number[] }).values;
    } catch (err) {
      this.mapInferenceError(err);
    }
    const { index, rows, labels, splits } = await this.loadIndex(space);
    const hits = index.search(query, Math.min(k, space.rows));
    return {
      modelVersion: v,
      embeddingSpace: `${v.modelId}:${v.id}`,
      neighbors: hits.map((h) => ({ row: rows[h.index]!, score: h.score, label: labels[h.index] ?? null, split: splits[h.index]! })),
    };
  }
}
