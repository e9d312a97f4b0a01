import { tf } from '../../../src/training/engine/tf';
import { DEFAULT_BACKENDS, currentBackend, initBackend, type BackendName } from '../../../src/training/engine/backend';

const nativeInstalled = (pkg: string): boolean => {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
};

test('unknown backend names are rejected with the valid choices', () => {
  expect(() => initBackend({ prefer: ['wasm', 'metal' as BackendName] })).toThrow(
    'Unsupported backend: "metal". Should be one of: webgpu, tensorflow-gpu, tensorflow, wasm, cpu.');
  expect(() => initBackend({ prefer: [] })).toThrow('prefer is empty');
});

test('picks the fastest available backend, records every attempt, and is idempotent', async () => {
  expect(currentBackend()).toBeNull();
  const info = await initBackend();
  expect(currentBackend()).toBe(info);
  expect(await initBackend({ prefer: ['cpu'] })).toBe(info);
  expect(info.tried[info.tried.length - 1]).toEqual({ name: info.name, ok: true });
  expect(info.tried.map((t) => t.name)).toEqual(DEFAULT_BACKENDS.slice(0, info.tried.length));
  expect(tf.getBackend()).toBe(info.name === 'tensorflow-gpu' ? 'tensorflow' : info.name);

  // Where the native bindings are absent (this machine, CI), they are skipped quietly with a reason.
  if (!nativeInstalled('@tensorflow/tfjs-node-gpu')) {
    expect(info.tried[0]).toEqual({ name: 'tensorflow-gpu', ok: false, reason: '@tensorflow/tfjs-node-gpu is not installed' });
  }
  if (!nativeInstalled('@tensorflow/tfjs-node-gpu') && !nativeInstalled('@tensorflow/tfjs-node')) {
    expect(info.tried[1]).toEqual({ name: 'tensorflow', ok: false, reason: '@tensorflow/tfjs-node is not installed' });
    expect(info.name).toBe('wasm');
  }

  // The active backend computes.
  const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
  expect(Array.from(y.dataSync())).toEqual([11]);
  y.dispose();
});
