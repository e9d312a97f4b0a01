// scripts/device-check.sh, the prepared GPU check, run here as far as a machine without a GPU allows: --cpu-only
// runs every part but the GPU (one pretext step per modality on wasm, loss and gradients compared with the pure-JS
// cpu backend, samples/s of both), and the GPU mode fails cleanly with the reason when there is no GPU engine.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { compare, GRAD_RTOL } from '../../scripts/device-check';

jest.setTimeout(1_500_000);

const ROOT = path.resolve(__dirname, '../..');
const run = promisify(execFile);

async function check(...args: string[]): Promise<{ code: number; report: Record<string, any> }> {
  try {
    const { stdout } = await run(path.join(ROOT, 'scripts/device-check.sh'), args, { cwd: ROOT, env: { ...process.env, DEVICE_CHECK_TIMEOUT: '1400' }, maxBuffer: 8 << 20 });
    return { code: 0, report: JSON.parse(stdout) };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: e.code ?? -1, report: JSON.parse(e.stdout || '{}') };
  }
}

test('compare() passes equal gradients and catches a wrong one and a missing one', () => {
  const g = new Map([['w', new Float32Array([1, -2, 3])]]);
  const ok = compare({ loss: 1, grads: new Map([['w', new Float32Array([1, -2, 3.0001])]]), samplesPerSecond: 1 }, { loss: 1, grads: g, samplesPerSecond: 1 });
  expect(ok.pass).toBe(true);
  expect(ok.worstRelativeL2).toBeLessThan(GRAD_RTOL);
  expect(compare({ loss: 1, grads: new Map([['w', new Float32Array([1, -2, 3.1])]]), samplesPerSecond: 1 }, { loss: 1, grads: g, samplesPerSecond: 1 })).toMatchObject({ pass: false, worstVariable: 'w' });
  expect(compare({ loss: 1, grads: new Map(), samplesPerSecond: 1 }, { loss: 1, grads: g, samplesPerSecond: 1 }).pass).toBe(false);
  expect(compare({ loss: 1.01, grads: g, samplesPerSecond: 1 }, { loss: 1, grads: g, samplesPerSecond: 1 }).pass).toBe(false);
});

test('--cpu-only: one step per modality on wasm matches the cpu backend within the stated tolerance', async () => {
  const { code, report } = await check('--cpu-only', '--steps=1');
  expect(report).toMatchObject({ mode: 'cpu-only', engines: { test: 'wasm', reference: 'cpu' }, tolerance: { gradientRelativeL2: 1e-3, lossRelative: 1e-4 }, pass: true });
  expect(code).toBe(0);
  expect(report.cases.map((c: { modality: string; pretext: string }) => `${c.modality}/${c.pretext}`)).toEqual(['IMAGE/CONTRASTIVE', 'TEXT/MASKED', 'SEQUENCE/NEXT_STEP']);
  for (const c of report.cases) {
    expect(c.variables).toBeGreaterThan(1);
    expect(Number.isFinite(c.loss.test)).toBe(true);
    expect(c.worstRelativeL2).toBeLessThanOrEqual(1e-3);
    expect(c.samplesPerSecond.test).toBeGreaterThan(0);
    expect(c.samplesPerSecond.reference).toBeGreaterThan(0);
  }
});

test('GPU mode without a GPU engine exits 1 with the reason, not a CPU result', async () => {
  const { code, report } = await check('--steps=0');
  expect(code).toBe(1);
  expect(report).toMatchObject({ mode: 'gpu', pass: false, name: 'GpuUnavailableError' });
  expect(report.error).toContain('no GPU engine could start');
});
