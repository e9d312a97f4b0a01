// The onnxruntime-node adapter, on small graphs written with the project's own GraphBuilder.
import '../setup/realm';
import { GraphBuilder } from '../../src/models/onnx';
import { loadSession } from '../../src/inference/onnx';

/** y = x · 2 + bias (float32 [batch, 3]); n = ids + 1 (int64 [batch]). */
function tinyModel(): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['batch', 3]);
  const ids = g.input('ids', 'int64', ['batch']);
  const y = g.op('Add', [g.op('Mul', [x, g.scalar(2)]), g.float('bias', [0.5, -1, 3], [3])]);
  g.output('y', y, 'float32', ['batch', 3]);
  g.output('n', g.op('Add', [ids, g.int64([1], [])]), 'int64', ['batch']);
  return g.toBytes({ graphName: 'tiny' });
}

test('names, float32 and int64 feeds, plain typed arrays out', async () => {
  const session = await loadSession(tinyModel(), { intraOpThreads: 1 });
  try {
    expect(session.inputNames).toEqual(['x', 'ids']);
    expect(session.outputNames).toEqual(['y', 'n']);
    const out = await session.run({
      x: { type: 'float32', data: [1, 2, 3, 4, 5, 6], dims: [2, 3] },
      ids: { type: 'int64', data: [7, 41], dims: [2] },
    });
    expect(out.y.type).toBe('float32');
    expect(out.y.dims).toEqual([2, 3]);
    expect(out.y.data).toBeInstanceOf(Float32Array);
    expect(Array.from(out.y.data as Float32Array)).toEqual([2.5, 3, 9, 8.5, 9, 15]);
    expect(out.n.type).toBe('int64');
    expect(Array.from(out.n.data as BigInt64Array)).toEqual([8n, 42n]);
    // Typed-array and bigint inputs work the same way.
    const again = await session.run(
      { x: { type: 'float32', data: new Float32Array([0, 0, 0]), dims: [1, 3] }, ids: { type: 'int64', data: new BigInt64Array([5n]), dims: [1] } },
      ['n'],
    );
    expect(Object.keys(again)).toEqual(['n']);
    expect(Array.from(again.n.data as BigInt64Array)).toEqual([6n]);
  } finally {
    await session.dispose();
  }
});

test('clear errors for wrong feeds', async () => {
  const session = await loadSession(tinyModel());
  try {
    await expect(session.run({ x: { type: 'float32', data: [1, 2, 3], dims: [1, 3] } })).rejects.toThrow(
      /missing \[ids\], unknown \[\]\. Should be: x, ids\./,
    );
    await expect(
      session.run({ x: { type: 'float32', data: [1, 2], dims: [1, 3] }, ids: { type: 'int64', data: [1], dims: [1] } }),
    ).rejects.toThrow(/Input "x": 2 values do not fill dims \[1,3\]/);
    await expect(
      session.run({ x: { type: 'float16' as 'float32', data: [1, 2, 3], dims: [1, 3] }, ids: { type: 'int64', data: [1], dims: [1] } }),
    ).rejects.toThrow(/Unsupported input type: "float16"\. Should be one of: float32, int64\./);
  } finally {
    await session.dispose();
  }
});

test('invalid model bytes are rejected at load', async () => {
  await expect(loadSession(new Uint8Array([1, 2, 3, 4]))).rejects.toThrow();
});

test('worker-thread sessions give the same outputs as in-process ones, run concurrently and report errors', async () => {
  const local = await loadSession(tinyModel(), { intraOpThreads: 1 });
  const pooled = await loadSession(tinyModel(), { intraOpThreads: 1, workers: 2 });
  try {
    expect(pooled.inputNames).toEqual(['x', 'ids']);
    expect(pooled.outputNames).toEqual(['y', 'n']);
    const feeds = (k: number) => ({
      x: { type: 'float32' as const, data: new Float32Array([k, k + 1, k + 2]), dims: [1, 3] },
      ids: { type: 'int64' as const, data: [k], dims: [1] },
    });
    const outs = await Promise.all(Array.from({ length: 6 }, (_, k) => pooled.run(feeds(k))));
    for (let k = 0; k < 6; k++) {
      const want = await local.run(feeds(k));
      expect(outs[k]!.y.data).toBeInstanceOf(Float32Array);
      expect(Array.from(outs[k]!.y.data as Float32Array)).toEqual(Array.from(want.y.data as Float32Array));
      expect(outs[k]!.n.data).toBeInstanceOf(BigInt64Array);
      expect(Array.from(outs[k]!.n.data as BigInt64Array)).toEqual(Array.from(want.n.data as BigInt64Array));
    }
    // The caller's feed arrays stay usable (copied, not transferred away).
    const f = feeds(1);
    await pooled.run(f, ['y']);
    expect(Array.from(f.x.data)).toEqual([1, 2, 3]);
    await expect(pooled.run({ x: { type: 'float32', data: [1, 2], dims: [1, 3] }, ids: { type: 'int64', data: [1], dims: [1] } })).rejects.toThrow(/2 values do not fill dims/);
    // A run the runtime refuses (wrong rank) fails alone; the threads keep serving.
    await expect(pooled.run({ x: { type: 'float32', data: [1, 2, 3], dims: [3] }, ids: { type: 'int64', data: [1], dims: [1] } })).rejects.toThrow();
    expect(Array.from((await pooled.run(feeds(0))).y.data as Float32Array)).toEqual([0.5, 1, 7]);
  } finally {
    await local.dispose();
    await pooled.dispose();
  }
  await expect(loadSession(new Uint8Array([1, 2, 3, 4]), { workers: 1 })).rejects.toThrow();
});
