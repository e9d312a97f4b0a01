// Parity harness: build a tfjs model from a spec with seeded, deliberately non-trivial weights (random biases,
// batch-norm running stats, layer-norm affine), export it, run both on the same inputs and report max |diff|.
import { tf } from '../../../src/training/engine/tf';
import { buildModel, makeRng, type NamedWeights } from '../../../src/training/encoders';
import { assertModelSpec, headOutputName, type ModelSpec, type ModelSpecInput } from '../../../src/models/spec';
import { exportOnnx } from '../../../src/models/onnx';
import { loadSession, type FeedTensor } from '../../../src/inference/onnx';

export const TOLERANCE = 1e-4;

export function perturbWeights(weights: NamedWeights, seed: number): NamedWeights {
  const rng = makeRng(`perturb-${seed}`);
  const u = (lo: number, hi: number) => lo + (hi - lo) * rng();
  const out: NamedWeights = {};
  for (const [name, w] of Object.entries(weights)) {
    const data = new Float32Array(w.data);
    const leaf = name.split('/').pop() as string;
    const fill = (lo: number, hi: number) => data.forEach((_, i) => (data[i] = u(lo, hi)));
    if (leaf === 'bias' || leaf === 'recurrent_bias' || leaf === 'beta' || leaf === 'moving_mean') fill(-0.5, 0.5);
    else if (leaf === 'gamma') fill(0.5, 1.5);
    else if (leaf === 'moving_variance') fill(0.5, 2);
    // Embedding tables start at std 0.02; widen them so embedding signals dominate the perturbed biases.
    else if (name.startsWith('encoder/embed/')) fill(-1, 1);
    out[name] = { shape: w.shape, data };
  }
  return out;
}

export interface ParityInputs {
  tf: { inputIds?: tf.Tensor2D; attentionMask?: tf.Tensor2D; pixels?: tf.Tensor4D; values?: tf.Tensor3D };
  onnx: Record<string, FeedTensor>;
}

/** Random inputs for a spec; token batches get different lengths (row r keeps T - r tokens, rest padding). */
export function makeInputs(spec: ModelSpec, batch: number, seed: number, tokenLength?: number): ParityInputs {
  const rng = makeRng(`inputs-${seed}`);
  const input = spec.input;
  switch (input.kind) {
    case 'tokens': {
      const t = tokenLength ?? input.maxLength;
      const ids = new Int32Array(batch * t);
      const mask = new Int32Array(batch * t);
      for (let r = 0; r < batch; r++) {
        const len = Math.max(1, t - r);
        for (let c = 0; c < t; c++) {
          const real = c < len;
          ids[r * t + c] = !real ? input.padId : c === 0 ? input.clsId : 3 + Math.floor(rng() * (input.vocabSize - 3));
          mask[r * t + c] = real ? 1 : 0;
        }
      }
      return {
        tf: { inputIds: tf.tensor2d(ids, [batch, t], 'int32'), attentionMask: tf.tensor2d(mask, [batch, t], 'int32') },
        onnx: {
          input_ids: { type: 'int64', data: Array.from(ids), dims: [batch, t] },
          attention_mask: { type: 'int64', data: Array.from(mask), dims: [batch, t] },
        },
      };
    }
    case 'image': {
      const dims = [batch, input.height, input.width, input.channels];
      const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.floor(rng() * 256));
      return { tf: { pixels: tf.tensor4d(data, dims as [number, number, number, number]) }, onnx: { pixels: { type: 'float32', data, dims } } };
    }
    case 'sequence': {
      const dims = [batch, input.length, input.features];
      const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng() * 4 - 2);
      return { tf: { values: tf.tensor3d(data, dims as [number, number, number]) }, onnx: { values: { type: 'float32', data, dims } } };
    }
  }
}

export interface ParityResult {
  /** max |tfjs - onnx| per compared output. */
  maxDiff: Record<string, number>;
  /** Largest |value| seen, so a test can tell a real comparison from comparing zeros. */
  maxAbs: Record<string, number>;
  outputNames: readonly string[];
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export async function checkParity(
  specInput: ModelSpecInput,
  opts: { seed?: number; batch?: number; tokenLength?: number; includeHead?: boolean; normalize?: boolean } = {},
): Promise<ParityResult> {
  const spec = assertModelSpec(specInput);
  const seed = opts.seed ?? 1;
  const model = buildModel(spec, { seed });
  model.setWeights(perturbWeights(model.getWeights(), seed));
  const includeHead = opts.includeHead ?? spec.head !== undefined;
  const normalize = opts.normalize ?? spec.normalize;
  const inputs = makeInputs(spec, opts.batch ?? 3, seed, opts.tokenLength);
  const expected: Record<string, { data: Float32Array; shape: number[] }> = {};
  tf.tidy(() => {
    const out = model.apply(inputs.tf, { training: false, head: includeHead });
    const embedding = normalize && !spec.normalize ? tf.div(out.pooled, tf.maximum(tf.norm(out.pooled, 2, -1, true), 1e-12)) : normalize ? out.embedding : out.pooled;
    expected.embedding = { data: embedding.dataSync() as Float32Array, shape: embedding.shape };
    if (includeHead && spec.head && out.head) {
      expected[headOutputName(spec.head)] = { data: out.head.dataSync() as Float32Array, shape: out.head.shape };
    }
  });
  const bytes = exportOnnx(spec, model.getWeights(), { includeHead, normalize });
  const session = await loadSession(bytes);
  try {
    const actual = await session.run(inputs.onnx);
    const result: ParityResult = { maxDiff: {}, maxAbs: {}, outputNames: session.outputNames };
    for (const [name, exp] of Object.entries(expected)) {
      const got = actual[name];
      if (!got) throw new Error(`ONNX output "${name}" missing; got ${Object.keys(actual).join(', ')}`);
      if (got.dims.join(',') !== exp.shape.join(',')) throw new Error(`${name}: dims [${got.dims}] vs tfjs [${exp.shape}]`);
      result.maxDiff[name] = maxAbsDiff(exp.data, got.data as Float32Array);
      result.maxAbs[name] = exp.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    }
    return result;
  } finally {
    await session.dispose();
    tf.dispose(Object.values(inputs.tf) as tf.Tensor[]);
    model.dispose();
  }
}

/** Largest difference seen by expectParity in this test file (reported once per file). */
export const worst = { diff: 0, case: '' };

/** Asserts every compared output is within TOLERANCE and not trivially zero. */
export function expectParity(result: ParityResult, expectedOutputs: string[]): void {
  expect(Object.keys(result.maxDiff).sort()).toEqual([...expectedOutputs].sort());
  for (const name of expectedOutputs) {
    expect(result.maxAbs[name]).toBeGreaterThan(1e-3);
    expect(result.maxDiff[name]).toBeLessThanOrEqual(TOLERANCE);
    if (result.maxDiff[name] >= worst.diff) {
      worst.diff = result.maxDiff[name];
      worst.case = `${expect.getState().currentTestName ?? '?'} (${name})`;
    }
  }
}
