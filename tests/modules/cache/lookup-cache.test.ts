// LookupCache (src/modules/cache/lookup-cache.ts), pure logic with a controlled clock: one lookup per key in flight,
// TTL expiry, failed lookups not cached, and a delete during a lookup (a revocation, an alias switch) never lets the
// older lookup's result into the cache.
import { LookupCache } from '../../../src/modules/cache/lookup-cache';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

describe('LookupCache', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => { clock = 1_000; });

  it('shares one lookup among concurrent callers of a key and caches its result for the TTL', async () => {
    const cache = new LookupCache<string>({ ttlMs: 100, now });
    const d = deferred<string>();
    let loads = 0;
    const load = () => { loads++; return d.promise; };
    const callers = Array.from({ length: 50 }, () => cache.get('k', load));
    expect(loads).toBe(1);
    d.resolve('v1');
    expect(await Promise.all(callers)).toEqual(Array(50).fill('v1'));
    expect(await cache.get('k', async () => { loads++; return 'v2'; })).toBe('v1');
    expect(loads).toBe(1);
    clock += 100; // expired
    expect(cache.peek('k')).toBeUndefined();
    expect(await cache.get('k', async () => { loads++; return 'v2'; })).toBe('v2');
    expect(loads).toBe(2);
  });

  it('keeps keys apart', async () => {
    const cache = new LookupCache<string>({ ttlMs: 100, now });
    const [a, b] = await Promise.all([cache.get('t1|m', async () => 'a'), cache.get('t2|m', async () => 'b')]);
    expect([a, b]).toEqual(['a', 'b']);
  });

  it('does not cache a failed lookup; the next caller looks again', async () => {
    const cache = new LookupCache<string>({ ttlMs: 100, now });
    await expect(cache.get('k', async () => { throw new Error('db down'); })).rejects.toThrow('db down');
    expect(await cache.get('k', async () => 'ok')).toBe('ok');
  });

  it('a delete while a lookup is in flight: waiting callers get its result, the cache never stores it', async () => {
    const cache = new LookupCache<string>({ ttlMs: 100, now });
    const old = deferred<string>();
    const waiting = cache.get('k', () => old.promise);
    cache.delete('k'); // e.g. the key was revoked here
    const fresh = cache.get('k', async () => 'after');
    old.resolve('before');
    expect(await waiting).toBe('before');
    expect(await fresh).toBe('after');
    expect(cache.peek('k')).toBe('after');
    expect(await cache.get('k', async () => 'unused')).toBe('after');
  });

  it('deletePrefix drops entries and lookups in flight of that prefix only', async () => {
    const cache = new LookupCache<string>({ ttlMs: 100, now });
    cache.set('t1|a', 'x');
    cache.set('t2|a', 'y');
    const d = deferred<string>();
    const inFlight = cache.get('t1|b', () => d.promise);
    cache.deletePrefix('t1|');
    d.resolve('stale');
    await inFlight;
    expect(cache.peek('t1|a')).toBeUndefined();
    expect(cache.peek('t1|b')).toBeUndefined();
    expect(cache.peek('t2|a')).toBe('y');
  });

  it('drops the oldest entry beyond maxEntries', () => {
    const cache = new LookupCache<number>({ ttlMs: 100, maxEntries: 2, now });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect([cache.peek('a'), cache.peek('b'), cache.peek('c')]).toEqual([undefined, 2, 3]);
  });
});

describe('LookupCache refresh ahead', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => { clock = 1_000; });

  it('a hit past refreshAfterMs answers from the cache and refreshes in the background, once', async () => {
    const cache = new LookupCache<string>({ ttlMs: 100, refreshAfterMs: 50, now });
    cache.set('k', 'old');
    clock += 60;
    const d = deferred<string>();
    let loads = 0;
    const load = () => { loads++; return d.promise; };
    expect(await cache.get('k', load)).toBe('old');
    expect(await cache.get('k', load)).toBe('old');
    expect(loads).toBe(1);
    d.resolve('new');
    await d.promise;
    await new Promise((r) => setImmediate(r));
    expect(cache.peek('k')).toBe('new');
    // The refreshed entry has a whole TTL again.
    clock += 99;
    expect(cache.peek('k')).toBe('new');
  });

  it('never serves an entry past its TTL, and a failed background refresh leaves the entry until then', async () => {
    const cache = new LookupCache<string>({ ttlMs: 100, refreshAfterMs: 50, now });
    cache.set('k', 'old');
    clock += 60;
    expect(await cache.get('k', async () => { throw new Error('db down'); })).toBe('old');
    await new Promise((r) => setImmediate(r));
    expect(cache.peek('k')).toBe('old');
    clock += 40; // 100 ms old: expired
    await expect(cache.get('k', async () => { throw new Error('db down'); })).rejects.toThrow('db down');
  });

  it('a delete during a background refresh keeps the refreshed value out', async () => {
    const cache = new LookupCache<string>({ ttlMs: 100, refreshAfterMs: 50, now });
    cache.set('k', 'old');
    clock += 60;
    const d = deferred<string>();
    expect(await cache.get('k', () => d.promise)).toBe('old');
    cache.delete('k');
    d.resolve('refreshed before the delete took effect');
    await new Promise((r) => setImmediate(r));
    expect(cache.peek('k')).toBeUndefined();
  });
});
