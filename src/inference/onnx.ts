/**
 * The one module that imports onnxruntime-node. Everything else runs ONNX models through this adapter, with
 * plain typed arrays in and out.
 *
 *   const session = await loadSession(bytes, { intraOpThreads?: number, workers?: number });
 *   session.inputNames / session.outputNames
 *   const out = await session.run({ pixels: { type: 'float32', data, dims: [B,H,W,C] } });
 *   out.embedding → { type: 'float32', data: Float32Array, dims: number[] }
 *   await session.dispose();
 *
 * Data is copied into typed arrays created here (inputs; a float32 feed that already is a Float32Array of this
 * realm is passed through, and must not be changed until run() settles) and into fresh arrays (outputs): the
 * native binding and jest's per-file realm otherwise disagree on `instanceof Float32Array` (jest issue 11864).
 *
 * onnxruntime-node runs a graph synchronously on the calling thread (its async `run` only defers to setImmediate),
 * so an in-process session blocks the event loop for the whole forward pass. `workers: N` instead loads the model
 * into N worker threads (one session each, `intraOpThreads` threads per session) and runs there: feeds are copied
 * once into buffers that are transferred (not copied again) to the thread, outputs are transferred back, up to N
 * runs proceed at once, and the event loop stays free for HTTP, GraphQL and preprocessing meanwhile.
 */
import { Worker } from 'node:worker_threads';
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
  /** Run in this many worker threads, one session each (default 0: on the calling thread). */
  workers?: number;
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

function sessionOptions(intraOpThreads: number | undefined): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' };
  if (intraOpThreads !== undefined) options.intraOpNumThreads = intraOpThreads;
  return options;
}

/** Loads an ONNX model from bytes on the CPU execution provider. */
export async function loadSession(bytes: Uint8Array, opts: LoadOptions = {}): Promise<OnnxSession> {
  const workers = opts.workers ?? 0;
  if (!(Number.isInteger(workers) && workers >= 0)) throw new RangeError(`workers must be an integer ≥ 0, got ${workers}; 0 runs on the calling thread.`);
  if (workers > 0) return WorkerSession.start(bytes, workers, opts.intraOpThreads);
  const session = await ort.InferenceSession.create(bytes, sessionOptions(opts.intraOpThreads));
  return new OrtSession(session);
}

// --- worker threads -------------------------------------------------------------------------------------------

/** A tensor as it crosses threads: its buffer is transferred, not copied. */
interface WireTensor {
  type: FeedType;
  buffer: ArrayBuffer;
  dims: number[];
}

type WorkerReply =
  | { kind: 'ready'; inputNames: string[]; outputNames: string[] }
  | { kind: 'result'; id: number; outputs: Record<string, WireTensor> }
  | { kind: 'error'; id: number; message: string };

// Plain JavaScript (the worker loads no TypeScript); onnxruntime-node is required by the path this module resolved,
// so this file stays its only import site and the worker finds it from any working directory.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const ctors = { float32: Float32Array, int64: BigInt64Array };
(async () => {
  let session;
  try {
    session = await ort.InferenceSession.create(workerData.bytes, workerData.options);
  } catch (e) {
    parentPort.postMessage({ kind: 'error', id: -1, message: String(e && e.message || e) });
    return;
  }
  parentPort.postMessage({ kind: 'ready', inputNames: session.inputNames, outputNames: session.outputNames });
  parentPort.on('message', async (m) => {
    if (m.kind === 'dispose') {
      await session.release();
      parentPort.close();
      return;
    }
    try {
      const feeds = {};
      for (const [name, t] of Object.entries(m.feeds)) feeds[name] = new ort.Tensor(t.type, new ctors[t.type](t.buffer), t.dims);
      const results = m.outputs ? await session.run(feeds, m.outputs) : await session.run(feeds);
      const outputs = {};
      const transfer = [];
      for (const [name, t] of Object.entries(results)) {
        if (!(t.type in ctors)) throw new Error('Output "' + name + '" has unsupported type "' + t.type + '". Should be one of: float32, int64.');
        const data = t.data.slice();
        outputs[name] = { type: t.type, buffer: data.buffer, dims: [...t.dims] };
        transfer.push(data.buffer);
        t.dispose();
      }
      for (const t of Object.values(feeds)) t.dispose();
      parentPort.postMessage({ kind: 'result', id: m.id, outputs }, transfer);
    } catch (e) {
      parentPort.postMessage({ kind: 'error', id: m.id, message: String(e && e.message || e) });
    }
  });
})();
`;

interface Pending {
  resolve: (out: Record<string, OutputTensor>) => void;
  reject: (e: Error) => void;
}

class SessionThread {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  exitError: Error | null = null;

  constructor(bytes: Uint8Array, intraOpThreads: number | undefined) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ortPath: require.resolve('onnxruntime-node'), bytes, options: sessionOptions(intraOpThreads) },
    });
    this.worker.on('message', (m: WorkerReply) => {
      if (m.kind === 'ready') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.kind === 'error') p.reject(new Error(m.message));
      else p.resolve(fromWire(m.outputs));
    });
    this.worker.on('exit', (code) => {
      this.exitError = new Error(`onnxruntime worker thread exited (code ${code})`);
      for (const p of this.pending.values()) p.reject(this.exitError);
      this.pending.clear();
    });
  }

  ready(): Promise<{ inputNames: string[]; outputNames: string[] }> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: WorkerReply) => {
        if (m.kind === 'ready') resolve(m);
        else if (m.kind === 'error' && m.id === -1) reject(new Error(m.message));
        else return;
        this.worker.off('message', onMessage);
      };
      this.worker.on('message', onMessage);
      this.worker.once('error', reject);
    });
  }

  run(id: number, feeds: Record<string, WireTensor>, outputs: string[] | undefined, transfer: ArrayBuffer[]): Promise<Record<string, OutputTensor>> {
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ kind: 'run', id, feeds, outputs }, transfer);
    });
  }
}

/** Wraps transferred buffers with this realm's typed-array constructors (see the header on realms). */
function fromWire(outputs: Record<string, WireTensor>): Record<string, OutputTensor> {
  const out: Record<string, OutputTensor> = {};
  for (const [name, t] of Object.entries(outputs)) {
    out[name] = t.type === 'float32' ? { type: 'float32', data: new Float32Array(t.buffer), dims: t.dims } : { type: 'int64', data: new BigInt64Array(t.buffer), dims: t.dims };
  }
  return out;
}

/** Feeds as fresh typed arrays this module owns (so their buffers can be transferred away). */
function toWire(name: string, feed: FeedTensor): WireTensor {
  const size = feed.dims.reduce((a, b) => a * b, 1);
  if (feed.data.length !== size) {
    throw new Error(`Input "${name}": ${feed.data.length} values do not fill dims [${feed.dims}] (${size})`);
  }
  switch (feed.type) {
    case 'float32': {
      // A copy, so the caller's array stays usable (transferring would detach it); a typed-array copy is a memcpy.
      const data = ArrayBuffer.isView(feed.data) ? new Float32Array(feed.data as Float32Array) : Float32Array.from(feed.data as ArrayLike<number>);
      return { type: 'float32', buffer: data.buffer, dims: feed.dims };
    }
    case 'int64': {
      const data = new BigInt64Array(size);
      for (let i = 0; i < size; i++) data[i] = BigInt(feed.data[i]);
      return { type: 'int64', buffer: data.buffer, dims: feed.dims };
    }
    default:
      throw new Error(`Unsupported input type: "${String(feed.type)}". Should be one of: ${FEED_TYPES.join(', ')}.`);
  }
}

/** N worker threads with one session each; a run goes to the thread with the fewest runs in flight. */
class WorkerSession implements OnnxSession {
  private nextId = 0;

  private constructor(
    private readonly threads: SessionThread[],
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  static async start(bytes: Uint8Array, workers: number, intraOpThreads: number | undefined): Promise<WorkerSession> {
    const threads = Array.from({ length: workers }, () => new SessionThread(bytes, intraOpThreads));
    try {
      const [first] = await Promise.all(threads.map((t) => t.ready()));
      return new WorkerSession(threads, first!.inputNames, first!.outputNames);
    } catch (e) {
      await Promise.all(threads.map((t) => t.worker.terminate()));
      throw e;
    }
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
    const wire: Record<string, WireTensor> = {};
    for (const [name, feed] of Object.entries(feeds)) wire[name] = toWire(name, feed);
    let thread = this.threads[0]!;
    for (const t of this.threads) if (t.pending.size < thread.pending.size) thread = t;
    return thread.run(this.nextId++, wire, outputs, Object.values(wire).map((w) => w.buffer));
  }

  async dispose(): Promise<void> {
    await Promise.all(
      this.threads.map(
        (t) =>
          new Promise<void>((resolve) => {
            if (t.exitError) return resolve();
            t.worker.once('exit', () => resolve());
            t.worker.postMessage({ kind: 'dispose' });
          }),
      ),
    );
  }
}
