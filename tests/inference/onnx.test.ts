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
