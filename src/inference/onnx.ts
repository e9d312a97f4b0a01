/**
 * The one module that imports onnxruntime-node. Everything else runs ONNX models through this adapter, with
 * plain typed arrays in and out.
 *
 *   const session = await loadSession(bytes, { intraOpThreads?: number });
 *   session.inputNames / session.outputNames
 *   const out = await session.run({ pixels: { type: 'float32', data, dims: [B,H,W,C] } });
 *   out.embedding → { type: 'float32', data: Float32Array, dims: number[] }
 *   await session.dispose();
 *
 * Data is copied into typed arrays created here (inputs; a float32 feed that already is a Float32Array of this
 * realm is passed through, and must not be changed until run() settles) and into fresh arrays (outputs): the
 * native binding and jest's per-file realm otherwise disagree on `instanceof Float32Array` (jest issue 11864).
 */
import * as ort from 'onnxruntime-node';

export type FeedType = 'float32' | 'int64';

export interface FeedTensor {
  type: FeedType;
  /** float32: any numeric array; int64: bigint or number arrays (numbers must be safe integers). */
  data: ArrayLike<number> | ArrayLike<bigint>;
  dims: number[];
}

export type OutputTensor =
  | { type: 'float32'; data: Float32Array; dims: number[] }
  | { type: 'int64'; data: BigInt64Array; dims: number[] };

export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; `outputs` limits which outputs are computed (default: all). */
  run(feeds: Record<string, FeedTensor>, outputs?: string[]): Promise<Record<string, OutputTensor>>;
  dispose(): Promise<void>;
}

export interface LoadOptions {
  /** Threads per operator (default: ONNX Runtime's choice). */
  intraOpThreads?: number;
}

const FEED_TYPES: FeedType[] = ['float32', 'int64'];

function toOrtTensor(name: string, feed: FeedTensor): ort.Tensor {
  const size = feed.dims.reduce((a, b) => a * b, 1);
  if (feed.data.length !== size) {
    throw new Error(`Input "${name}": ${feed.data.length} values do not fill dims [${feed.dims}] (${size})`);
  }
  switch (feed.type) {
    case 'float32': {
      // A Float32Array of this realm is handed over as is (the run only reads it), saving a copy per batch;
      // anything else, including arrays of another realm, is copied as before.
      if (feed.data instanceof Float32Array) return new ort.Tensor('float32', feed.data, feed.dims);
      const data = new Float32Array(size);
      for (let i = 0; i < size; i++) data[i] = Number(feed.data[i]);
      return new ort.Tensor('float32', data, feed.dims);
    }
    case 'int64': {
      const data = new BigInt64Array(size);
      for (let i = 0; i < size; i++) data[i] = BigInt(feed.data[i]);
      return new ort.Tensor('int64', data, feed.dims);
    }
    default:
      throw new Error(`Unsupported input type: "${String(feed.type)}". Should be one of: ${FEED_TYPES.join(', ')}.`);
  }
}

function fromOrtTensor(name: string, tensor: ort.Tensor): OutputTensor {
  const dims = [...tensor.dims];
  switch (tensor.type) {
    case 'float32':
      return { type: 'float32', data: Float32Array.from(tensor.data as ArrayLike<number>), dims };
    case 'int64': {
      const src = tensor.data as ArrayLike<bigint>;
      const data = new BigInt64Array(src.length);
      for (let i = 0; i < src.length; i++) data[i] = src[i];
      return { type: 'int64', data, dims };
    }
    default:
      throw new Error(`Output "${name}" has unsupported type "${tensor.type}". Should be one of: ${FEED_TYPES.join(', ')}.`);
  }
}

class OrtSession implements OnnxSession {
  constructor(private readonly session: ort.InferenceSession) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Record<string, FeedTensor>, outputs?: string[]): Promise<Record<string, OutputTensor>> {
    const missing = this.inputNames.filter((n) => !(n in feeds));
    const unknown = Object.keys(feeds).filter((n) => !this.inputNames.includes(n));
    if (missing.length || unknown.length) {
      throw new Error(
        `Feeds do not match the model inputs: missing [${missing.join(', ')}], unknown [${unknown.join(', ')}]. ` +
          `Should be: ${this.inputNames.join(', ')}.`,
      );
    }
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(name, feed);
    const results = outputs ? await this.session.run(ortFeeds, outputs) : await this.session.run(ortFeeds);
    const out: Record<string, OutputTensor> = {};
    for (const [name, tensor] of Object.entries(results)) {
      out[name] = fromOrtTensor(name, tensor);
      tensor.dispose();
    }
    for (const t of Object.values(ortFeeds)) t.dispose();
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Loads an ONNX model from bytes on the CPU execution provider. */
export async function loadSession(bytes: Uint8Array, opts: LoadOptions = {}): Promise<OnnxSession> {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' };
  if (opts.intraOpThreads !== undefined) options.intraOpNumThreads = opts.intraOpThreads;
  const session = await ort.InferenceSession.create(bytes, options);
  return new OrtSession(session);
}
