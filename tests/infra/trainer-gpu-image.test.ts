// The GPU trainer image installs its GPU engine only from a lockfile: infra/trainer-gpu/package.json pins every
// package exactly, its package-lock.json agrees and carries an integrity hash for everything it installs, and the
// Dockerfile runs `npm ci` for both manifests, never `npm install` or a download, on a current GPU base with the
// same trainer entrypoint.
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const GPU_DIR = path.join(ROOT, 'infra/trainer-gpu');
const read = (p: string) => fs.readFileSync(path.join(ROOT, p), 'utf8');
const EXACT = /^\d+\.\d+\.\d+$/;

const manifest = JSON.parse(read('infra/trainer-gpu/package.json')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
const lock = JSON.parse(read('infra/trainer-gpu/package-lock.json')) as {
  lockfileVersion: number;
  packages: Record<string, { version?: string; resolved?: string; integrity?: string; dependencies?: Record<string, string>; dev?: boolean; link?: boolean }>;
};
const dockerfile = read('infra/docker/trainer-gpu.Dockerfile');
/** Dockerfile instructions with line continuations joined and comments dropped. */
const instructions = dockerfile
  .split('\n')
  .filter((l) => !/^\s*#/.test(l))
  .join('\n')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter(Boolean);

describe('infra/trainer-gpu manifest', () => {
  it('names the GPU engine packages, each pinned to an exact version', () => {
    const deps = { ...manifest.dependencies, ...manifest.optionalDependencies, ...manifest.devDependencies };
    expect(Object.keys(deps).sort()).toEqual(['@tensorflow/tfjs-backend-webgpu', 'webgpu']);
    for (const [name, version] of Object.entries(deps)) expect({ name, version, exact: EXACT.test(version) }).toEqual({ name, version, exact: true });
  });

  it('the backend matches the trainer’s own tfjs version, which it registers into', () => {
    const root = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(manifest.dependencies!['@tensorflow/tfjs-backend-webgpu']).toBe(root.dependencies['@tensorflow/tfjs-core']);
  });

  it('the lockfile installs exactly those versions, every package from the registry with an integrity hash', () => {
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(2);
    const top = lock.packages[''] as { dependencies?: Record<string, string> };
    expect(top.dependencies).toEqual(manifest.dependencies);
    for (const [name, version] of Object.entries(manifest.dependencies!)) expect(lock.packages[`node_modules/${name}`]?.version).toBe(version);
    const installed = Object.entries(lock.packages).filter(([k]) => k !== '');
    expect(installed.length).toBeGreaterThan(0);
    for (const [key, p] of installed) {
      expect({ key, link: p.link ?? false }).toEqual({ key, link: false });
      // `resolved` may be omitted (omit-lockfile-registry-resolved: npm ci then uses the configured registry); when
      // present it must be the registry, never a git, file or arbitrary tarball URL.
      expect({ key, resolved: p.resolved === undefined || p.resolved.startsWith('https://registry.npmjs.org/') }).toEqual({ key, resolved: true });
      expect({ key, integrity: /^sha512-/.test(p.integrity ?? '') }).toEqual({ key, integrity: true });
    }
  });

  it('installs no second @tensorflow/tfjs-core (the backend must register into the trainer’s) and keeps legacy-peer-deps', () => {
    expect(Object.keys(lock.packages).filter((k) => k.endsWith('/@tensorflow/tfjs-core'))).toEqual([]);
    expect(fs.readFileSync(path.join(GPU_DIR, '.npmrc'), 'utf8')).toMatch(/^legacy-peer-deps=true$/m);
  });
});

describe('infra/docker/trainer-gpu.Dockerfile', () => {
  const runs = instructions.filter((l) => l.startsWith('RUN '));

  it('installs with npm ci from the lockfiles only: no npm install, no downloads, no tfjs-node-gpu', () => {
    expect(runs.some((l) => /cd infra\/trainer-gpu && npm ci\b/.test(l))).toBe(true);
    expect(runs.some((l) => /^RUN npm ci --omit=dev\b/.test(l))).toBe(true);
    for (const l of runs) {
      expect({ l, npmInstall: /\bnpm (install|i|add)\b/.test(l) }).toEqual({ l, npmInstall: false });
      expect({ l, download: /\b(curl|wget)\b/.test(l) }).toEqual({ l, download: false });
    }
    expect(dockerfile).not.toMatch(/tfjs-node-gpu@/);
    const copies = instructions.filter((l) => l.startsWith('COPY '));
    expect(copies).toContain('COPY infra/trainer-gpu/package.json infra/trainer-gpu/package-lock.json infra/trainer-gpu/.npmrc ./infra/trainer-gpu/');
  });

  it('runs on a current CUDA base with the Vulkan loader, and keeps the trainer entrypoint', () => {
    const base = /ARG GPU_BASE=nvidia\/cuda:(\d+)\.(\d+)\.\d+-[a-z]+-ubuntu(\d+)\.04/.exec(dockerfile);
    expect(base).not.toBeNull();
    expect(Number(base![1])).toBeGreaterThanOrEqual(12); // CUDA 12 drivers/toolkit know Hopper (sm_90) and Ada (sm_89)
    expect(runs.some((l) => /apt-get install .*\blibvulkan1\b/.test(l))).toBe(true);
    expect(dockerfile).toMatch(/NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics/);
    expect(instructions).toContain('ENTRYPOINT ["/usr/bin/tini", "--"]');
    expect(instructions.filter((l) => l.startsWith('CMD ')).at(-1)).toBe('CMD ["node", "dist/src/training/main.js"]');
  });

  it('keeps every node_modules folder out of the build context', () => {
    expect(read('infra/docker/trainer-gpu.Dockerfile.dockerignore').split('\n')).toContain('**/node_modules');
  });
});
