// Loads TensorFlow.js's WebGPU backend on Dawn (the `webgpu` package's prebuilt dawn.node, Vulkan on Linux) and
// makes it visible to tfjs. The GPU packages are not dependencies of the project: they live in the GPU trainer
// image's own manifest (infra/trainer-gpu/package.json, installed from its lockfile), so they are resolved from
// that folder, and their absence is an expected, reported reason rather than a crash.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { tf } from './tf';

/** What a loaded WebGPU adapter says about itself (WebGPU exposes no memory size). */
export interface WebGpuAdapterInfo {
  description: string;
  vendor: string | null;
  architecture: string | null;
  maxBufferBytes: number | null;
}

let adapterInfo: WebGpuAdapterInfo | null = null;

/** The adapter the webgpu backend runs on, once loadWebGpu has succeeded. */
export function webGpuAdapter(): WebGpuAdapterInfo | null {
  return adapterInfo;
}

/** Where the GPU packages are: the given folder, else infra/trainer-gpu above this file (source tree or dist). */
export function gpuPackagesDir(given?: string): string | null {
  if (given) return path.resolve(given);
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'infra', 'trainer-gpu');
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

type GpuLike = { requestAdapter(o?: unknown): Promise<AdapterLike | null> };
type AdapterLike = {
  info?: { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean };
  features: { has(f: string): boolean };
  limits: Record<string, number>;
  requestDevice(d?: { requiredFeatures?: unknown[] }): Promise<unknown>;
};

/**
 * Returns null when the webgpu backend is registered in this process's tfjs and has a hardware adapter, else why
 * not. tfjs-backend-webgpu registers itself only if `navigator.gpu` exists when it is first required, so the Dawn
 * instance is installed as `navigator.gpu` first.
 */
export async function loadWebGpu(packagesDir?: string): Promise<string | null> {
  const dir = gpuPackagesDir(packagesDir);
  if (!dir) return 'the GPU packages folder (infra/trainer-gpu) was not found';
  const req = createRequire(path.join(dir, 'package.json'));
  let webgpuEntry: string;
  let backendEntry: string;
  try {
    webgpuEntry = req.resolve('webgpu');
    backendEntry = req.resolve('@tensorflow/tfjs-backend-webgpu');
  } catch {
    return `the webgpu and @tensorflow/tfjs-backend-webgpu packages are not installed in ${dir} (npm ci there)`;
  }
  // `webgpu` is an ES module; Node ≥ 20.19 loads it with require().
  const { create, globals } = req(webgpuEntry) as { create(opts: string[]): GpuLike; globals: Record<string, unknown> };
  const gpu = create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return 'Dawn found no WebGPU adapter (no Vulkan driver: the image needs libvulkan1, and the container NVIDIA_DRIVER_CAPABILITIES must include graphics)';
  const info = adapter.info ?? {};
  const description = [info.vendor, info.architecture, info.description || info.device].filter(Boolean).join(' ') || 'unnamed WebGPU adapter';
  if (info.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(description)) return `only a software adapter is available (${description})`;
  Object.assign(globalThis, globals);
  // tfjs-backend-webgpu 4.22 pushes ['bgra8unorm-storage'] (an array) into requiredFeatures; browsers stringify it,
  // a strict binding may not. The adapter it sees flattens the list first.
  const shown: AdapterLike = {
    info: adapter.info,
    features: adapter.features,
    limits: adapter.limits,
    requestDevice: (d) => adapter.requestDevice({ ...d, ...(d?.requiredFeatures ? { requiredFeatures: d.requiredFeatures.flat() } : {}) }),
  };
  // defineProperty, not assignment: Node ≥ 21 has a read-only global navigator (without `gpu`).
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: { requestAdapter: async () => shown } }, configurable: true, writable: true });
  req(backendEntry);
  // A second @tensorflow/tfjs-core copy under the GPU folder would take the registration instead of ours.
  if (!tf.findBackendFactory('webgpu')) return `@tensorflow/tfjs-backend-webgpu registered into another @tensorflow/tfjs-core copy; install ${dir} without peer dependencies (its .npmrc sets legacy-peer-deps)`;
  adapterInfo = { description, vendor: info.vendor || null, architecture: info.architecture || null, maxBufferBytes: Number.isFinite(adapter.limits.maxBufferSize) ? adapter.limits.maxBufferSize! : null };
  return null;
}
