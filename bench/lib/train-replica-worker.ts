// One data-parallel replica of the training-step benchmark (bench/train.ts): the reference architecture on this
// thread's own tfjs engine, on its share of the batch, gradients averaged with the other replicas through the same
// shared-memory all-reduce the trainer uses. Rank 0 reports per-step wall times.
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../../src/training/engine/backend';
import { buildReferenceStep, type ReferenceArch, type ReferenceDims } from '../../src/training/engine/reference_steps';
import { tf } from '../../src/training/engine/tf';
import { SharedAllReduce } from '../../src/training/parallel/allreduce';

interface Data {
  rank: number; replicas: number; arch: ReferenceArch; dims: Partial<ReferenceDims>; warmup: number; steps: number;
  control: SharedArrayBuffer; data: SharedArrayBuffer; length: number;
}
const d = workerData as Data;

(async () => {
  await initBackend({ prefer: ['wasm'] });
  const step = buildReferenceStep(d.arch, d.dims, 7);
  const length = step.variables.reduce((n, v) => n + v.size, 0);
  if (length !== d.length) throw new Error(`replica ${d.rank}: ${length} parameters, expected ${d.length}`);
  const reduce = new SharedAllReduce({ control: d.control, data: d.data, replicas: d.replicas, length }, d.rank);
  const optimizer = tf.train.adam(1e-3);
  const local = new Float32Array(length);
  const one = () => {
    const { value, grads } = tf.variableGrads(step.loss, step.variables);
    let o = 0;
    for (const v of step.variables) { local.set(grads[v.name]!.dataSync() as Float32Array, o); o += v.size; }
    tf.dispose(Object.values(grads));
    value.dataSync();
    value.dispose();
    const sum = reduce.reduce(local, 1 / d.replicas);
    const named: Array<{ name: string; tensor: tf.Tensor }> = [];
    o = 0;
    for (const v of step.variables) { named.push({ name: v.name, tensor: tf.tensor(sum.slice(o, o + v.size), v.shape) }); o += v.size; }
    optimizer.applyGradients(named);
    tf.dispose(named.map((n) => n.tensor));
  };
  for (let i = 0; i < d.warmup; i++) one();
  const wall: number[] = [];
  for (let i = 0; i < d.steps; i++) {
    const t0 = process.hrtime.bigint();
    one();
    wall.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  step.dispose();
  parentPort!.postMessage({ wall });
})().catch((e: unknown) => parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) }));
