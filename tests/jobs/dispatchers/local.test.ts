/**
 * Local dispatcher: real child processes (`node -e ...`) spawned by the dispatcher; no mocks.
 * Waits are on conditions (exit promises, output lines), never on fixed sleeps.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DispatchError, LocalDispatcher, createDispatcher, type DispatchStatus, type LocalOutputLine } from '../../../src/jobs/dispatchers';
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

describe('LocalDispatcher array jobs', () => {
  let dir: string;
  let lines: LocalOutputLine[];
  let exits: Array<{ externalId: string; status: DispatchStatus }>;
  const sink: { onLine?: () => void } = {};
  let d: LocalDispatcher;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pretext-array-'));
    lines = [];
    exits = [];
    d = new LocalDispatcher({
      kind: 'local',
      maxConcurrent: 2,
      killGraceMs: 2000,
      onOutput: (l) => {
        lines.push(l);
        sink.onLine?.();
      },
      onExit: (externalId, status) => exits.push({ externalId, status }),
    });
  });
  afterEach(async () => {
    await d.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Whether a process is still there (signal 0 checks without sending anything). */
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const pids = () => lines.filter((l) => l.line.startsWith('pid ')).map((l) => Number(l.line.slice(4)));

  it('runs N real children with PRETEXT_JOB_INDEX/PRETEXT_JOB_COUNT, two at a time, and reports the set', async () => {
    // Each child writes its shard file and prints its index; index 0 waits for a go file so the queue is visible.
    const script = `
      const fs = require('fs'); const path = require('path');
      const { PRETEXT_JOB_INDEX: i, PRETEXT_JOB_COUNT: n, OUT } = process.env;
      console.log('index ' + i + ' of ' + n);
      const done = () => { fs.writeFileSync(path.join(OUT, 'shard-' + i), i + '/' + n); process.exit(0); };
      if (i === '0') { const t = setInterval(() => { if (fs.existsSync(path.join(OUT, 'go'))) { clearInterval(t); done(); } }, 20); } else done();`;
    const { externalId } = await d.submit(nodeRequest(script, { runId: 'shards', arraySize: 4, env: { OUT: dir } }));
    expect(externalId).toBe(`local-${process.pid}-shards-1`);
    await waitForLine(lines, (l) => l.line === 'index 0 of 4', sink);
    // Index 0 holds one of the two slots; the others pass through the second slot one after another.
    await waitForLine(lines, (l) => l.line === 'index 3 of 4', sink);
    const mid = await d.describe(externalId);
    expect(mid.state).toBe('RUNNING');
    expect(mid.reason).toMatch(/^\d of 4 succeeded, \d running, \d pending$/);
    writeFileSync(join(dir, 'go'), '');
    expect(await d.waitForExit(externalId)).toEqual({ state: 'SUCCEEDED', exitCode: 0 });
    expect([0, 1, 2, 3].map((i) => readFileSync(join(dir, `shard-${i}`), 'utf8'))).toEqual(['0/4', '1/4', '2/4', '3/4']);
    expect(lines.filter((l) => l.line.startsWith('index ')).map((l) => [l.index, l.line]).sort()).toEqual([
      [0, 'index 0 of 4'], [1, 'index 1 of 4'], [2, 'index 2 of 4'], [3, 'index 3 of 4'],
    ]);
    expect(exits).toEqual([{ externalId, status: { state: 'SUCCEEDED', exitCode: 0 } }]);
  });

  it('fails the set as soon as one child fails and stops the rest (running and queued)', async () => {
    // Index 1 fails once 0 and 2 have started (their marker files exist); the others would run forever.
    const script = `
      const fs = require('fs'); const path = require('path');
      const { PRETEXT_JOB_INDEX: i, OUT } = process.env;
      console.log('pid ' + process.pid);
      fs.writeFileSync(path.join(OUT, 'started-' + i), '');
      if (i === '1') setInterval(() => { if (['0', '2'].every((j) => fs.existsSync(path.join(OUT, 'started-' + j)))) process.exit(3); }, 20);
      else { process.on('SIGTERM', () => setTimeout(() => process.exit(143), 500)); setInterval(() => {}, 1000); }`;
    const one = new LocalDispatcher({ kind: 'local', maxConcurrent: 3, killGraceMs: 2000, onOutput: (l) => { lines.push(l); sink.onLine?.(); }, onExit: (externalId, status) => exits.push({ externalId, status }) });
    try {
      const { externalId } = await one.submit(nodeRequest(script, { runId: 'fails', arraySize: 5, env: { OUT: dir } }));
      // The set is FAILED the moment index 1 exits, while its siblings are still shutting down (500 ms after SIGTERM).
      while ((await one.describe(externalId)).state !== 'FAILED') await new Promise((r) => setTimeout(r, 10));
      expect(exits).toEqual([]);
      expect(pids().filter(alive)).toHaveLength(2);
      const status = await one.waitForExit(externalId);
      expect(status).toEqual({ state: 'FAILED', reason: 'index 1 of 5 failed: exited with code 3', exitCode: 3 });
      expect(await one.describe(externalId)).toEqual(status);
      // Indexes 3 and 4 were still queued (3 slots): they never started.
      expect(pids()).toHaveLength(3);
      expect(existsSync(join(dir, 'started-3')) || existsSync(join(dir, 'started-4'))).toBe(false);
      expect(pids().filter(alive)).toEqual([]);
      expect(exits).toEqual([{ externalId, status }]);
    } finally {
      await one.close();
    }
  });

  it('applies the timeout to each child', async () => {
    const script = `if (process.env.PRETEXT_JOB_INDEX === '1') setInterval(() => {}, 1000);`;
    const { externalId } = await d.submit(nodeRequest(script, { runId: 'slow', arraySize: 2, timeoutSeconds: 1 }));
    expect(await d.waitForExit(externalId)).toMatchObject({ state: 'FAILED', reason: 'index 1 of 2 failed: timed out after 1 s' });
  });

  it('cancel kills every child of the set and drops the queued ones', async () => {
    const script = `console.log('pid ' + process.pid); setInterval(() => {}, 1000)`;
    const { externalId } = await d.submit(nodeRequest(script, { runId: 'cancelled', arraySize: 3 }));
    await waitForLine(lines, () => pids().length === 2, sink);
    expect(await d.describe(externalId)).toEqual({ state: 'RUNNING', reason: '0 of 3 succeeded, 2 running, 1 pending' });
    await d.cancel(externalId);
    const status = await d.waitForExit(externalId);
    expect(status).toEqual({ state: 'FAILED', reason: 'cancelled' });
    expect(pids()).toHaveLength(2);
    expect(pids().filter(alive)).toEqual([]);
    expect(exits).toEqual([{ externalId, status }]);
  });

  it('gives a plain request (arraySize 1) no index env, exactly as before', async () => {
    const { externalId } = await d.submit(nodeRequest(`console.log('env ' + [process.env.PRETEXT_JOB_INDEX, process.env.PRETEXT_JOB_COUNT].join('|'))`, { arraySize: 1 }));
    expect(await d.waitForExit(externalId)).toEqual({ state: 'SUCCEEDED', exitCode: 0 });
    expect(lines.find((l) => l.line.startsWith('env '))).toEqual({ externalId, stream: 'stdout', line: 'env |' });
  });

  it('rejects array sizes outside 1..10 000 and a caller-set index', async () => {
    for (const arraySize of [0, 10_001, 2.5, Number.NaN]) {
      await expect(d.submit(nodeRequest('', { arraySize }))).rejects.toMatchObject({ name: 'DispatchError', code: 'InvalidRequest', message: expect.stringMatching(/arraySize must be an integer from 1 to 10000/) });
    }
    await expect(d.submit(nodeRequest('', { arraySize: 2, env: { PRETEXT_JOB_INDEX: '0' } }))).rejects.toThrow(/PRETEXT_JOB_INDEX" is set by the dispatcher/);
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
