// Test helpers: run the same computation on the wasm backend (with our kernels) and on the pure-JS cpu
// backend, from identical seeded inputs, and compare the values.
import { tf } from '../../../src/training/engine/tf';
import { initBackend } from '../../../src/training/engine/backend';

export async function useWasm(): Promise<void> {
  const info = await initBackend({ prefer: ['wasm'] });
  if (info.name !== 'wasm') throw new Error(`expected wasm, got ${info.name}`);
  await tf.setBackend('wasm');
}

/** Seeded uniform values in [-1, 1) (mulberry32). */
export function seeded(count: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export function rand(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(seeded(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/** Runs `build` on wasm and on cpu; returns both results as flat arrays plus shapes. */
export async function onBoth(build: () => tf.Tensor | tf.Tensor[]): Promise<{ wasm: Float32Array[]; cpu: Float32Array[]; shapes: number[][] }> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const outs = tf.tidy(() => {
      const r = build();
      return Array.isArray(r) ? r : [r];
    });
    const values = outs.map((t) => Float32Array.from(t.dataSync()));
    const shapes = outs.map((t) => t.shape);
    tf.dispose(outs);
    return { values, shapes };
  };
  const w = await run('wasm');
  const c = await run('cpu');
  await tf.setBackend('wasm');
  expect(w.shapes).toEqual(c.shapes);
  return { wasm: w.values, cpu: c.values, shapes: w.shapes };
}

/** max |a − b| / max(1, max |b|): a scale-aware error for sums of many float32 products. */
export function relError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= diff)) diff = Number.isNaN(d) ? Infinity : d;
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

export async function expectSame(build: () => tf.Tensor | tf.Tensor[], tol: number): Promise<void> {
  const { wasm, cpu } = await onBoth(build);
  wasm.forEach((w, i) => {
    expect(w.length).toBeGreaterThan(0);
    expect(relError(w, cpu[i]!)).toBeLessThanOrEqual(tol);
  });
}
