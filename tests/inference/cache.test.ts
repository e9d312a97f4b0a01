// The session cache with real onnxruntime sessions: single-flight loading, LRU eviction within the byte budget
// (with dispose), explicit eviction, failed loads not cached, models larger than the budget refused.
import { SessionCache } from '../../src/inference/cache';
import { InferenceError } from '../../src/inference/errors';
import { loadSession, type OnnxSession } from '../../src/inference/onnx';
import { GraphBuilder } from '../../src/models/onnx';

/** y = x + c: a distinct tiny model per constant, so each cached session is observably its own. */
function addModel(c: number): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['batch', 1]);
  g.output('y', g.op('Add', [x, g.scalar(c)]), 'float32', ['batch', 1]);
  return g.toBytes({ graphName: `add${c}` });
}

class Tracked {
  disposed = false;
  constructor(
    readonly name: string,
    readonly session: OnnxSession,
  ) {}
  async run(x: number): Promise<number> {
    const out = await this.session.run({ x: { type: 'float32', data: [x], dims: [1, 1] } });
    return out.y.data[0] as number;
  }
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.session.dispose();
  }
}

function loader(loads: string[]) {
  return (name: string, c: number) => async () => {
    loads.push(name);
    return new Tracked(name, await loadSession(addModel(c), { intraOpThreads: 1 }));
  };
}

test('concurrent first requests for one model load it once', async () => {
  const loads: string[] = [];
  const load = loader(loads);
  const cache = new SessionCache<Tracked>({ budgetBytes: 1e6 });
  const got = await Promise.all(Array.from({ length: 12 }, () => cache.get('a', 100, load('a', 1))));
  expect(loads).toEqual(['a']);
  expect(new Set(got).size).toBe(1);
  expect(await got[0].run(2)).toBe(3);
  expect(cache.stats()).toMatchObject({ loads: 1, usedBytes: 300, entries: [{ id: 'a', bytes: 300, state: 'ready' }] });
  await cache.clear();
  expect(got[0].disposed).toBe(true);
});

test('least recently used models are evicted and disposed to stay within the budget', async () => {
  const loads: string[] = [];
  const load = loader(loads);
  // Each model is estimated at 100 × 3 = 300 bytes; the budget holds two.
  const cache = new SessionCache<Tracked>({ budgetBytes: 650, sizeFactor: 3 });
  const a = await cache.get('a', 100, load('a', 1));
  const b = await cache.get('b', 100, load('b', 2));
  await cache.get('a', 100, load('a', 1)); // a is now the most recent
  const c = await cache.get('c', 100, load('c', 3));
  expect(loads).toEqual(['a', 'b', 'c']);
  // b, the least recently used, made room for c; dispose() was called when it was evicted.
  expect(b.disposed).toBe(true);
  expect(a.disposed || c.disposed).toBe(false);
  expect(await a.run(1)).toBe(2);
  expect(cache.stats().entries.map((e) => e.id)).toEqual(['a', 'c']);
  expect(cache.stats().usedBytes).toBeLessThanOrEqual(650);
  expect(cache.stats().evictions).toBe(1);
  await cache.clear();
  expect(b.disposed).toBe(true);
  expect(a.disposed && c.disposed).toBe(true);
});

test('evict(id) disposes that model and the next request loads it again', async () => {
  const loads: string[] = [];
  const load = loader(loads);
  const cache = new SessionCache<Tracked>({ budgetBytes: 1e6 });
  const first = await cache.get('m', 10, load('m', 5));
  expect(await first.run(1)).toBe(6);
  expect(await cache.evict('m')).toBe(true);
  expect(first.disposed).toBe(true);
  expect(await cache.evict('m')).toBe(false);
  const second = await cache.get('m', 10, load('m', 5));
  expect(second).not.toBe(first);
  expect(await second.run(1)).toBe(6);
  expect(loads).toEqual(['m', 'm']);
  await cache.clear();
});

test('a failed load reaches every waiting caller, is not cached, and the next call retries', async () => {
  const cache = new SessionCache<Tracked>({ budgetBytes: 1e6 });
  let attempts = 0;
  const bad = async () => {
    attempts++;
    return new Tracked('bad', await loadSession(new Uint8Array([1, 2, 3])));
  };
  const results = await Promise.allSettled([cache.get('x', 3, bad), cache.get('x', 3, bad), cache.get('x', 3, bad)]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
  expect(attempts).toBe(1);
  expect(cache.has('x')).toBe(false);
  const good = await cache.get('x', 3, loader([])('x', 1));
  expect(await good.run(0)).toBe(1);
  await cache.clear();
});

test('a model whose estimate exceeds the whole budget is refused with MODEL_TOO_LARGE; bad options are rejected', async () => {
  const cache = new SessionCache<Tracked>({ budgetBytes: 1000, sizeFactor: 4 });
  const err = await cache.get('big', 300, loader([])('big', 1)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InferenceError);
  expect((err as InferenceError).code).toBe('MODEL_TOO_LARGE');
  expect((err as Error).message).toMatch(/1200 bytes \(300 × 4\).*budget of 1000/);
  expect(() => new SessionCache({ budgetBytes: 0 })).toThrow(/budgetBytes must be a positive number/);
  expect(() => new SessionCache({ budgetBytes: 10, sizeFactor: 0.5 })).toThrow(/sizeFactor must be ≥ 1/);
});
