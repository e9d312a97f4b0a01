// The runtime end to end on real exported models: concurrent callers batched together get exactly their own rows
// (compared with one-at-a-time runs of a plain session), errors stay with their caller, backpressure, predict.
import sharp from 'sharp';
import { InferenceRuntime } from '../../src/inference/service';
import { InferenceError, InferenceInputError, InferenceLimitError, OverloadedError } from '../../src/inference/errors';
import { loadSession, type OnnxSession } from '../../src/inference/onnx';
import { decodeBase64Vector, type EncodedVector } from '../../src/inference/postprocess';
import type { InferenceInput } from '../../src/inference/preprocess';
import { imageArtifact, maxAbsDiff, rng, SENTENCES, sequenceArtifact, textArtifact } from './artifacts';

const floats = (v: EncodedVector) => (v as { values: number[] }).values;

async function plainEmbedding(session: OnnxSession, feeds: Parameters<OnnxSession['run']>[0]): Promise<Float32Array> {
  const out = await session.run(feeds, ['embedding']);
  return out.embedding.data as Float32Array;
}

test('text: 40 concurrent callers with distinct texts are batched and each gets its own vectors (vs one-at-a-time, 1e-5)', async () => {
  const { artifact, tokenizer, spec } = await textArtifact('text-v1', 40);
  if (spec.input.kind !== 'tokens') throw new Error('unreachable');
  const rt = new InferenceRuntime({ batch: { maxBatchSize: 16, maxWaitMs: 5 }, intraOpThreads: 1 });
  const session = await loadSession(artifact.onnx, { intraOpThreads: 1 });
  try {
    const r = rng(1);
    const words = SENTENCES.join(' ').split(' ');
    // Distinct texts of different lengths, so batches mix lengths and need padding.
    const requests = Array.from({ length: 40 }, (_, i) =>
      Array.from({ length: 1 + (i % 3) }, (_, j) => `${i} ${j} ` + Array.from({ length: 1 + Math.floor(r() * 5) }, () => words[Math.floor(r() * words.length)]).join(' ')),
    );
    const results = await Promise.all(requests.map((texts) => rt.embed(artifact, texts.map((text) => ({ text })), { normalize: false })));
    const model = await rt.model(artifact);
    const stats = model.batcher.stats();
    expect(stats.maxBatch).toBeGreaterThan(1);
    expect(stats.batches).toBeLessThan(stats.rows);
    let worst = 0;
    for (let i = 0; i < requests.length; i++) {
      expect(results[i].vectors).toHaveLength(requests[i].length);
      expect(results[i].dims).toBe(16);
      for (let j = 0; j < requests[i].length; j++) {
        // Reference: the trainer's own encode (padded to maxLength), one text per run.
        const enc = await tokenizer.encode([requests[i][j]], spec.input.maxLength, false);
        const want = await plainEmbedding(session, {
          input_ids: { type: 'int64', data: enc.inputIds, dims: [1, spec.input.maxLength] },
          attention_mask: { type: 'int64', data: enc.attentionMask, dims: [1, spec.input.maxLength] },
        });
        worst = Math.max(worst, maxAbsDiff(floats(results[i].vectors[j]), want));
        expect(Math.max(...Array.from(want, Math.abs))).toBeGreaterThan(1e-3);
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-5);
    const usage = await rt.embed(artifact, [{ text: 'many hands' }]);
    expect(usage.tokens).toBe((await tokenizer.tokenize(['many hands']))[0].length + 1);
  } finally {
    await session.dispose();
    await rt.close();
  }
});

test('image: concurrent callers sending pixels and PNG base64 get their own vectors; normalize, dimensions, BASE64', async () => {
  const artifact = imageArtifact();
  const rt = new InferenceRuntime({ batch: { maxBatchSize: 8, maxWaitMs: 5 }, intraOpThreads: 1 });
  const session = await loadSession(artifact.onnx, { intraOpThreads: 1 });
  try {
    const r = rng(2);
    const images = Array.from({ length: 30 }, () => Uint8Array.from({ length: 64 }, () => Math.floor(r() * 256)));
    const pngs = await Promise.all(images.map((px) => sharp(Buffer.from(px), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer()));
    const results = await Promise.all(
      images.map((px, i) => rt.embed(artifact, [i % 2 ? { pixels: px } : { image: pngs[i].toString('base64') }], { normalize: false })),
    );
    for (let i = 0; i < images.length; i++) {
      const want = await plainEmbedding(session, { pixels: { type: 'float32', data: Float32Array.from(images[i]), dims: [1, 8, 8, 1] } });
      expect(maxAbsDiff(floats(results[i].vectors[0]), want)).toBeLessThanOrEqual(1e-5);
    }
    // Matryoshka: the first 4 values, renormalized, base64 float32.
    const cut = await rt.embed(artifact, [{ pixels: images[0] }], { dimensions: 4, encoding: 'BASE64' });
    expect(cut.dims).toBe(4);
    const v = decodeBase64Vector((cut.vectors[0] as { base64: string }).base64);
    const full = floats(results[0].vectors[0]).slice(0, 4);
    const n = Math.hypot(...full);
    expect(maxAbsDiff(v, full.map((x) => x / n))).toBeLessThanOrEqual(1e-6);
    await expect(rt.embed(artifact, [{ pixels: images[0] }], { dimensions: 17 })).rejects.toThrow(/dimensions must be an integer from 1 to 16/);
  } finally {
    await session.dispose();
    await rt.close();
  }
});

test("one caller's bad input is reported to that caller only; the others in the same window succeed", async () => {
  const artifact = sequenceArtifact();
  const rt = new InferenceRuntime({ batch: { maxBatchSize: 32, maxWaitMs: 20 }, intraOpThreads: 1 });
  try {
    const r = rng(3);
    const good = (): InferenceInput => ({ sequence: Array.from({ length: 6 }, () => [r() * 2 - 1, r() * 2 - 1]) });
    const bad: InferenceInput[] = [good(), { sequence: [[1, 2]] }, { sequence: Array.from({ length: 6 }, () => [0, NaN]) }];
    const settled = await Promise.allSettled([rt.embed(artifact, [good(), good()]), rt.embed(artifact, bad), rt.embed(artifact, [good()])]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const err = (settled[1] as PromiseRejectedResult).reason as InferenceInputError;
    expect(err).toBeInstanceOf(InferenceInputError);
    expect(err.index).toBe(1);
    expect(err.problems.map((p) => p.index)).toEqual([1, 2]);
    expect(err.problems[0].message).toMatch(/1 steps; the model takes exactly 6 steps of 2 features/);
    expect(err.problems[1].message).toMatch(/sequence\[0\]\[1\] is NaN/);
    const okVectors = (settled[0] as PromiseFulfilledResult<{ vectors: EncodedVector[] }>).value.vectors;
    expect(okVectors).toHaveLength(2);
    await expect(rt.embed(artifact, [{ text: 'hello' }])).rejects.toThrow(/a sequence model takes \{ sequence \}, got text/);
  } finally {
    await rt.close();
  }
});

test('backpressure: a full queue answers OverloadedError at once; request limits are typed errors', async () => {
  const artifact = sequenceArtifact('seq-bp');
  const rt = new InferenceRuntime({ batch: { maxBatchSize: 4, maxWaitMs: 50, maxQueueRows: 8 }, limits: { maxInputs: 10 }, intraOpThreads: 1 });
  try {
    const seq: InferenceInput = { sequence: Array.from({ length: 6 }, () => [0.5, -0.5]) };
    await rt.model(artifact);
    // 4 of the first 8 rows start a batch at once; 4 + 4 rows then fill the queue (8); one more row overflows it.
    const first = rt.embed(artifact, Array(8).fill(seq));
    const second = rt.embed(artifact, Array(4).fill(seq));
    const third = rt.embed(artifact, [seq]);
    const [a, b, c] = await Promise.allSettled([first, second, third]);
    expect([a.status, b.status]).toEqual(['fulfilled', 'fulfilled']);
    expect(c.status).toBe('rejected');
    const err = (c as PromiseRejectedResult).reason;
    expect(err).toBeInstanceOf(OverloadedError);
    expect((err as OverloadedError).code).toBe('OVERLOADED');
    const tooMany = await rt.embed(artifact, Array(11).fill(seq)).catch((e: unknown) => e);
    expect(tooMany).toBeInstanceOf(InferenceLimitError);
    expect((tooMany as InferenceLimitError).message).toMatch(/11 inputs, more than the limit of 10/);
  } finally {
    await rt.close();
  }
});

test('text limits: truncate NONE over maxLength is a typed error; START and END keep the right end; token limit', async () => {
  const { artifact, tokenizer } = await textArtifact('text-trunc', 6);
  const rt = new InferenceRuntime({ limits: { maxTokens: 12 }, intraOpThreads: 1 });
  try {
    const long = 'the quick brown fox jumps over the lazy dog';
    const pieces = (await tokenizer.tokenize([long]))[0];
    expect(pieces.length).toBeGreaterThan(5);
    const err = await rt.embed(artifact, [{ text: 'many hands' }, { text: long }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferenceInputError);
    expect((err as InferenceInputError).index).toBe(1);
    expect((err as Error).message).toMatch(/more than the model's maxLength 6; shorten it or pass truncate START or END/);
    // END keeps the first 5 pieces, START the last 5: each equals embedding that exact piece sequence.
    const head = await tokenizer.decode(Array.from(pieces.subarray(0, 5)));
    const tail = await tokenizer.decode(Array.from(pieces.subarray(pieces.length - 5)));
    const [end, start, headRef, tailRef] = await Promise.all([
      rt.embed(artifact, [{ text: long }], { truncate: 'END' }),
      rt.embed(artifact, [{ text: long }], { truncate: 'START' }),
      rt.embed(artifact, [{ text: head }]),
      rt.embed(artifact, [{ text: tail }]),
    ]);
    expect(maxAbsDiff(floats(end.vectors[0]), floats(headRef.vectors[0]))).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(floats(start.vectors[0]), floats(tailRef.vectors[0]))).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(floats(end.vectors[0]), floats(start.vectors[0]))).toBeGreaterThan(1e-4);
    const limit = await rt.embed(artifact, [{ text: long }, { text: long }, { text: long }], { truncate: 'END' }).catch((e: unknown) => e);
    expect(limit).toBeInstanceOf(InferenceLimitError);
    expect((limit as Error).message).toMatch(/18 tokens, more than the limit of 12/);
    await expect(rt.embed(artifact, [{ text: 'x' }], { truncate: 'MIDDLE' as 'END' })).rejects.toThrow(/Unsupported truncate: "MIDDLE"\. Should be one of: NONE, START, END\./);
  } finally {
    await rt.close();
  }
});

test('predict: classifier → softmax probabilities + labelled top-k; regressor → raw values; no head → UNSUPPORTED', async () => {
  const classifier = imageArtifact('img-cls', true);
  const regressor = sequenceArtifact('seq-reg', true);
  const rt = new InferenceRuntime({ intraOpThreads: 1 });
  const session = await loadSession(classifier.onnx, { intraOpThreads: 1 });
  const regSession = await loadSession(regressor.onnx, { intraOpThreads: 1 });
  try {
    const r = rng(4);
    const px = Uint8Array.from({ length: 64 }, () => Math.floor(r() * 256));
    const res = await rt.predict(classifier, [{ pixels: px }], { topK: 2 });
    if (res.kind !== 'classification') throw new Error(`expected classification, got ${res.kind}`);
    const logits = (await session.run({ pixels: { type: 'float32', data: Float32Array.from(px), dims: [1, 8, 8, 1] } }, ['logits'])).logits.data as Float32Array;
    const exps = Array.from(logits, (l) => Math.exp(l));
    const total = exps.reduce((a, b) => a + b, 0);
    const probs = res.predictions[0].probabilities;
    expect(maxAbsDiff(probs, exps.map((e) => e / total))).toBeLessThanOrEqual(1e-6);
    const order = [0, 1, 2].sort((a, b) => probs[b] - probs[a]);
    expect(res.predictions[0].top.map((t) => t.index)).toEqual(order.slice(0, 2));
    expect(res.predictions[0].top[0].label).toBe(['cat', 'dog', 'bird'][order[0]]);

    const seq = Array.from({ length: 6 }, () => [r(), r()]);
    const reg = await rt.predict(regressor, [{ sequence: seq }]);
    if (reg.kind !== 'regression') throw new Error(`expected regression, got ${reg.kind}`);
    const want = (await regSession.run({ values: { type: 'float32', data: seq.flat(), dims: [1, 6, 2] } }, ['predictions'])).predictions.data as Float32Array;
    expect(reg.predictions[0].values).toHaveLength(2);
    expect(maxAbsDiff(reg.predictions[0].values, want)).toBeLessThanOrEqual(1e-6);

    const err = await rt.predict(imageArtifact('img-plain'), [{ pixels: px }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferenceError);
    expect((err as InferenceError).code).toBe('UNSUPPORTED');
  } finally {
    await session.dispose();
    await regSession.dispose();
    await rt.close();
  }
});

test('evict unloads a model; the next request loads it again and still answers', async () => {
  const artifact = sequenceArtifact('seq-evict');
  const rt = new InferenceRuntime({ intraOpThreads: 1 });
  try {
    const seq: InferenceInput = { sequence: Array.from({ length: 6 }, (_, t) => [t / 6, 1 - t / 6]) };
    const before = await rt.embed(artifact, [seq]);
    expect(await rt.evict('seq-evict')).toBe(true);
    expect(rt.cacheStats().entries).toEqual([]);
    const after = await rt.embed(artifact, [seq]);
    expect(maxAbsDiff(floats(after.vectors[0]), floats(before.vectors[0]))).toBe(0);
    expect(rt.cacheStats().loads).toBe(2);
  } finally {
    await rt.close();
  }
});

test('a request whose model is evicted between loading and batching is served by a reload', async () => {
  const artifact = imageArtifact('img-race');
  const rt = new InferenceRuntime({ intraOpThreads: 1 });
  try {
    const px = Uint8Array.from({ length: 64 }, (_, i) => (i * 29) % 256);
    const png = await sharp(Buffer.from(px), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer();
    const before = await rt.embed(artifact, [{ pixels: px }]);
    // The request holds the loaded model while sharp decodes its PNG; the eviction lands in between.
    const pending = rt.embed(artifact, [{ image: png.toString('base64') }]);
    expect(await rt.evict('img-race')).toBe(true);
    const after = await pending;
    expect(maxAbsDiff(floats(after.vectors[0]), floats(before.vectors[0]))).toBeLessThanOrEqual(1e-6);
    expect(rt.cacheStats().loads).toBe(2);
  } finally {
    await rt.close();
  }
});

test('worker threads: the runtime with an inference pool gives the same vectors as in-process runs, batching across callers', async () => {
  const artifact = imageArtifact();
  const local = new InferenceRuntime({ batch: { maxBatchSize: 8, maxWaitMs: 2 }, intraOpThreads: 1 });
  const pooled = new InferenceRuntime({ batch: { maxBatchSize: 8, maxWaitMs: 2 }, workers: 2 });
  try {
    const r = rng(7);
    const inputs: InferenceInput[] = Array.from({ length: 24 }, () => ({ pixels: Uint8Array.from({ length: 64 }, () => Math.floor(r() * 256)) }));
    const [a, b] = await Promise.all([
      Promise.all(inputs.map((x) => local.embed(artifact, [x], { encoding: 'BASE64' }))),
      Promise.all(inputs.map((x) => pooled.embed(artifact, [x], { encoding: 'BASE64' }))),
    ]);
    for (let i = 0; i < inputs.length; i++) {
      const va = decodeBase64Vector((a[i]!.vectors[0] as { base64: string }).base64);
      const vb = decodeBase64Vector((b[i]!.vectors[0] as { base64: string }).base64);
      expect(maxAbsDiff(va, vb)).toBeLessThanOrEqual(1e-6);
    }
    const stats = (await pooled.model(artifact)).batcher.stats();
    expect(stats.batches).toBeLessThan(stats.rows);
    expect((await pooled.model(artifact)).batcher.options.maxInFlight).toBe(2);
  } finally {
    await local.close();
    await pooled.close();
  }
});
