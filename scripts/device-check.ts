// The GPU check behind scripts/device-check.sh: one pretext training step per modality (IMAGE × CONTRASTIVE,
// TEXT × MASKED, SEQUENCE × NEXT_STEP) on the engine under test, the same step's loss and gradients compared with a
// reference engine (same weights, same host batch), and samples/s of both. With no flag the engine under test is
// the GPU engine a GPU run would get (src/training/engine/device-probe.ts: webgpu, else tfjs-node-gpu) and the
// reference is wasm, the CPU engine; `--cpu-only` checks wasm against the pure-JS cpu backend instead, so every part
// but the GPU itself runs on a machine without one. Prints one JSON object; exits 1 when a comparison fails.
//
// Tolerance (float32 engines sum in different orders): per trained variable, ‖g_test − g_ref‖₂ ≤ 1e-3·‖g_ref‖₂
// (+1e-7 for all-zero gradients), and |loss_test − loss_ref| ≤ 1e-4·max(1, |loss_ref|).
import { tf } from '../src/training/engine/tf';
import { startEngine } from '../src/training/engine/device-probe';
import { useBackend } from '../src/training/trainer/backend';
import { buildModel } from '../src/training/encoders/model';
import { getPretextTask } from '../src/training/pretext/registry';
import { createHeadStore } from '../src/training/pretext/heads';
import type { Example, HostBatch, Pretext, TaskSetup } from '../src/training/pretext/types';
import type { Modality, RowShape } from '../src/ingest/types';
import { TextTokenizer } from '../src/training/tokenizer/textTokenizer';
import { createRng } from '../src/training/rng';

export const GRAD_RTOL = 1e-3;
export const LOSS_RTOL = 1e-4;

interface Case {
  modality: Modality;
  pretext: Pretext;
  batchSize: number;
  setup: TaskSetup;
  batch: HostBatch;
}

interface StepResult {
  loss: number;
  grads: Map<string, Float32Array>;
  samplesPerSecond: number;
}

const args = new Set(process.argv.slice(2));
const cpuOnly = args.has('--cpu-only');
const timedSteps = Number(process.argv.find((a) => a.startsWith('--steps='))?.slice(8) ?? (cpuOnly ? 2 : 10));
const SEED = 11;

/** Seeded values in [0, 1). */
function uniform(n: number, rng: { next(): number }): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.next();
  return out;
}

async function cases(): Promise<Case[]> {
  const rng = createRng(SEED, 'device-check');
  const out: Case[] = [];
  const add = (modality: Modality, pretext: Pretext, shape: RowShape, examples: Example[], extra: Omit<TaskSetup, 'shape' | 'spec'> = {}) => {
    const task = getPretextTask(pretext, modality, {});
    const base = { shape, ...extra };
    const setup: TaskSetup = { ...base, spec: task.modelSpec(task.encoderKinds[0]!, base, { dim: 32, layers: 1 }) };
    out.push({ modality, pretext, batchSize: examples.length, setup, batch: task.prepare(examples, createRng(SEED, 'batch', modality), setup) });
  };
  const B = 16;
  add('IMAGE', 'CONTRASTIVE', { modality: 'IMAGE', height: 16, width: 16, channels: 1 }, Array.from({ length: B }, () => ({ kind: 'IMAGE', pixels: uniform(256, rng) })));
  const words = ['signal', 'noise', 'model', 'encoder', 'label', 'image', 'token', 'sequence', 'batch', 'vector', 'graph', 'layer'];
  const texts = Array.from({ length: 64 }, () => Array.from({ length: 10 }, () => words[Math.floor(rng.next() * words.length)]).join(' '));
  const tokenizer = await TextTokenizer.train(texts, { vocabSize: 64 });
  const ids = await tokenizer.tokenize(texts.slice(0, B));
  add('TEXT', 'MASKED', { modality: 'TEXT' }, ids.map((x) => ({ kind: 'TEXT', ids: x })), { tokenizer, maxLength: 16 });
  const T = 32;
  add('SEQUENCE', 'NEXT_STEP', { modality: 'SEQUENCE', length: T, features: 2 }, Array.from({ length: B }, () => ({ kind: 'SEQUENCE', values: uniform(T * 2, rng).map((v) => v * 2 - 1) })), { sequenceLength: T });
  return out;
}

/** One step's loss and gradients on the active backend, then `timedSteps` more forward+backward passes timed. */
async function step(c: Case): Promise<StepResult> {
  const task = getPretextTask(c.pretext, c.modality, {});
  const model = buildModel(c.setup.spec, { seed: SEED });
  const heads = createHeadStore(SEED);
  task.addHeads(heads, c.setup);
  const variables = { ...model.trainableVariables(), ...heads.trainableVariables() };
  const byTfName = new Map(Object.entries(variables).map(([name, v]) => [v.name, name]));
  const run = () => {
    const dropout = createRng(SEED, 'dropout');
    return tf.variableGrads(() => task.loss(model, heads, c.batch, { training: true, rng: () => dropout.next() }), Object.values(variables));
  };
  try {
    const { value, grads } = run();
    const loss = (await value.data())[0]!;
    const host = new Map<string, Float32Array>();
    for (const [tfName, g] of Object.entries(grads)) host.set(byTfName.get(tfName) ?? tfName, (await g.data()) as Float32Array);
    tf.dispose([value, ...Object.values(grads)]);
    const t0 = performance.now();
    for (let i = 0; i < timedSteps; i++) {
      const r = run();
      await r.value.data(); // waits for the device
      tf.dispose([r.value, ...Object.values(r.grads)]);
    }
    const seconds = (performance.now() - t0) / 1000;
    return { loss, grads: host, samplesPerSecond: timedSteps > 0 ? (timedSteps * c.batchSize) / seconds : 0 };
  } finally {
    model.dispose();
    heads.dispose();
  }
}

function l2(a: Float32Array, b?: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - (b ? b[i]! : 0);
    s += d * d;
  }
  return Math.sqrt(s);
}

export function compare(test: StepResult, ref: StepResult): { lossDiff: number; worstVariable: string | null; worstRelativeL2: number; pass: boolean } {
  let worst = 0;
  let worstVariable: string | null = null;
  let missing = false;
  for (const [name, g] of ref.grads) {
    const t = test.grads.get(name);
    if (!t || t.length !== g.length) {
      missing = true;
      worstVariable = name;
      worst = Infinity;
      continue;
    }
    const rel = l2(t, g) / (l2(g) + 1e-7 / GRAD_RTOL);
    if (!(rel <= worst)) {
      worst = Number.isNaN(rel) ? Infinity : rel;
      worstVariable = name;
    }
  }
  const lossDiff = Math.abs(test.loss - ref.loss);
  return { lossDiff, worstVariable, worstRelativeL2: worst, pass: !missing && worst <= GRAD_RTOL && lossDiff <= LOSS_RTOL * Math.max(1, Math.abs(ref.loss)) };
}

async function main(): Promise<void> {
  const started = performance.now();
  const all = await cases();
  // The engine under test first: a GPU run's engine choice, with its device report (and no fallback).
  const device = cpuOnly ? null : await startEngine('GPU');
  const testName = cpuOnly ? await useBackend('wasm') : tf.getBackend();
  const tested: StepResult[] = [];
  for (const c of all) tested.push(await step(c));
  const refName = await useBackend(cpuOnly ? 'cpu' : 'wasm');
  const results = [];
  for (const [i, c] of all.entries()) {
    const ref = await step(c);
    const t = tested[i]!;
    const cmp = compare(t, ref);
    results.push({
      modality: c.modality,
      pretext: c.pretext,
      encoder: c.setup.spec.encoder.kind,
      batchSize: c.batchSize,
      variables: ref.grads.size,
      loss: { test: t.loss, reference: ref.loss },
      ...cmp,
      samplesPerSecond: { test: t.samplesPerSecond, reference: ref.samplesPerSecond },
      speedup: ref.samplesPerSecond > 0 ? t.samplesPerSecond / ref.samplesPerSecond : null,
    });
  }
  const report = {
    mode: cpuOnly ? 'cpu-only' : 'gpu',
    engines: { test: testName, reference: refName },
    device,
    tolerance: { gradientRelativeL2: GRAD_RTOL, lossRelative: LOSS_RTOL },
    timedSteps,
    cases: results,
    pass: results.every((r) => r.pass),
    seconds: (performance.now() - started) / 1000,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exitCode = report.pass ? 0 : 1;
}

if (require.main === module) {
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (err: Error) => {
      process.stdout.write(`${JSON.stringify({ mode: cpuOnly ? 'cpu-only' : 'gpu', pass: false, error: err.message, name: err.name })}\n`);
      process.exit(1);
    },
  );
}
