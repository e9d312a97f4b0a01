// Runs: the list (live), one run's status, progress, curves and logs while it trains, cancel / retry, and two runs
// compared on one chart per metric.
import { useMemo, useState } from 'react';
import { gql } from '../api';
import { LineChart, type Series } from '../components/LineChart';
import { Card, Empty, ErrorBox, fmtTime, KeyValues, Loading, shortId, Status } from '../components/ui';
import { href, navigate, useAction, useQuery } from '../hooks';
import type { RunKind, RunStatus } from '../generated/graphql';

const TERMINAL: RunStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
const live = (s: RunStatus) => !TERMINAL.includes(s);

interface RunRow {
  id: string;
  kind: RunKind;
  status: RunStatus;
  progress: number;
  step: number;
  totalSteps: number | null;
  createdAt: string;
  finishedAt: string | null;
  model: { modelId: string; name: string; version: number } | null;
}

const LIST = `{ runs(first: 100) { nodes { id kind status progress step totalSteps createdAt finishedAt model { modelId name version } } } }`;

function ProgressBar({ value, testId }: { value: number; testId?: string }) {
  return (
    <span className="pbar" data-testid={testId} data-value={value}>
      <span style={{ width: `${Math.round(value * 100)}%` }} />
    </span>
  );
}

export function RunsPage() {
  const q = useQuery<{ runs: { nodes: RunRow[] } }>(LIST, {}, { pollMs: 2000, poll: (d) => d.runs.nodes.some((r) => live(r.status)) });
  const [picked, setPicked] = useState<string[]>([]);
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p.slice(-1), id]));
  return (
    <>
      <h1>Runs</h1>
      <Card
        title="All runs"
        testId="runs-list"
        actions={
          <button className="primary" disabled={picked.length !== 2} onClick={() => navigate('runs', 'compare', picked[0]!, picked[1]!)} data-testid="compare">
            Compare {picked.length}/2
          </button>
        }
      >
        <ErrorBox error={q.error} testId="load-error" />
        {q.loading && <Loading />}
        {q.data && q.data.runs.nodes.length === 0 && <Empty>No runs yet: open a READY dataset version and start one.</Empty>}
        {q.data && q.data.runs.nodes.length > 0 && (
          <table className="table">
            <thead>
              <tr>
                <th />
                <th>run</th>
                <th>kind</th>
                <th>status</th>
                <th>progress</th>
                <th>model</th>
                <th>started</th>
              </tr>
            </thead>
            <tbody>
              {q.data.runs.nodes.map((r) => (
                <tr key={r.id}>
                  <td>
                    <input type="checkbox" checked={picked.includes(r.id)} onChange={() => toggle(r.id)} aria-label="compare" />
                  </td>
                  <td>
                    <a href={href('runs', r.id)} data-testid="run-link">
                      {shortId(r.id)}
                    </a>
                  </td>
                  <td>{r.kind.toLowerCase()}</td>
                  <td>
                    <Status value={r.status} />
                  </td>
                  <td>
                    <ProgressBar value={r.progress} /> {r.step}/{r.totalSteps ?? '?'}
                  </td>
                  <td>{r.model ? <a href={href('models', r.model.modelId)}>{`${r.model.name}@v${r.model.version}`}</a> : '—'}</td>
                  <td className="muted">{fmtTime(r.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

interface MetricPoint {
  name: string;
  step: number;
  value: number;
  attempt: number;
}

interface RunDetail extends RunRow {
  attempt: number;
  maxAttempts: number;
  error: string | null;
  backend: string | null;
  dispatcher: string | null;
  checkpointStep: number | null;
  heartbeatAt: string | null;
  startedAt: string | null;
  experimentId: string | null;
  datasetVersionId: string | null;
  baseModelVersionId: string | null;
  metrics: MetricPoint[];
  logs: Array<{ at: string; level: string; message: string; attempt: number }>;
  model: { modelId: string; modelVersionId: string; name: string; version: number; embeddingDim: number } | null;
}

const RUN = `query($id: ID!) { run(id: $id) { id kind status progress step totalSteps createdAt startedAt finishedAt attempt maxAttempts error backend
  dispatcher checkpointStep heartbeatAt experimentId datasetVersionId baseModelVersionId
  metrics { name step value attempt } logs(tail: 200) { at level message attempt }
  model { modelId modelVersionId name version embeddingDim } } }`;

/** One series per metric name; a step reported again by a retried attempt keeps the newest attempt's value. */
export function seriesByName(points: MetricPoint[], prefix = ''): Map<string, Series> {
  const latest = new Map<string, MetricPoint>();
  for (const p of points) {
    const k = `${p.name}|${p.step}`;
    const seen = latest.get(k);
    if (!seen || p.attempt >= seen.attempt) latest.set(k, p);
  }
  const out = new Map<string, Series>();
  for (const p of [...latest.values()].sort((a, b) => a.step - b.step)) {
    let s = out.get(p.name);
    if (!s) out.set(p.name, (s = { name: `${prefix}${p.name}`, points: [] }));
    s.points.push({ step: p.step, value: p.value });
  }
  return out;
}

export function RunPage({ id }: { id: string }) {
  const q = useQuery<{ run: RunDetail }>(RUN, { id }, { pollMs: 1000, poll: (d) => live(d.run.status) });
  const act = useAction();
  const r = q.data?.run;
  const series = useMemo(() => (r ? [...seriesByName(r.metrics).values()] : []), [r]);
  const mutate = (op: 'cancelRun' | 'retryRun') =>
    act.run(async () => {
      await gql(`mutation($id: ID!) { ${op}(id: $id) { id status } }`, { id });
      q.reload();
    });
  return (
    <>
      <p className="crumbs">
        <a href={href('runs')}>Runs</a> /
      </p>
      <ErrorBox error={q.error} testId="load-error" />
      {!r ? (
        <Loading />
      ) : (
        <>
          <h1>
            Run {shortId(r.id)} <Status value={r.status} testId="run-status" />
          </h1>
          <Card
            title="Status"
            actions={
              <>
                {live(r.status) && (
                  <button className="danger" disabled={act.busy} onClick={() => void mutate('cancelRun')} data-testid="run-cancel">
                    Cancel run
                  </button>
                )}
                {(r.status === 'FAILED' || r.status === 'CANCELLED') && (
                  <button disabled={act.busy} onClick={() => void mutate('retryRun')} data-testid="run-retry">
                    Retry
                  </button>
                )}
              </>
            }
          >
            <div className="progress-row">
              <ProgressBar value={r.progress} testId="run-progress" />
              <span data-testid="run-steps">
                step {r.step} / {r.totalSteps ?? '?'} ({Math.round(r.progress * 100)}%)
              </span>
            </div>
            <ErrorBox error={act.error} />
            {r.error && <div className="error">{r.error}</div>}
            <KeyValues
              items={[
                ['kind', r.kind.toLowerCase()],
                ['attempt', `${r.attempt} of ${r.maxAttempts}`],
                ['backend', r.backend],
                ['dispatcher', r.dispatcher],
                ['checkpoint', r.checkpointStep != null ? `step ${r.checkpointStep}` : null],
                ['last heartbeat', fmtTime(r.heartbeatAt)],
                ['started', fmtTime(r.startedAt)],
                ['finished', fmtTime(r.finishedAt)],
                ['model', r.model ? <a href={href('models', r.model.modelId, r.model.modelVersionId)} data-testid="run-model">{`${r.model.name}@v${r.model.version}`}</a> : null],
              ]}
            />
          </Card>
          {series.length === 0 && <Card title="Curves"><Empty>No metrics reported yet.</Empty></Card>}
          <div className="grid-2">
            {series.map((s) => (
              <Card key={s.name} title={s.name}>
                <LineChart series={[s]} testId={`curve-${s.name}`} yLabel={s.name} />
              </Card>
            ))}
          </div>
          <Card title="Logs" testId="run-logs">
            <pre className="logs">
              {r.logs.map((l, i) => (
                <div key={i} className={`log-${l.level}`}>
                  <span className="muted">{new Date(l.at).toLocaleTimeString()} #{l.attempt}</span> {l.level.padEnd(5)} {l.message}
                </div>
              ))}
              {r.logs.length === 0 && <span className="muted">No log lines yet.</span>}
            </pre>
          </Card>
        </>
      )}
    </>
  );
}

export function ComparePage({ ids }: { ids: [string, string] }) {
  const a = useQuery<{ run: RunDetail }>(RUN, { id: ids[0] }, { pollMs: 2000, poll: (d) => live(d.run.status) });
  const b = useQuery<{ run: RunDetail }>(RUN, { id: ids[1] }, { pollMs: 2000, poll: (d) => live(d.run.status) });
  const charts = useMemo(() => {
    if (!a.data || !b.data) return [];
    const sa = seriesByName(a.data.run.metrics, `${shortId(ids[0])} `);
    const sb = seriesByName(b.data.run.metrics, `${shortId(ids[1])} `);
    const names = [...new Set([...sa.keys(), ...sb.keys()])];
    return names.map((n) => ({ name: n, series: [sa.get(n) ?? { name: `${shortId(ids[0])} ${n}`, points: [] }, sb.get(n) ?? { name: `${shortId(ids[1])} ${n}`, points: [] }] }));
  }, [a.data, b.data, ids]);
  return (
    <>
      <p className="crumbs">
        <a href={href('runs')}>Runs</a> /
      </p>
      <h1>
        Compare <a href={href('runs', ids[0])}>{shortId(ids[0])}</a> and <a href={href('runs', ids[1])}>{shortId(ids[1])}</a>
      </h1>
      <ErrorBox error={a.error ?? b.error} testId="load-error" />
      {(!a.data || !b.data) && <Loading />}
      {charts.map((c) => (
        <Card key={c.name} title={c.name}>
          <LineChart series={c.series} testId={`compare-${c.name}`} yLabel={c.name} height={300} />
        </Card>
      ))}
    </>
  );
}
