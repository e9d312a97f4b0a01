/**
 * Local dispatcher: real child processes (`node -e ...`) spawned by the dispatcher; no mocks.
 * Waits are on conditions (exit promises, output lines), never on fixed sleeps.
 */
import { DispatchError, LocalDispatcher, createDispatcher, type LocalOutputLine } from '../../../src/jobs/dispatchers';
import { makeRequest } from './helpers/request';

const NODE = process.execPath;

function nodeRequest(script: string, over: Parameters<typeof makeRequest>[0] = {}) {
  return makeRequest({ command: [NODE, '-e', script], resources: { gpus: 0, cpus: 1, memoryMb: 256 }, timeoutSeconds: 60, ...over });
}

/** Resolves when `pred` holds for a received line. */
function waitForLine(lines: LocalOutputLine[], pred: (l: LocalOutputLine) => boolean, sink: { onLine?: () => void }) {
  return new Promise<void>((resolve) => {
    const check = () => {
      if (lines.some(pred)) resolve();
    };
    sink.onLine = check;
    check();
  });
}

describe('LocalDispatcher', () => {
  let lines: LocalOutputLine[];
  const sink: { onLine?: () => void } = {};
  let d: LocalDispatcher;

  beforeEach(() => {
    lines = [];
    d = new LocalDispatcher({
      kind: 'local',
      maxConcurrent: 2,
      killGraceMs: 2000,
      onOutput: (l) => {
        lines.push(l);
        sink.onLine?.();
      },
    });
  });
  afterEach(() => d.close());

  it('runs the command with only the given env, captures stdout/stderr lines and reports success', async () => {
    const script = `console.log('token=' + process.env.PRETEXT_JOB_TOKEN); console.log('home=' + (process.env.HOME ?? 'unset')); console.error('warn line'); process.stdout.write('partial-no-newline')`;
    const { externalId } = await d.submit(nodeRequest(script, { runId: 'r1', attempt: 3 }));
    expect(externalId).toBe(`local-${process.pid}-r1-3`);
    const status = await d.waitForExit(externalId);
    expect(status).toEqual({ state: 'SUCCEEDED', exitCode: 0 });
    const mine = lines.filter((l) => l.externalId === externalId);
    expect(mine).toEqual(
      expect.arrayContaining([
        { externalId, stream: 'stdout', line: 'token=jt_secret_123' },
        { externalId, stream: 'stdout', line: 'home=unset' },
        { externalId, stream: 'stderr', line: 'warn line' },
        { externalId, stream: 'stdout', line: 'partial-no-newline' },
      ]),
    );
    expect(await d.describe(externalId)).toEqual({ state: 'SUCCEEDED', exitCode: 0 });
  });

  it('reports a non-zero exit as FAILED with the exit code', async () => {
    const { externalId } = await d.submit(nodeRequest('process.exit(3)'));
    expect(await d.waitForExit(externalId)).toEqual({ state: 'FAILED', reason: 'exited with code 3', exitCode: 3 });
  });

  it('reports a command that cannot start as FAILED', async () => {
    const { externalId } = await d.submit(makeRequest({ command: ['/nonexistent/trainer-binary'], timeoutSeconds: 60 }));
    const status = await d.waitForExit(externalId);
    expect(status.state).toBe('FAILED');
    expect(status.reason).toMatch(/could not start \/nonexistent\/trainer-binary: .*ENOENT/);
  });

  it('queues beyond maxConcurrent and starts queued work as slots free up', async () => {
    const hold = `console.log('started ' + process.env.N); setInterval(() => {}, 1000)`;
    const a = await d.submit(nodeRequest(hold, { runId: 'a', env: { N: 'a' } }));
    const b = await d.submit(nodeRequest(hold, { runId: 'b', env: { N: 'b' } }));
    const c = await d.submit(nodeRequest(`console.log('started c')`, { runId: 'c' }));
    await waitForLine(lines, (l) => l.line === 'started b', sink);
    await waitForLine(lines, (l) => l.line === 'started a', sink);
    expect((await d.describe(a.externalId)).state).toBe('RUNNING');
    expect((await d.describe(b.externalId)).state).toBe('RUNNING');
    expect(await d.describe(c.externalId)).toEqual({ state: 'PENDING' });
    await d.cancel(a.externalId);
    expect(await d.waitForExit(c.externalId)).toEqual({ state: 'SUCCEEDED', exitCode: 0 });
    expect((await d.describe(a.externalId)).state).toBe('FAILED');
    expect((await d.describe(b.externalId)).state).toBe('RUNNING');
  });

  it('cancel sends SIGTERM, giving the trainer time to clean up', async () => {
    const script = `process.on('SIGTERM', () => { console.log('got SIGTERM, checkpointing'); process.exit(143); }); console.log('ready'); setInterval(() => {}, 1000)`;
    const { externalId } = await d.submit(nodeRequest(script));
    await waitForLine(lines, (l) => l.line === 'ready', sink);
    await d.cancel(externalId);
    const status = await d.waitForExit(externalId);
    expect(status).toEqual({ state: 'FAILED', reason: 'cancelled', exitCode: 143 });
    expect(lines.map((l) => l.line)).toContain('got SIGTERM, checkpointing');
  });

  it('cancel escalates to SIGKILL when SIGTERM is ignored', async () => {
    const fast = new LocalDispatcher({ kind: 'local', maxConcurrent: 1, killGraceMs: 300, onOutput: (l) => { lines.push(l); sink.onLine?.(); } });
    try {
      const script = `process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('ready'); setInterval(() => {}, 1000)`;
      const { externalId } = await fast.submit(nodeRequest(script));
      await waitForLine(lines, (l) => l.line === 'ready', sink);
      await fast.cancel(externalId);
      await waitForLine(lines, (l) => l.line === 'ignoring SIGTERM', sink);
      const status = await fast.waitForExit(externalId);
      expect(status.state).toBe('FAILED');
      expect(status.reason).toBe('cancelled');
      expect(status.exitCode).toBeUndefined(); // killed by a signal, no exit code
    } finally {
      await fast.close();
    }
  });

  it('cancelling a queued execution removes it before it starts', async () => {
    const one = new LocalDispatcher({ kind: 'local', maxConcurrent: 1, killGraceMs: 300 });
    try {
      const first = await one.submit(nodeRequest('setInterval(() => {}, 1000)', { runId: 'first' }));
      const queued = await one.submit(nodeRequest(`require('fs').writeFileSync('/dev/stderr', 'must not run')`, { runId: 'queued' }));
      await one.cancel(queued.externalId);
      expect(await one.describe(queued.externalId)).toEqual({ state: 'FAILED', reason: 'cancelled before it started' });
      await one.cancel(first.externalId);
      expect((await one.waitForExit(first.externalId)).state).toBe('FAILED');
    } finally {
      await one.close();
    }
  });

  it('enforces timeoutSeconds', async () => {
    const { externalId } = await d.submit(nodeRequest('setInterval(() => {}, 1000)', { timeoutSeconds: 1 }));
    const status = await d.waitForExit(externalId);
    expect(status.state).toBe('FAILED');
    expect(status.reason).toBe('timed out after 1 s');
  });

  it('is idempotent for a live attempt and refuses to rerun a finished one', async () => {
    const req = nodeRequest(`console.log('once')`);
    const first = await d.submit(req);
    const again = await d.submit(req);
    expect(again.externalId).toBe(first.externalId);
    await d.waitForExit(first.externalId);
    expect(lines.filter((l) => l.line === 'once')).toHaveLength(1);
    await expect(d.submit(req)).rejects.toMatchObject({ name: 'DispatchError', retryable: false });
  });

  it('describes unknown ids and ids from another process as UNKNOWN', async () => {
    expect(await d.describe(`local-${process.pid}-nope-1`)).toEqual({ state: 'UNKNOWN', reason: `no local execution local-${process.pid}-nope-1` });
    const other = await d.describe('local-1-run-1');
    expect(other.state).toBe('UNKNOWN');
    expect(other.reason).toMatch(/another process \(pid 1\)/);
    await expect(d.cancel('local-1-run-1')).resolves.toBeUndefined();
  });

  it('rejects invalid requests and options with messages that say how to fix them', async () => {
    await expect(d.submit(nodeRequest('', { command: [] }))).rejects.toThrow(/command must be a non-empty array/);
    await expect(d.submit(nodeRequest('', { attempt: 0 }))).rejects.toThrow(DispatchError);
    await expect(d.submit(nodeRequest('', { env: { 'BAD-NAME': 'x' } }))).rejects.toThrow(/not a valid variable name/);
    expect(() => new LocalDispatcher({ kind: 'local', maxConcurrent: 0 })).toThrow(/maxConcurrent must be an integer >= 1/);
  });
});

describe('createDispatcher', () => {
  it('builds each kind and names the valid choices for an unknown one', () => {
    expect(createDispatcher({ kind: 'local', maxConcurrent: 1 }).name).toBe('local');
    const aws = { region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
    expect(createDispatcher({ kind: 'aws-batch', ...aws, jobQueue: 'q', jobDefinition: 'd' }).name).toBe('aws-batch');
    expect(createDispatcher({ kind: 'ecs', ...aws, cluster: 'c', taskDefinition: 't', containerName: 'trainer', capacityProviders: [{ name: 'gpu' }] }).name).toBe('ecs');
    expect(createDispatcher({ kind: 'kubernetes', namespace: 'ns', kubeConfig: { source: 'inline', server: 'http://127.0.0.1:1' } }).name).toBe('kubernetes');
    expect(() => createDispatcher({ kind: 'slurm' } as never)).toThrow(
      'Unsupported dispatcher: "slurm". Should be one of: local, aws-batch, ecs, kubernetes.',
    );
  });
});
