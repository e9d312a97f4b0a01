// NEXT_STEP × TEXT end to end in one process: a tiny causal language model trained with real tfjs steps on real
// mails (a handful of ham and spam rows of ../shared/datasets/spam-assassin.jsonl.gz), turned into the servable
// tokens model (its token table Gathered in front of the conv+GRU encoder), exported to ONNX and run in a real
// onnxruntime-node session, served through the inference runtime (embed, then predict after fine-tuning from it).
// Nothing is mocked; the tfjs side is the pretraining task's own embedding.
import '../../setup/realm';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import type { TextRow } from '../../../src/ingest/types';
import { train, type TrainResult } from '../../../src/training/trainer/train';
import { buildEncoderModel, servableNextStepText, TOKEN_TABLE } from '../../../src/training/finetune/tokenSequenceModel';
import { fineTune, prepareInputs, runModel } from '../../../src/training/finetune';
import { host } from '../../../src/training/pretext/common';
import { tf } from '../../../src/training/engine/tf';
import { exportOnnx, readModelMetadata } from '../../../src/models/onnx';
import { loadSession } from '../../../src/inference/onnx';
import { InferenceRuntime } from '../../../src/inference/service';
import { fineTuneIncompatibility } from '../../../src/models/stored-spec';
import { assertModelSpec, type ModelSpec } from '../../../src/models/spec';
import { SPAM } from '../../training/data/fixtures';
import { demandSharedData } from '../../helpers/shared-datasets';

jest.setTimeout(120_000);

const TOLERANCE = 1e-4;
const MAX_LENGTH = 24;
const PER_CLASS = 12;

/** The first PER_CLASS ham and spam mails (the file is sorted by label), subject + body, every fourth held out. */
function mails(): TextRow[] {
  const lines = zlib.gunzipSync(fs.readFileSync(SPAM)).toString('utf8').split('\n').filter(Boolean);
  const pick = (label: string) => lines.map((l) => JSON.parse(l) as { text: string; label: string }).filter((o) => o.label === label).slice(0, PER_CLASS);
  return [...pick('ham'), ...pick('spam')].map((o, i) => {
    const body = o.text.split(/\r?\n\r?\n/).slice(1).join('\n');
    const subject = /^Subject:(.*)$/m.exec(o.text)?.[1] ?? '';
    return { modality: 'TEXT', index: i, label: o.label, split: i % 4 === 3 ? 'test' : 'train', text: `${subject}\n${body}`.slice(0, 400) };
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

const int64 = (x: Int32Array, dims: number[]) => ({ type: 'int64' as const, data: Array.from(x), dims });

const present = demandSharedData('spam-assassin.jsonl.gz (NEXT_STEP × TEXT export)', fs.existsSync(SPAM));
(present ? describe : describe.skip)('NEXT_STEP × TEXT: token table in front of the encoder, exported, served, fine-tuned', () => {
  let rows: TextRow[];
  let result: TrainResult;
  let served: { spec: ModelSpec; weights: Record<string, { shape: number[]; data: Float32Array }> };

  beforeAll(async () => {
    rows = mails();
    result = await train(
      { pretext: 'NEXT_STEP', modality: 'TEXT', shape: { modality: 'TEXT' }, batchSize: 8, steps: 4, dim: 16, maxLength: MAX_LENGTH, vocabSize: 200, backend: 'wasm', seed: 5, evalEvery: 0 },
      { data: rows },
    );
    served = servableNextStepText(result.spec, result.model.getWeights(), result.heads.exportWeights(), result.tokenizer!);
  });

  afterAll(() => {
    result?.model.dispose();
    result?.heads.dispose();
  });

  test('the servable spec reads tokens through the pretraining table and is fine-tunable on TEXT rows', () => {
    expect(served.spec.input).toMatchObject({ kind: 'tokens', maxLength: MAX_LENGTH, vocabSize: result.tokenizer!.vocabSize });
    expect(served.spec.encoder).toMatchObject({ kind: 'sequence', embedDim: 16 });
    expect(served.weights[TOKEN_TABLE]!.data).toEqual(result.heads.exportWeights()['task/embed']!.data);
    expect(fineTuneIncompatibility({ spec: served.spec, preprocess: { modality: 'TEXT', pretext: 'NEXT_STEP', maxLength: MAX_LENGTH } }, 'TEXT')).toBeNull();
    // Padding must never reach a real token's state: non-causal convs and 'last' pooling are refused over tokens.
    expect(() => assertModelSpec({ ...served.spec, pooling: 'last' })).toThrow(/Unsupported pooling: "last"/);
    const encoder = served.spec.encoder as { conv: object[] };
    expect(() => assertModelSpec({ ...served.spec, encoder: { ...encoder, conv: [{ ...encoder.conv[0], padding: 'same' }] } })).toThrow(/'causal' convs/);
  });

  test('ONNX (onnxruntime-node) equals the tfjs forward pass of the pretraining task within 1e-4, at any length', async () => {
    const tokenizer = result.tokenizer!;
    const p = await prepareInputs(rows, served.spec.input, { tokenizer });
    // The pretraining task's own embedding (sequence encoder fed by its task/embed table) …
    const batch = { inputIds: host(p.ids!, [p.n, MAX_LENGTH]), attentionMask: host(p.mask!, [p.n, MAX_LENGTH]) };
    const taskEmbedding = tf.tidy(() => result.task.embed(result.model, result.heads, batch));
    const reference = (await taskEmbedding.data()) as Float32Array;
    taskEmbedding.dispose();
    // … equals the servable tfjs model's …
    const model = buildEncoderModel(served.spec, { seed: 0 });
    expect(model.setWeights(served.weights, { strict: true })).toEqual({ missing: [], unexpected: [] });
    const tfjs = await runModel(model, p, 'embedding');
    model.dispose();
    expect(maxAbsDiff(tfjs.data, reference)).toBeLessThan(1e-6);

    const onnx = exportOnnx(served.spec, served.weights);
    expect(readModelMetadata(onnx).spec.input.kind).toBe('tokens');
    const session = await loadSession(onnx);
    try {
      expect([...session.inputNames].sort()).toEqual(['attention_mask', 'input_ids']);
      const full = await session.run({ input_ids: int64(p.ids!, [p.n, MAX_LENGTH]), attention_mask: int64(p.mask!, [p.n, MAX_LENGTH]) });
      const diff = maxAbsDiff(full.embedding!.data as Float32Array, reference);
      console.log(`NEXT_STEP × TEXT ONNX vs tfjs: max |diff| ${diff.toExponential(2)} over ${p.n} mails × ${reference.length / p.n} dims`);
      expect(diff).toBeLessThan(TOLERANCE);
      // Causal encoder: the same first `short` tokens give the same embedding whether they come padded to
      // maxLength or as a shorter dynamic `sequence` (padding never reaches a real token's state).
      const short = 10;
      const firstTokens = (x: Int32Array, width: number) => Int32Array.from({ length: p.n * width }, (_, i) => (i % width < short ? x[Math.floor(i / width) * MAX_LENGTH + (i % width)]! : 0));
      const padded = await session.run({ input_ids: int64(firstTokens(p.ids!, MAX_LENGTH), [p.n, MAX_LENGTH]), attention_mask: int64(firstTokens(p.mask!, MAX_LENGTH), [p.n, MAX_LENGTH]) });
      const shorter = await session.run({ input_ids: int64(firstTokens(p.ids!, short), [p.n, short]), attention_mask: int64(firstTokens(p.mask!, short), [p.n, short]) });
      expect(maxAbsDiff(shorter.embedding!.data as Float32Array, padded.embedding!.data as Float32Array)).toBeLessThan(TOLERANCE);
      expect(maxAbsDiff(shorter.embedding!.data as Float32Array, reference)).toBeGreaterThan(TOLERANCE); // fewer tokens: a different input
    } finally {
      await session.dispose();
    }
  });

  test('served: the runtime embeds text; a FULL fine-tune from the servable base predicts as tfjs did', async () => {
    const runtime = new InferenceRuntime();
    try {
      const tokenizerJson = result.tokenizer!.toJSON();
      const texts = rows.slice(0, 4).map((r) => ({ text: r.text }));
      const embedded = await runtime.embed({ modelVersionId: 'nst-base', onnx: exportOnnx(served.spec, served.weights), tokenizerJson }, texts, { normalize: false, truncate: 'END' });
      const model = buildEncoderModel(served.spec, { seed: 0 });
      model.setWeights(served.weights, { strict: true });
      const tfjs = await runModel(model, await prepareInputs(rows.slice(0, 4), served.spec.input, { tokenizer: result.tokenizer! }), 'embedding');
      model.dispose();
      expect(embedded.dims).toBe(16);
      expect(maxAbsDiff(embedded.vectors.flatMap((v) => (v as { values: number[] }).values), tfjs.data)).toBeLessThan(TOLERANCE);

      const ft = await fineTune({
        base: { spec: served.spec, weights: served.weights },
        rows,
        task: 'CLASSIFICATION',
        mode: 'FULL',
        hyperparameters: { epochs: 2, minSteps: 0, maxSteps: 6, batchSize: 8, learningRate: 0.003 },
        seed: 2,
        pipeline: { tokenizer: result.tokenizer! },
        backend: 'wasm',
      });
      expect(ft.steps).toBeGreaterThan(0);
      // FULL trains the token table too: it moved away from the pretraining one.
      expect(maxAbsDiff(ft.weights[TOKEN_TABLE]!.data, served.weights[TOKEN_TABLE]!.data)).toBeGreaterThan(0);
      expect(ft.evaluation).toMatchObject({ task: 'CLASSIFICATION', labels: ['ham', 'spam'], testSize: rows.filter((r) => r.split === 'test').length });

      const held = rows.filter((r) => r.split === 'test');
      const tuned = buildEncoderModel(ft.spec, { seed: 0 });
      tuned.setWeights(ft.weights, { strict: true });
      const logits = await runModel(tuned, await prepareInputs(held, ft.spec.input, { tokenizer: result.tokenizer! }), 'head');
      tuned.dispose();
      const predicted = await runtime.predict(
        { modelVersionId: 'nst-ft', onnx: exportOnnx(ft.spec, ft.weights, { includeHead: true }), tokenizerJson, labels: ft.labels! },
        held.map((r) => ({ text: r.text })),
        { truncate: 'END', topK: 2 },
      );
      expect(predicted.kind).toBe('classification');
      const probs = predicted.kind === 'classification' ? predicted.predictions.map((x) => x.probabilities) : [];
      const softmax = (z: number[]) => { const m = Math.max(...z); const e = z.map((v) => Math.exp(v - m)); const s = e.reduce((a, b) => a + b, 0); return e.map((v) => v / s); };
      const expected = held.flatMap((_, i) => softmax(Array.from(logits.data.subarray(i * 2, i * 2 + 2))));
      expect(maxAbsDiff(probs.flat(), expected)).toBeLessThan(TOLERANCE);
      const correct = probs.filter((p, i) => (p[1]! > p[0]! ? 'spam' : 'ham') === held[i]!.label).length;
      expect(correct / held.length).toBeCloseTo((ft.evaluation as { accuracy: number }).accuracy, 10);
    } finally {
      await runtime.close();
    }
  });
});
