// `pretext runs list|show|watch|cancel`. `watch` polls the run and draws a live progress bar with the loss trend
// and an ETA until the run finishes; with --json it prints only the final state.
import type { Command } from 'commander';
import { CliError, clientOptionsFromEnv, gql } from '../client';
import { print, table } from '../output';

const RUN_FIELDS = `id kind experimentId baseModelVersionId status progress attempt maxAttempts step totalSteps error dispatcher externalId checkpointStep
  accelerator device { accelerator backend engine device vendor memoryBytes memorySource maxBufferBytes probe { size milliseconds maxAbsError } tried { backend ok reason } attempt }
  createdAt startedAt finishedAt model { modelId modelVersionId name version embeddingDim onnxKey }`;

interface RunView {
  id: string;
  status: string;
  progress: number;
  attempt: number;
  step: number;
  totalSteps: number | null;
  error: string | null;
  startedAt: string | null;
  metrics?: Array<{ step: number; value: number }>;
  logs?: Array<{ at: string; level: string; message: string }>;
  [k: string]: unknown;
}

interface DeviceView {
  backend: string;
  engine: string;
  device: string;
  memoryBytes: number | string | null;
  memorySource: string | null;
  probe: { size: number; milliseconds: number; maxAbsError: number };
  attempt: number;
}

/** One line: what the run asked for and the device its trainer proved. */
export function renderDevice(accelerator: unknown, device: DeviceView | null | undefined): string {
  if (!device) return `accelerator: ${String(accelerator)} (no device report yet)`;
  const mem = device.memoryBytes === null ? 'memory not reported' : `${(Number(device.memoryBytes) / 2 ** 30).toFixed(1)} GiB (${device.memorySource})`;
  return `accelerator: ${String(accelerator)} on ${device.device} via ${device.engine}; ${mem}; probe ${device.probe.size}² matmul ${device.probe.milliseconds.toFixed(1)} ms, max error ${device.probe.maxAbsError.toExponential(1)} (attempt ${device.attempt})`;
}

export const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** Eight-level sparkline of the last losses: the trend at a glance. */
export function sparkline(values: number[], width = 24): string {
  const v = values.slice(-width);
  if (v.length === 0) return '';
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const bars = '▁▂▃▄▅▆▇█';
  return v.map((x) => bars[hi === lo ? 3 : Math.round(((x - lo) / (hi - lo)) * 7)]).join('');
}

/** Seconds left, from the pace of steps since the first observation. */
export function eta(samples: Array<{ at: number; step: number }>, total: number | null): number | null {
  if (!total || samples.length < 2) return null;
  const a = samples[0]!;
  const b = samples[samples.length - 1]!;
  const rate = (b.step - a.step) / ((b.at - a.at) / 1000);
  return rate > 0 ? (total - b.step) / rate : null;
}

function fmtSeconds(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.round(s % 60)).padStart(2, '0')}`;
}

export function renderProgress(run: RunView, samples: Array<{ at: number; step: number }>, width = 30): string {
  const filled = Math.round(run.progress * width);
  const losses = (run.metrics ?? []).map((m) => m.value);
  const last = losses[losses.length - 1];
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${(run.progress * 100).toFixed(0).padStart(3)}%  ${run.status.padEnd(10)} step ${run.step}/${run.totalSteps ?? '?'}  attempt ${run.attempt}  loss ${last === undefined ? '-' : last.toFixed(4)} ${sparkline(losses)}  ETA ${fmtSeconds(eta(samples, run.totalSteps))}`;
}

export function register(program: Command): void {
  const runs = program.command('runs').description('Training runs: list, show, watch, cancel');

  runs
    .command('list')
    .option('--status <status>', 'QUEUED, DISPATCHED, RUNNING, SUCCEEDED, FAILED or CANCELLED')
    .option('--first <n>', 'how many', '20')
    .option('--json', 'machine-readable output')
    .action(async (o: { status?: string; first: string; json?: boolean }) => {
      const data = await gql<{ runs: { nodes: RunView[] } }>(
        clientOptionsFromEnv(),
        `query($status: RunStatus, $first: Int) { runs(status: $status, first: $first) { nodes { ${RUN_FIELDS} } } }`,
        { ...(o.status ? { status: o.status.toUpperCase() } : {}), first: Number(o.first) },
      );
      print(!!o.json, data.runs.nodes, () =>
        table(data.runs.nodes.map((r) => ({ ...r, progress: `${Math.round(r.progress * 100)}%` })), ['id', 'kind', 'status', 'progress', 'attempt', 'step', 'totalSteps', 'error']),
      );
    });

  runs
    .command('show <id>')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }) => {
      const data = await gql<{ run: RunView }>(
        clientOptionsFromEnv(),
        `query($id: ID!) { run(id: $id) { ${RUN_FIELDS} metrics(name: "loss", last: 200) { step value } logs(tail: 20) { at level message } } }`,
        { id },
      );
      const r = data.run;
      print(!!o.json, r, () =>
        [
          renderProgress(r, []),
          renderDevice(r.accelerator, r.device as DeviceView | null),
          ...(r.error ? [`error: ${r.error}`] : []),
          ...(r.model ? [`model: ${JSON.stringify(r.model)}`] : []),
          ...(r.logs ?? []).map((l) => `${l.at} ${l.level.padEnd(5)} ${l.message}`),
        ].join('\n'),
      );
    });

  runs
    .command('watch <id>')
    .option('--interval <ms>', 'poll interval', '1000')
    .option('--json', 'print only the final state as JSON')
    .action(async (id: string, o: { interval: string; json?: boolean }) => {
      const opts = clientOptionsFromEnv();
      const samples: Array<{ at: number; step: number }> = [];
      const interval = Math.max(200, Number(o.interval) || 1000);
      for (;;) {
        const data = await gql<{ run: RunView }>(opts, `query($id: ID!) { run(id: $id) { ${RUN_FIELDS} metrics(name: "loss", last: 200) { step value } } }`, { id });
        const r = data.run;
        samples.push({ at: Date.now(), step: r.step });
        if (samples.length > 30) samples.shift();
        if (!o.json) process.stdout.write(`\r${renderProgress(r, samples)}`);
        if (TERMINAL.has(r.status)) {
          if (o.json) print(true, r, () => '');
          else process.stdout.write(`\n${r.status}${r.error ? `: ${r.error}` : ''}${r.model ? `  model ${(r.model as { name: string }).name} v${(r.model as { version: number }).version}` : ''}\n`);
          if (r.status !== 'SUCCEEDED') process.exitCode = 1;
          return;
        }
        await new Promise((res) => setTimeout(res, interval));
      }
    });

  runs
    .command('cancel <id>')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }) => {
      const data = await gql<{ cancelRun: RunView }>(clientOptionsFromEnv(), `mutation($id: ID!) { cancelRun(id: $id) { ${RUN_FIELDS} } }`, { id });
      if (!data.cancelRun) throw new CliError(`Run ${id} could not be cancelled`);
      print(!!o.json, data.cancelRun, () => `Run ${id}: ${data.cancelRun.status}`);
    });
}
