// Serving: `embed` and `predict` for a model reference. Resolves the reference in the registry, checks the options,
// takes the tenant's inference tokens, hands the resolved artifact to the inference runtime and records usage.
import type { ModelVersion } from '../../db/client';
import { AppError, badInput, ErrorCode } from '../../errors';
import {
  ENCODINGS,
  InferenceError,
  InferenceInputError,
  TRUNCATIONS,
  type EmbedOptions,
  type InferenceInput,
  type InferenceRuntime,
} from '../../inference';
import { type ApiInput, toInferenceInputs } from '../../inference/request-inputs';
import { requireTenant, type Principal } from '../auth/principal';
import { storedInputSpec, type ModelArtifacts } from './artifacts';
import type { ModelRegistry } from './registry';
import type { InferenceUsage } from './usage';

export interface EmbedRequest {
  model: string;
  inputs: ApiInput[];
  options?: { normalize?: boolean | null; dimensions?: number | null; truncate?: string | null; encoding?: string | null } | null;
}

/** The tenant's inference-input rate limit (RATE_LIMITED when its bucket is empty). */
export interface InferenceLimiter {
  consume(tenantId: string, kind: 'inference', cost: number): Promise<void>;
}

/** API inputs → runtime inputs for one stored version (sequences standardized with its training statistics). */
export function versionInputs(v: Pick<ModelVersion, 'inputSpec'>, inputs: readonly ApiInput[]): InferenceInput[] {
  return toInferenceInputs(storedInputSpec(v), inputs);
}

/** Runtime failures as the gateway's errors: bad input → BAD_USER_INPUT (per input index), overload → retryable. */
export function mapInferenceError(err: unknown): never {
  if (err instanceof InferenceInputError) throw badInput(err.message, err.problems.map((p) => ({ path: `inputs.${p.index}`, message: p.message })));
  if (err instanceof InferenceError) {
    if (err.code === 'OVERLOADED') throw new AppError(ErrorCode.INTERNAL, `Inference is overloaded; retry shortly (${err.message})`, { retryable: true });
    if (err.code === 'INVALID_INPUT' || err.code === 'LIMIT_EXCEEDED' || err.code === 'UNSUPPORTED') throw badInput(err.message);
  }
  throw err;
}

function checkTruncate(truncate: string | null | undefined): void {
  if (truncate && !(TRUNCATIONS as readonly string[]).includes(truncate)) throw badInput(`Unsupported truncate: "${truncate}". Should be one of: ${TRUNCATIONS.join(', ')}.`);
}

export class ModelServing {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly artifacts: ModelArtifacts,
    private readonly runtime: InferenceRuntime,
    private readonly usage: InferenceUsage,
    private readonly limiter?: InferenceLimiter,
  ) {}

  /** Inputs over the per-request maximum are refused by the runtime without spending the tenant's tokens. */
  private async takeInputs(tenantId: string, n: number): Promise<void> {
    if (!this.limiter || n > this.runtime.limits.maxInputs) return;
    await this.limiter.consume(tenantId, 'inference', n);
  }

  async embed(p: Principal, req: EmbedRequest) {
    const t = requireTenant(p, 'READER');
    const v = await this.registry.resolve(t, req.model);
    const o = req.options ?? {};
    checkTruncate(o.truncate);
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
      const res = await this.runtime.embed(await this.artifacts.get(v), versionInputs(v, req.inputs), options);
      this.usage.record(t.tenantId, v.id, req.inputs.length);
      return { modelVersion: v, embeddingSpace: `${v.modelId}:${v.id}`, dims: res.dims, embeddings: res.vectors.map((vec, index) => ({ index, ...vec })) };
    } catch (err) {
      mapInferenceError(err);
    }
  }

  async predict(p: Principal, req: { model: string; inputs: EmbedRequest['inputs']; topK?: number | null; truncate?: string | null }) {
    const t = requireTenant(p, 'READER');
    const v = await this.registry.resolve(t, req.model);
    if (!v.head) throw badInput(`Model version ${v.version} has no prediction head; fine-tune it first (createFineTune)`);
    if (req.inputs.length === 0) throw badInput('inputs must not be empty');
    checkTruncate(req.truncate);
    await this.takeInputs(t.tenantId, req.inputs.length);
    try {
      const artifact = await this.artifacts.get(v);
      const res = await this.runtime.predict(artifact, versionInputs(v, req.inputs), {
        ...(req.topK != null ? { topK: req.topK } : {}),
        ...(req.truncate ? { truncate: req.truncate as EmbedOptions['truncate'] } : {}),
      });
      this.usage.record(t.tenantId, v.id, req.inputs.length);
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
      mapInferenceError(err);
    }
  }

  /** One query's normalized float embedding (similarity search); the caller has resolved `v` and checked access. */
  async embedQuery(tenantId: string, v: ModelVersion, query: ApiInput): Promise<number[]> {
    await this.takeInputs(tenantId, 1);
    try {
      const res = await this.runtime.embed(await this.artifacts.get(v), versionInputs(v, [query]), { normalize: true, encoding: 'FLOAT', truncate: 'END' });
      return (res.vectors[0] as { values: number[] }).values;
    } catch (err) {
      mapInferenceError(err);
    }
  }
}
