// Data-parallel training over worker threads: one tfjs engine per thread (tfjs-wasm cannot use threads inside
// Node), each replica trains on a contiguous shard of every batch, and gradients are averaged every step through
// shared memory (./allreduce.ts), so all replicas hold identical weights by construction. The calling thread only
// coordinates: it relays rank 0's step metrics, evaluations and checkpoints to the caller's callbacks and store,
// turns the caller's shouldStop into a stop request every replica agrees on, and finally rebuilds the trained model
// in its own engine from rank 0's weights, so callers get the same TrainResult as from a single-thread run.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { collectRows } from '../data/rows';
import { buildModel } from '../encoders/model';
import { createHeadStore } from '../pretext/heads';
import { getPretextTask } from '../pretext/registry';
import { TextTokenizer } from '../tokenizer/textTokenizer';
import { resolveConfig, type TrainConfig } from '../trainer/config';
import type { TrainOptions, TrainResult } from '../trainer/train';
import { abortReplicas, createControl, createReplicaData, requestStop } from './allreduce';
import type { FromReplica, ReplicaResult, ReplicaWorkerData, ToReplica } from './protocol';

/** The worker entry next to this file: compiled JavaScript in builds, TypeScript (through tsx) in tests and benches. */
function workerEntry(): { file: string; execArgv: string[] } {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `worker${ext}`);
  return ext === '.ts' ? { file, execArgv: ['--require', require.resolve('tsx/cjs')] } : { file, execArgv: [] };
}

export async function trainDataParallel(config: TrainConfig, options: TrainOptions, replicas: number): Promise<TrainResult> {
  const c = resolveConfig(config);
  const cb = options.callbacks ?? {};
  const rows = await collectRows(options.data);
  const resumed = c.resume && options.store ? await options.store.latest() : null;
  const control = createControl();
  const { file, execArgv } = workerEntry();
  const workers: Worker[] = [];
  for (let rank = 0; rank < replicas; rank++) {
    const workerData: ReplicaWorkerData = { rank, replicas, config: { ...config, workers: 1 }, rows, resumed, hasStore: Boolean(options.store), control };
    workers.push(new Worker(file, { workerData, execArgv }));
  }

  // The caller's callbacks run in order, one at a time, as in a single-thread run.
  let chain: Promise<void> = Promise.resolve();
  const inOrder = (f: () => void | Promise<void>) => {
    const next = chain.then(f);
    chain = next.catch(() => undefined);
    return next;
  };
  const send = (w: Worker, m: ToReplica) => w.postMessage(m);

  const result = await new Promise<ReplicaResult>((resolve, reject) => {
    let settled = false;
    let lead: ReplicaResult | null = null;
    let finished = 0;
    const connects: Array<{ length: number; fingerprint: string } | undefined> = Array.from({ length: replicas }, () => undefined);
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      abortReplicas(control);
      for (const w of workers) void w.terminate();
      reject(e instanceof Error ? e : new Error(String(e)));
    };
    workers.forEach((w, rank) => {
      w.on('error', fail);
      w.on('exit', (code) => {
        if (!settled && code !== 0) fail(new Error(`Data-parallel replica ${rank} exited with code ${code}.`));
      });
      w.on('message', (m: FromReplica) => {
        switch (m.type) {
          case 'agree':
            for (let r = 1; r < replicas; r++) send(workers[r]!, { type: 'agreed', id: m.id, value: m.value });
            break;
          case 'connect': {
            connects[rank] = m;
            if (connects.some((x) => x === undefined)) break;
            const first = connects[0]!;
            if (connects.some((x) => x!.length !== first.length || x!.fingerprint !== first.fingerprint)) {
              fail(new Error('Data-parallel replicas disagree on the model before the first step (config, weights or tokenizer differ).'));
              break;
            }
            const data = createReplicaData(replicas, first.length);
            for (const x of workers) send(x, { type: 'buffers', data, length: first.length });
            break;
          }
          case 'step':
            void inOrder(async () => {
              await cb.onStep?.(m.metrics);
              if (await cb.shouldStop?.()) requestStop(control);
            }).catch(fail);
            break;
          case 'eval':
            void inOrder(() => cb.onEval?.(m.metrics)).catch(fail);
            break;
          case 'log':
            cb.onLog?.(m.level, m.message);
            break;
          case 'checkpoint':
            void inOrder(async () => {
              try {
                const location = await options.store!.save(m.checkpoint);
                send(w, { type: 'checkpointed', id: m.id, location });
                await cb.onCheckpoint?.({ step: m.checkpoint.step, location });
              } catch (e) {
                send(w, { type: 'checkpointed', id: m.id, error: e instanceof Error ? e.message : String(e) });
              }
            }).catch(fail);
            break;
          case 'done':
            if (m.result) lead = m.result;
            if (++finished === replicas && !settled) {
              settled = true;
              if (lead) resolve(lead);
              else reject(new Error('Data-parallel rank 0 finished without a result.'));
            }
            break;
          case 'error': {
            const err = new Error(m.message);
            if (m.stack) err.stack = m.stack;
            fail(err);
            break;
          }
        }
      });
    });
  });
  await Promise.all(workers.map((w) => w.terminate()));
  await chain;

  const task = getPretextTask(c.pretext, c.modality, c.task);
  const tokenizer = result.tokenizer ? TextTokenizer.fromJSON(result.tokenizer) : undefined;
  const model = buildModel(result.spec, { seed: c.seed });
  const heads = createHeadStore(c.seed);
  try {
    model.setWeights(result.weights);
    task.addHeads(heads, { shape: c.shape, tokenizer, maxLength: c.maxLength, sequenceLength: result.sequenceLength, spec: result.spec });
    heads.importWeights(result.heads);
  } catch (e) {
    model.dispose();
    heads.dispose();
    throw e;
  }
  const { weights: _w, heads: _h, tokenizer: _t, sequenceLength: _s, ...rest } = result;
  return { ...rest, model, heads, task, tokenizer, normalization: result.normalization };
}
