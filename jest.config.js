/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  // onnxruntime-node and tfjs hand back typed arrays from the outer realm; jest's per-file vm context would make
  // `instanceof Float32Array` fail (jest issue 11864), so tests share Node's own globals for those.
  setupFiles: ['<rootDir>/tests/setup/env.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
};
