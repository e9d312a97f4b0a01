// The micro-batcher over a real onnxruntime session (the text transformer): large requests span batches in
// order, a lone request leaves after maxWaitMs (or, with maxWaitMs 0, at the end of its event-loop turn), a forward pass that fails because of one request's rows is
// isolated to that request, close() drains and then refuses.
import { MicroBatcher } from '../../src/inference/batcher';
import { InferenceError } from '../../src/inference/errors';
import { packFeeds } from '../../src/inference/feeds';
import { loadSession, type OnnxSession } from '../../src/inference/onnx';
import type { PreparedRow } from '../../src/inference/preprocess';
import type { ModelSpec } from '../../src/models/spec';
import { maxAbsDiff, textArtifact } from './artifacts';

let session: OnnxSession;
let spec: ModelSpec;

beforeAll(async () => {
  const text = await textArtifact('batcher', 12);
  spec = text.spec;
  session = await loadSession(text.artifact.onnx, { intraOpThreads: 1 });
});
afterAll(async () => {
  await session.dispose();
});

function tokens(...ids: number[]): PreparedRow {
  return { kind: 'tokens', ids: Int32Array.from([1, ...ids]) };
}

function batcher(opts: { maxBatchSize: number; maxWaitMs: number; maxQueueRows?: number }) {
  return new MicroBatcher<PreparedRow>('m', (rows, outputs) => session.run(packFeeds(spec.input, rows), outputs), opts);
}

async function alone(row: PreparedRow): Promise<Float32Array> {
  return (await session.run(packFeeds(spec.input, [row]), ['embedding'])).embedding.data as Float32Array;
}

test('a request larger than maxBatchSize spans several batches and gets its rows back in order', async () => {
  const b = batcher({ maxBatchSize: 3, maxWaitMs: 1 });
  const rows = Array.from({ length: 8 }, (_, i) => tokens(...Array.from({ length: 1 + (i % 4) }, (_, j) => 5 + i + j)));
  const out = await b.submit(rows, 'embedding');
  expect(out.width).toBe(16);
  expect(out.data.length).toBe(8 * 16);
  for (let i = 0; i < 8; i++) expect(maxAbsDiff(out.data.subarray(i * 16, (i + 1) * 16), await alone(rows[i]))).toBeLessThanOrEqual(1e-5);
  expect(b.stats()).toEqual({ batches: 3, rows: 8, maxBatch: 3 });
  await b.close();
});

test('a lone request leaves on its own once maxWaitMs has passed', async () => {
  const b = batcher({ maxBatchSize: 64, maxWaitMs: 30 });
  const out = await b.submit([tokens(7, 8)], 'embedding');
  expect(maxAbsDiff(out.data, await alone(tokens(7, 8)))).toBeLessThanOrEqual(1e-5);
  expect(b.stats()).toEqual({ batches: 1, rows: 1, maxBatch: 1 });
  await b.close();
});

test('maxWaitMs 0: requests of one event-loop turn share a batch, a lone one waits for no timer, rows queued while the slot is busy leave together', async () => {
  const sizes: number[] = [];
  const b = new MicroBatcher<PreparedRow>('m', (rows, outputs) => {
    sizes.push(rows.length);
    return session.run(packFeeds(spec.input, rows), outputs);
  }, { maxBatchSize: 64, maxWaitMs: 0 });
  const same = [tokens(5), tokens(6, 7), tokens(8)];
  const outs = await Promise.all(same.map((r) => b.submit([r], 'embedding')));
  for (let i = 0; i < 3; i++) expect(maxAbsDiff(outs[i].data, await alone(same[i]))).toBeLessThanOrEqual(1e-5);
  expect(sizes).toEqual([3]);

  const lone = b.submit([tokens(9)], 'embedding');
  await new Promise((resolve) => setImmediate(resolve)); // the lone row's batch has left and is running
  expect(sizes).toEqual([3, 1]);
  const later = [b.submit([tokens(10)], 'embedding'), b.submit([tokens(11, 12)], 'embedding')];
  expect(b.queuedRows).toBe(2);
  await Promise.all([lone, ...later]);
  expect(sizes).toEqual([3, 1, 2]);
  await b.close();
});

test('when a batch fails because of one request (token id outside the vocabulary), only that request gets the error', async () => {
  const b = batcher({ maxBatchSize: 16, maxWaitMs: 20 });
  const good1 = [tokens(5, 6, 7), tokens(9)];
  const bad = [tokens(8), tokens(100_000)]; // Gather index out of range in onnxruntime
  const good2 = [tokens(11, 12)];
  const settled = await Promise.allSettled([b.submit(good1, 'embedding'), b.submit(bad, 'embedding'), b.submit(good2, 'embedding')]);
  expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  const first = (settled[0] as PromiseFulfilledResult<{ data: Float32Array }>).value.data;
  expect(maxAbsDiff(first.subarray(16, 32), await alone(good1[1]))).toBeLessThanOrEqual(1e-5);
  // The three requests did share one forward pass before the isolation re-runs.
  expect(b.stats().maxBatch).toBe(5);
  await b.close();
});

test('close() finishes queued work, then refuses new requests; options are validated', async () => {
  const b = batcher({ maxBatchSize: 8, maxWaitMs: 1000 });
  const pending = b.submit([tokens(5), tokens(6)], 'embedding');
  await b.close(); // flushes at once instead of waiting 1 s
  expect((await pending).data.length).toBe(32);
  const err = await b.submit([tokens(5)], 'embedding').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InferenceError);
  expect((err as InferenceError).code).toBe('CLOSED');
  expect(() => batcher({ maxBatchSize: 0, maxWaitMs: 1 })).toThrow(/maxBatchSize must be an integer ≥ 1, got 0/);
  expect(() => batcher({ maxBatchSize: 8, maxWaitMs: 1, maxQueueRows: 4 })).toThrow(/maxQueueRows \(4\) must be ≥ maxBatchSize \(8\)/);
});
