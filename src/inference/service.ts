/**
 * The inference runtime: cached sessions, one micro-batcher per loaded model, shared preprocessing and
 * postprocessing. It receives a resolved artifact and returns numbers; model lookup, auth and quotas live above it.
 *
 *   const rt = new InferenceRuntime({ cacheBudgetBytes, batch: { maxBatchSize, maxWaitMs, maxQueueRows }, limits });
 *   await rt.embed(artifact, [{ text: 'hi' }], { normalize, dimensions, encoding, truncate })
 *     → { vectors: EncodedVector[], dims, modelVersionId, tokens }
 *   await rt.predict(artifact, inputs, { topK, truncate })
 *     → classifier: { kind: 'classification', predictions: [{ probabilities, top: [{ index, label, probability }] }] }
 *       regressor:  { kind: 'regression', predictions: [{ values }] }
 *   await rt.evict(modelVersionId); await rt.close();
 *
 * Errors: InferenceInputError (bad input, with its index), InferenceLimitError (request limits), OverloadedError
 * (model queue full), InferenceError UNSUPPORTED (e.g. predict on a model without a classifier/regressor output).
 */
import { availableParallelism } from 'node:os';
import { type ModelSpec, assertModelSpec, embeddingDim } from '../models/spec';
import { readModelMetadata } from '../models/onnx/metadata';
import { TextTokenizer } from '../contracts/tokenizer';
// The stages in the order a request meets them: preprocess (over the contracts' shared code), batcher, ORT, postprocess.
import { type InferenceInput, type PreparedRow, type Truncation, type PrepareLimits, prepareInputs } from './preprocess';
import { type BatchOutput, type BatcherOptions, MicroBatcher, resolveBatcherOptions } from './batcher';
import { SessionCache } from './cache';
import { InferenceError, InferenceLimitError } from './errors';
import { packFeeds } from './feeds';
import { type OnnxSession, loadSession } from './onnx';
import { type Encoding, type EncodedVector, ENCODINGS, encodeVectors, l2Normalize, softmax, topK, truncateDimensions } from './postprocess';

/** What the model registry resolves a model version to. */
export interface ModelArtifact {
  modelVersionId: string;
  /** model.onnx as written by exportOnnx. */
  onnx: Uint8Array;
  /** The model spec; default: the one exportOnnx stored in the ONNX metadata. */
  spec?: ModelSpec;
  /** tokenizer.json; required for text (tokens) models. */
  tokenizerJson?: string;
  /** Class names by index, for classifier heads. */
  labels?: readonly string[];
}

export interface RequestLimits extends PrepareLimits {
  /** Most inputs in one request. */
  maxInputs: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = { maxInputs: 2048, maxTokens: 300_000, maxImageBytes: 8 * 2 ** 20, maxImagePixels: 4096 * 4096 };

export interface RuntimeOptions {
  /** Memory budget of cached models, bytes (default 2 GiB). */
  cacheBudgetBytes?: number;
  /** Estimated memory per ONNX file byte (see cache.ts; default 3). */
  sizeFactor?: number;
  batch?: Partial<BatcherOptions>;
  limits?: Partial<RequestLimits>;
  /** onnxruntime threads per operator (default: its choice, one per core; with workers, cores / workers). */
  intraOpThreads?: number;
  /**
   * Worker threads per loaded model, one session each (0: run on the event loop, which onnxruntime-node blocks for
   * the whole forward pass). With workers, up to that many batches run at once (the batcher's maxInFlight).
   */
  workers?: number;
}

export interface EmbedOptions {
  /** L2-normalize (after any truncation). Default true. */
  normalize?: boolean;
  /** Matryoshka truncation to the first `dimensions` values (1..model width). */
  dimensions?: number;
  /** Default FLOAT. */
  encoding?: Encoding;
  /** Text longer than the model's maxLength: NONE (default) → error, START/END → cut there. */
  truncate?: Truncation;
}

export interface EmbedResult {
  vectors: EncodedVector[];
  dims: number;
  modelVersionId: string;
  /** Tokens processed (text models), for usage records. */
  tokens: number;
}

export interface PredictOptions {
  /** Classes listed per input, most probable first (default 5, at most the class count). */
  topK?: number;
  truncate?: Truncation;
}

export type PredictResult =
  | {
      kind: 'classification';
      modelVersionId: string;
      predictions: { probabilities: number[]; top: { index: number; label: string | null; probability: number }[] }[];
    }
  | { kind: 'regression'; modelVersionId: string; predictions: { values: number[] }[] };

const PREDICT_OUTPUTS = ['logits', 'predictions'] as const;

/** A model ready to serve: its session, spec, tokenizer and batcher. Disposing drains the queue first. */
export class LoadedModel {
  readonly batcher: MicroBatcher<PreparedRow>;
  readonly embeddingDim: number;

  constructor(
    readonly id: string,
    readonly session: OnnxSession,
    readonly spec: ModelSpec,
    readonly tokenizer: TextTokenizer | undefined,
    readonly labels: readonly string[] | undefined,
    batch: BatcherOptions,
  ) {
    this.embeddingDim = embeddingDim(spec);
    this.batcher = new MicroBatcher<PreparedRow>(id, (rows, outputs) => session.run(packFeeds(spec.input, rows), outputs), batch);
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async dispose(): Promise<void> {
    await this.batcher.close();
    await this.session.dispose();
  }
}

export async function loadModel(artifact: ModelArtifact, batch: BatcherOptions, intraOpThreads?: number, workers = 0): Promise<LoadedModel> {
  const spec = artifact.spec ? assertModelSpec(artifact.spec) : readModelMetadata(artifact.onnx).spec;
  let tokenizer: TextTokenizer | undefined;
  if (spec.input.kind === 'tokens') {
    if (!artifact.tokenizerJson) {
      throw new InferenceError('UNSUPPORTED', `Model ${artifact.modelVersionId} takes text but its artifact has no tokenizer.json.`);
    }
    tokenizer = TextTokenizer.fromJSON(artifact.tokenizerJson);
    // The graph's embedding table and masks assume these; a mismatched tokenizer would give wrong, not failing, output.
    if (tokenizer.vocabSize > spec.input.vocabSize || tokenizer.padId !== spec.input.padId || tokenizer.clsId !== spec.input.clsId) {
      throw new InferenceError(
        'UNSUPPORTED',
        `Model ${artifact.modelVersionId}: tokenizer (vocab ${tokenizer.vocabSize}, pad ${tokenizer.padId}, cls ${tokenizer.clsId}) does not match the spec (vocab ${spec.input.vocabSize}, pad ${spec.input.padId}, cls ${spec.input.clsId}).`,
      );
    }
  }
  const session = await loadSession(artifact.onnx, { ...(intraOpThreads === undefined ? {} : { intraOpThreads }), workers });
  if (!session.outputNames.includes('embedding')) {
    await session.dispose();
    throw new InferenceError('UNSUPPORTED', `Model ${artifact.modelVersionId} has no "embedding" output (outputs: ${session.outputNames.join(', ')}); was it exported by exportOnnx?`);
  }
  return new LoadedModel(artifact.modelVersionId, session, spec, tokenizer, artifact.labels, batch);
}

export class InferenceRuntime {
  readonly limits: RequestLimits;
  private readonly batch: BatcherOptions;
  private readonly cache: SessionCache<LoadedModel>;

  private readonly intraOpThreads: number | undefined;
  private readonly workers: number;

  constructor(opts: RuntimeOptions = {}) {
    this.workers = opts.workers ?? 0;
    if (!(Number.isInteger(this.workers) && this.workers >= 0)) throw new RangeError(`workers must be an integer ≥ 0, got ${this.workers}.`);
    // Every worker's session gets its share of the cores, so N workers never run more ORT threads than there are cores.
    this.intraOpThreads = opts.intraOpThreads ?? (this.workers > 0 ? Math.max(1, Math.floor(availableParallelism() / this.workers)) : undefined);
    this.batch = resolveBatcherOptions({ ...(this.workers > 0 ? { maxInFlight: this.workers } : {}), ...opts.batch });
    this.limits = { ...DEFAULT_REQUEST_LIMITS, ...opts.limits };
    for (const [key, value] of Object.entries(this.limits)) {
      if (!(Number.isInteger(value) && value >= 1)) throw new RangeError(`limits.${key} must be an integer ≥ 1, got ${value}.`);
    }
    this.cache = new SessionCache<LoadedModel>({ budgetBytes: opts.cacheBudgetBytes ?? 2 * 2 ** 30, sizeFactor: opts.sizeFactor });
  }

  /** The loaded model for an artifact (loaded once, cached). */
  model(artifact: ModelArtifact): Promise<LoadedModel> {
    return this.cache.get(artifact.modelVersionId, artifact.onnx.byteLength * Math.max(1, this.workers), () => loadModel(artifact, this.batch, this.intraOpThreads, this.workers));
  }

  async embed(artifact: ModelArtifact, inputs: readonly InferenceInput[], options: EmbedOptions = {}): Promise<EmbedResult> {
    const encoding = options.encoding ?? 'FLOAT';
    if (!ENCODINGS.includes(encoding)) throw new InferenceError('INVALID_INPUT', `Unsupported encoding: "${String(encoding)}". Should be one of: ${ENCODINGS.join(', ')}.`);
    this.checkCount(inputs);
    const model = await this.model(artifact);
    const width = model.embeddingDim;
    const dims = options.dimensions ?? width;
    if (!(Number.isInteger(dims) && dims >= 1 && dims <= width)) {
      throw new InferenceError('INVALID_INPUT', `dimensions must be an integer from 1 to ${width} (this model's embedding width), got ${dims}.`);
    }
    const prepared = await prepareInputs(model.spec.input, inputs, { truncate: options.truncate, tokenizer: model.tokenizer, limits: this.limits });
    const out = await this.submit(artifact, model, prepared.rows, 'embedding');
    let data = dims === width ? out.data : truncateDimensions(out.data, width, dims);
    if (options.normalize ?? true) data = l2Normalize(data, dims);
    return { vectors: encodeVectors(data, dims, encoding), dims, modelVersionId: artifact.modelVersionId, tokens: prepared.tokens };
  }

  async predict(artifact: ModelArtifact, inputs: readonly InferenceInput[], options: PredictOptions = {}): Promise<PredictResult> {
    this.checkCount(inputs);
    const model = await this.model(artifact);
    const output = PREDICT_OUTPUTS.find((name) => model.outputNames.includes(name));
    const head = model.spec.head;
    if (!output || (head && head.kind !== 'classifier' && head.kind !== 'regressor')) {
      throw new InferenceError(
        'UNSUPPORTED',
        `Model ${artifact.modelVersionId} cannot predict: it needs a classifier (logits) or regressor (predictions) head; it has ${head ? `a ${head.kind} head` : 'no head'} and outputs ${model.outputNames.join(', ')}.`,
      );
    }
    const prepared = await prepareInputs(model.spec.input, inputs, { truncate: options.truncate, tokenizer: model.tokenizer, limits: this.limits });
    const out = await this.submit(artifact, model, prepared.rows, output);
    const rows = inputs.length;
    const id = artifact.modelVersionId;
    if (output === 'predictions') {
      return { kind: 'regression', modelVersionId: id, predictions: Array.from({ length: rows }, (_, r) => ({ values: Array.from(out.data.subarray(r * out.width, (r + 1) * out.width)) })) };
    }
    const k = options.topK ?? 5;
    if (!(Number.isInteger(k) && k >= 1)) throw new InferenceError('INVALID_INPUT', `topK must be an integer ≥ 1, got ${k}.`);
    const probs = softmax(out.data, out.width);
    return {
      kind: 'classification',
      modelVersionId: id,
      predictions: Array.from({ length: rows }, (_, r) => {
        const p = probs.subarray(r * out.width, (r + 1) * out.width);
        return {
          probabilities: Array.from(p),
          top: topK(p, k).map((index) => ({ index, label: model.labels?.[index] ?? null, probability: p[index] })),
        };
      }),
    };
  }

  /** Unloads a model (after its queued work). Resolves false when it was not loaded. */
  evict(modelVersionId: string): Promise<boolean> {
    return this.cache.evict(modelVersionId);
  }

  cacheStats() {
    return this.cache.stats();
  }

  /** Unloads every model. */
  close(): Promise<void> {
    return this.cache.clear();
  }

  /**
   * Submits to the model's batcher; if the model was evicted between loading and submitting (its batcher answers
   * CLOSED), loads it again once. Rows are valid for the reload too: one model version id, one spec.
   */
  private async submit(artifact: ModelArtifact, model: LoadedModel, rows: PreparedRow[], output: string): Promise<BatchOutput> {
    try {
      return await model.batcher.submit(rows, output);
    } catch (e) {
      if (!(e instanceof InferenceError && e.code === 'CLOSED')) throw e;
      return (await this.model(artifact)).batcher.submit(rows, output);
    }
  }

  private checkCount(inputs: readonly InferenceInput[]): void {
    if (!Array.isArray(inputs) || inputs.length === 0) throw new InferenceError('INVALID_INPUT', 'inputs must be a non-empty list');
    if (inputs.length > this.limits.maxInputs) {
      throw new InferenceLimitError('maxInputs', this.limits.maxInputs, inputs.length, `Request has ${inputs.length} inputs, more than the limit of ${this.limits.maxInputs}; split it into smaller requests.`);
    }
  }
}
