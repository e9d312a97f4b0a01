// Entry of one data-parallel replica (a worker thread with its own tfjs engine). It runs the ordinary trainer on
// its shard of every batch; the coordinator (./coordinator.ts) relays rank 0's reports to the caller's callbacks.
import { parentPort, workerData } from 'node:worker_threads';
import type { Checkpoint, CheckpointStore } from '../trainer/checkpoint';
import { train, type ReplicaHooks, type TrainerCallbacks } from '../trainer/train';
import { SharedAllReduce } from './allreduce';
import type { FromReplica, ReplicaWorkerData, ToReplica } from './protocol';

const data = workerData as ReplicaWorkerData;
const port = parentPort!;
const post = (m: FromReplica) => port.postMessage(m);
const waiting = new Map<string, (m: ToReplica) => void>();
port.on('message', (m: ToReplica) => {
  const key = m.type === 'buffers' ? 'buffers' : `${m.type}:${m.id}`;
  const resolve = waiting.get(key);
  waiting.delete(key);
  resolve?.(m);
});
const reply = <T extends ToReplica>(key: string) => new Promise<T>((resolve) => waiting.set(key, resolve as (m: ToReplica) => void));

let nextId = 0;
const hooks: ReplicaHooks = {
  rank: data.rank,
  replicas: data.replicas,
  async agree(compute) {
    const id = nextId++;
    if (data.rank === 0) {
      const value = await compute();
      post({ type: 'agree', id, value });
      return value;
    }
    return (await reply<Extract<ToReplica, { type: 'agreed' }>>(`agreed:${id}`)).value as never;
  },
  async connect(length, fingerprint) {
    const answer = reply<Extract<ToReplica, { type: 'buffers' }>>('buffers');
    post({ type: 'connect', length, fingerprint });
    const { data: buffer } = await answer;
    return new SharedAllReduce({ control: data.control, data: buffer, replicas: data.replicas, length }, data.rank);
  },
};

const store: CheckpointStore | undefined = data.hasStore
  ? {
      latest: async () => data.resumed,
      async save(checkpoint: Checkpoint) {
        const id = nextId++;
        const answer = reply<Extract<ToReplica, { type: 'checkpointed' }>>(`checkpointed:${id}`);
        post({ type: 'checkpoint', id, checkpoint });
        const r = await answer;
        if (r.error !== undefined) throw new Error(r.error);
        return r.location ?? '';
      },
    }
  : undefined;

// Only rank 0 reports; the coordinator forwards to the caller's callbacks in order.
const callbacks: TrainerCallbacks | undefined = data.rank === 0
  ? {
      onStep: (metrics) => post({ type: 'step', metrics }),
      onEval: (metrics) => post({ type: 'eval', metrics }),
      onLog: (level, message) => post({ type: 'log', level, message }),
    }
  : undefined;

(async () => {
  const result = await train({ ...data.config, workers: 1 }, { data: data.rows, callbacks, store, replica: hooks });
  try {
    if (data.rank !== 0) {
      post({ type: 'done', result: null });
      return;
    }
    const spec = result.spec;
    post({
      type: 'done',
      result: {
        backend: result.backend,
        steps: result.steps,
        totalSteps: result.totalSteps,
        stepsThisRun: result.stepsThisRun,
        resumedFrom: result.resumedFrom,
        stopped: result.stopped,
        initialLoss: result.initialLoss,
        finalLoss: result.finalLoss,
        losses: result.losses,
        samplesPerSecond: result.samplesPerSecond,
        dataWaitSeconds: result.dataWaitSeconds,
        stepSeconds: result.stepSeconds,
        evaluation: result.evaluation,
        spec,
        weights: result.model.getWeights(),
        heads: result.heads.exportWeights(),
        tokenizer: result.tokenizer?.toJSON(),
        normalization: result.normalization,
        sequenceLength: spec.input.kind === 'sequence' ? spec.input.length : undefined,
      },
    });
  } finally {
    result.model.dispose();
    result.heads.dispose();
  }
})().catch((e: unknown) => {
  post({ type: 'error', message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
});
