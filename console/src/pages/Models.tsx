// Models: the registry, one model's versions with their lineage (base → fine-tunes), evaluation reports with the
// confusion matrix, aliases and the evaluation-gated promote action, fine-tuning and embedding a dataset.
import { useMemo, useState } from 'react';
import { gql } from '../api';
import { ConfusionMatrix } from '../components/Heatmap';
import { Card, Empty, ErrorBox, fmtNum, fmtTime, KeyValues, Loading, Status } from '../components/ui';
import { href, navigate, useAction, useQuery } from '../hooks';
import type { Modality } from '../generated/graphql';

interface VersionRow {
  id: string;
  version: number;
  parentVersionId: string | null;
  head: { task?: string; labels?: string[]; mode?: string; labelFraction?: number; trainSize?: number; outputs?: number } | null;
  evaluation: Record<string, unknown> | null;
  aliases: string[];
  fineTunable: boolean;
  embeddingDim: number;
  createdAt: string;
  runId: string | null;
}

interface ModelRow {
  id: string;
  name: string;
  modality: Modality;
  createdAt: string;
  versions: VersionRow[];
  aliases: Array<{ alias: string; updatedAt: string; version: { id: string; version: number } }>;
}

const VERSION_FIELDS = 'id version parentVersionId head evaluation aliases fineTunable embeddingDim createdAt runId';
const LIST = `{ models { id name modality createdAt versions { ${VERSION_FIELDS} } aliases { alias updatedAt version { id version } } } }`;

/** The headline score the server gates promotion by (same order as its headlineScore). */
export function headline(e: Record<string, unknown> | null): { metric: string; value: number } | null {
  if (!e) return null;
  for (const m of ['accuracy', 'linearProbeAccuracy', 'knnAccuracy', 'macroF1', 'r2', 'rmse']) if (typeof e[m] === 'number') return { metric: m, value: e[m] as number };
  return null;
}

export function ModelsPage() {
  const q = useQuery<{ models: ModelRow[] }>(LIST, {});
  return (
    <>
      <h1>Models</h1>
      <Card title="Registry" testId="models-list">
        <ErrorBox error={q.error} testId="load-error" />
        {q.loading && <Loading />}
        {q.data && q.data.models.length === 0 && <Empty>No models yet: a successful training run registers one.</Empty>}
        {q.data && q.data.models.length > 0 && (
          <table className="table">
            <thead>
              <tr>
                <th>name</th>
                <th>modality</th>
                <th>versions</th>
                <th>aliases</th>
                <th>best headline score</th>
                <th>created</th>
              </tr>
            </thead>
            <tbody>
              {q.data.models.map((m) => {
                const best = m.versions.map((v) => headline(v.evaluation)).filter((h) => h !== null).sort((a, b) => b!.value - a!.value)[0];
                return (
                  <tr key={m.id}>
                    <td>
                      <a href={href('models', m.id)} data-testid="model-link">
                        {m.name}
                      </a>
                    </td>
                    <td>{m.modality.toLowerCase()}</td>
                    <td>{m.versions.length}</td>
                    <td>{m.aliases.map((a) => <span key={a.alias} className="tag">{`${a.alias} → v${a.version.version}`}</span>)}</td>
                    <td>{best ? `${best.metric} ${fmtNum(best.value)}` : '—'}</td>
                    <td className="muted">{fmtTime(m.createdAt)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

/** Versions in lineage order: each base followed by its fine-tunes (indented), depth-first. */
function lineage(versions: VersionRow[]): Array<{ v: VersionRow; depth: number }> {
  const ids = new Set(versions.map((v) => v.id));
  const children = new Map<string | null, VersionRow[]>();
  for (const v of [...versions].sort((a, b) => a.version - b.version)) {
    const parent = v.parentVersionId && ids.has(v.parentVersionId) ? v.parentVersionId : null;
    children.set(parent, [...(children.get(parent) ?? []), v]);
  }
  const out: Array<{ v: VersionRow; depth: number }> = [];
  const walk = (parent: string | null, depth: number) => {
    for (const v of children.get(parent) ?? []) {
      out.push({ v, depth });
      walk(v.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

export function ModelPage({ id, versionId }: { id: string; versionId: string | null }) {
  const q = useQuery<{ model: ModelRow }>(`query($id: ID!) { model(id: $id) { id name modality createdAt versions { ${VERSION_FIELDS} } aliases { alias updatedAt version { id version } } } }`, { id });
  const m = q.data?.model;
  const selected = m?.versions.find((v) => v.id === versionId) ?? m?.versions[0] ?? null;
  const tree = useMemo(() => (m ? lineage(m.versions) : []), [m]);
  return (
    <>
      <p className="crumbs">
        <a href={href('models')}>Models</a> /
      </p>
      <ErrorBox error={q.error} testId="load-error" />
      {!m ? (
        <Loading />
      ) : (
        <>
          <h1>
            {m.name} <span className="tag">{m.modality.toLowerCase()}</span>
          </h1>
          <div className="grid-2">
            <Card title="Versions and lineage" testId="lineage">
              <table className="table">
                <tbody>
                  {tree.map(({ v, depth }) => (
                    <tr key={v.id} className={v.id === selected?.id ? 'selected' : undefined} data-testid="lineage-row" data-depth={depth}>
                      <td>
                        <span className="indent" style={{ width: `${depth * 18}px` }} />
                        {depth > 0 && <span className="muted">└ </span>}
                        <a href={href('models', m.id, v.id)}>v{v.version}</a>
                        {v.parentVersionId && !m.versions.some((p) => p.id === v.parentVersionId) && <ParentRef id={v.parentVersionId} />}
                      </td>
                      <td>{v.head ? <span className="tag">{`${(v.head.task ?? '').toLowerCase()} head`}</span> : <span className="muted">encoder</span>}</td>
                      <td>{v.aliases.map((a) => <span key={a} className="tag alias">{a}</span>)}</td>
                      <td>{(() => { const h = headline(v.evaluation); return h ? `${h.metric} ${fmtNum(h.value)}` : '—'; })()}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
            <PromoteCard model={m} selected={selected} onDone={q.reload} />
          </div>
          {selected && <VersionDetail model={m} v={selected} />}
        </>
      )}
    </>
  );
}

function ParentRef({ id }: { id: string }) {
  const q = useQuery<{ modelVersion: { version: number; model: { id: string; name: string } } }>(`query($id: ID!) { modelVersion(id: $id) { version model { id name } } }`, { id });
  const p = q.data?.modelVersion;
  return p ? (
    <span className="muted">
      {' '}
      from <a href={href('models', p.model.id, id)}>{`${p.model.name}@v${p.version}`}</a>
    </span>
  ) : null;
}

function VersionDetail({ model, v }: { model: ModelRow; v: VersionRow }) {
  return (
    <>
      <Card title={`Version ${v.version}`} testId="version">
        <KeyValues
          items={[
            ['reference', <code>{`${model.name}@v${v.version}`}</code>],
            ['embedding dim', v.embeddingDim],
            ['head', v.head ? `${v.head.task?.toLowerCase()} · ${v.head.mode?.toLowerCase() ?? ''} · ${v.head.labels ? `${v.head.labels.length} labels` : `${v.head.outputs ?? 1} outputs`}` : 'none (encoder)'],
            ['fine-tunable', v.fineTunable ? 'yes' : 'no'],
            ['run', v.runId ? <a href={href('runs', v.runId)}>{v.runId.slice(0, 8)}</a> : null],
            ['created', fmtTime(v.createdAt)],
          ]}
        />
        <div className="row">
          <a className="button" href={href('playground', v.id)}>
            Try it in the playground
          </a>
        </div>
      </Card>
      <Evaluation evaluation={v.evaluation} />
      <div className="grid-2">
        <FineTuneCard model={model} v={v} />
        <EmbedSpaceCard model={model} v={v} />
      </div>
    </>
  );
}

export function Evaluation({ evaluation: e }: { evaluation: Record<string, unknown> | null }) {
  if (!e) {
    return (
      <Card title="Evaluation report">
        <Empty>No report: the dataset had no labeled held-out split. Name a labeled evaluation version when you train.</Empty>
      </Card>
    );
  }
  const num = (k: string) => (typeof e[k] === 'number' ? (e[k] as number) : null);
  const probe = (e.probe ?? null) as Record<string, number> | null;
  const metrics: Array<[string, string]> = [];
  for (const [k, label] of [
    ['accuracy', 'accuracy (head)'],
    ['linearProbeAccuracy', 'linear-probe accuracy'],
    ['knnAccuracy', `kNN accuracy (k = ${String(e.k ?? '')})`],
    ['macroF1', 'macro-F1'],
    ['rmse', 'RMSE'],
    ['mae', 'MAE'],
    ['r2', 'R²'],
  ] as const) {
    const v = num(k);
    if (v !== null) metrics.push([label, fmtNum(v)]);
  }
  if (probe) for (const [k, v] of Object.entries(probe)) if (k !== 'trainSize') metrics.push([`backbone probe ${k}`, fmtNum(v)]);
  const matrix = Array.isArray(e.confusionMatrix) ? (e.confusionMatrix as number[][]) : null;
  const labels = Array.isArray(e.labels) ? (e.labels as string[]) : [];
  return (
    <Card title="Evaluation report" testId="evaluation">
      <div className="metrics">
        {metrics.map(([k, v]) => (
          <div key={k} className="metric" data-testid="metric" data-name={k}>
            <div className="metric-value">{v}</div>
            <div className="metric-name">{k}</div>
          </div>
        ))}
      </div>
      <KeyValues
        items={[
          ['task', String(e.task ?? '').toLowerCase()],
          ['split', String(e.split ?? '—')],
          ['train rows', String(e.trainSize ?? '—')],
          ['test rows', <span data-testid="test-size">{String(e.testSize ?? '—')}</span>],
          ['evaluated on dataset version', e.datasetVersionId ? <code>{String(e.datasetVersionId).slice(0, 8)}</code> : '—'],
        ]}
      />
      {matrix && labels.length > 0 && (
        <>
          <h3>Confusion matrix</h3>
          <ConfusionMatrix matrix={matrix} labels={labels} />
        </>
      )}
    </Card>
  );
}

function PromoteCard({ model, selected, onDone }: { model: ModelRow; selected: VersionRow | null; onDone: () => void }) {
  const [alias, setAlias] = useState('production');
  const [versionId, setVersionId] = useState('');
  const [force, setForce] = useState(false);
  const act = useAction();
  const target = versionId || selected?.id || '';
  return (
    <Card title="Aliases" testId="aliases">
      {model.aliases.length === 0 ? (
        <Empty>No aliases yet.</Empty>
      ) : (
        <table className="table">
          <tbody>
            {model.aliases.map((a) => (
              <tr key={a.alias}>
                <td>
                  <span className="tag alias">{a.alias}</span>
                </td>
                <td>→ v{a.version.version}</td>
                <td className="muted">{fmtTime(a.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        className="row wrap"
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => {
            await gql(`mutation($i: SetModelAliasInput!) { setModelAlias(input: $i) { alias version { id version } } }`, {
              i: { modelId: model.id, alias: alias.trim(), versionId: target, force },
            });
            onDone();
          });
        }}
      >
        <input value={alias} onChange={(e) => setAlias(e.target.value)} aria-label="alias" data-testid="alias-name" />
        <select value={target} onChange={(e) => setVersionId(e.target.value)} data-testid="alias-version">
          {model.versions.map((v) => (
            <option key={v.id} value={v.id}>
              v{v.version}
            </option>
          ))}
        </select>
        <label className="inline check">
          <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} /> force
        </label>
        <button className="primary" disabled={act.busy || !alias.trim() || !target} data-testid="promote">
          Promote
        </button>
      </form>
      <p className="hint">Promotion is evaluation-gated: the server refuses a version that scores worse than the alias's current one unless you force it.</p>
      <ErrorBox error={act.error} />
    </Card>
  );
}

interface DsVersion {
  id: string;
  version: number;
  status: string;
  stats: { rows: number; labels: string[] } | null;
}

function useDatasetVersions(modality: Modality) {
  const q = useQuery<{ datasets: { nodes: Array<{ id: string; name: string; modality: Modality; versions: DsVersion[] }> } }>(
    `{ datasets(first: 100) { nodes { id name modality versions { id version status stats { rows labels } } } } }`,
    {},
  );
  return (q.data?.datasets.nodes ?? [])
    .filter((d) => d.modality === modality)
    .flatMap((d) => d.versions.filter((v) => v.status === 'READY').map((v) => ({ ...v, label: `${d.name} v${v.version} (${v.stats?.rows ?? 0} rows${v.stats?.labels.length ? `, ${v.stats.labels.length} labels` : ', unlabeled'})` })));
}

function FineTuneCard({ model, v }: { model: ModelRow; v: VersionRow }) {
  const versions = useDatasetVersions(model.modality).filter((d) => (d.stats?.labels.length ?? 0) > 0);
  const [datasetVersionId, setDv] = useState('');
  const [mode, setMode] = useState('FULL');
  const [task, setTask] = useState('CLASSIFICATION');
  const [labelFraction, setFraction] = useState(1);
  const act = useAction();
  const dv = datasetVersionId || versions[0]?.id || '';
  return (
    <Card title="Fine-tune on labels" testId="finetune">
      {!v.fineTunable && <p className="muted">This version's weights are not stored, so it cannot be fine-tuned.</p>}
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => {
            const d = await gql<{ createFineTune: { id: string } }>(`mutation($i: CreateFineTuneInput!) { createFineTune(input: $i) { id } }`, {
              i: { model: v.id, datasetVersionId: dv, task, mode, labelFraction },
            });
            navigate('runs', d.createFineTune.id);
          });
        }}
      >
        <select value={dv} onChange={(e) => setDv(e.target.value)} aria-label="labeled dataset version">
          {versions.length === 0 && <option value="">no labeled READY version of this modality</option>}
          {versions.map((d) => (
            <option key={d.id} value={d.id}>
              {d.label}
            </option>
          ))}
        </select>
        <div className="row wrap">
          <select value={task} onChange={(e) => setTask(e.target.value)} aria-label="task">
            <option value="CLASSIFICATION">classification</option>
            <option value="REGRESSION">regression</option>
          </select>
          <select value={mode} onChange={(e) => setMode(e.target.value)} aria-label="mode">
            <option value="FULL">full fine-tune</option>
            <option value="MLP_HEAD">MLP head</option>
            <option value="LINEAR_PROBE">linear probe</option>
          </select>
          <label className="inline">
            label fraction
            <input type="number" min={0.001} max={1} step={0.01} value={labelFraction} onChange={(e) => setFraction(Number(e.target.value))} />
          </label>
          <button className="primary" disabled={act.busy || !dv} data-testid="finetune-start">
            Fine-tune
          </button>
        </div>
      </form>
      <ErrorBox error={act.error} />
    </Card>
  );
}

function EmbedSpaceCard({ model, v }: { model: ModelRow; v: VersionRow }) {
  const versions = useDatasetVersions(model.modality);
  const spaces = useQuery<{ embeddingSpaces: Array<{ id: string; datasetVersionId: string; status: string; rows: number }> }>(
    `query($m: ID) { embeddingSpaces(modelVersionId: $m) { id datasetVersionId status rows } }`,
    { m: v.id },
  );
  const [datasetVersionId, setDv] = useState('');
  const act = useAction();
  const dv = datasetVersionId || versions[0]?.id || '';
  return (
    <Card title="Embedding spaces" testId="spaces">
      {(spaces.data?.embeddingSpaces ?? []).map((s) => (
        <div key={s.id} className="row">
          <a href={href('map', s.id)}>map of {versions.find((d) => d.id === s.datasetVersionId)?.label ?? s.datasetVersionId.slice(0, 8)}</a> <Status value={s.status} /> <span className="muted">{s.rows} rows</span>
        </div>
      ))}
      <form
        className="row wrap"
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => {
            const d = await gql<{ createEmbeddingSpace: { id: string } }>(`mutation($i: CreateEmbeddingSpaceInput!) { createEmbeddingSpace(input: $i) { id status } }`, {
              i: { model: v.id, datasetVersionId: dv },
            });
            navigate('map', d.createEmbeddingSpace.id);
          });
        }}
      >
        <select value={dv} onChange={(e) => setDv(e.target.value)} aria-label="dataset version">
          {versions.map((d) => (
            <option key={d.id} value={d.id}>
              {d.label}
            </option>
          ))}
        </select>
        <button className="primary" disabled={act.busy || !dv} data-testid="space-create">
          Embed &amp; map
        </button>
      </form>
      <ErrorBox error={act.error} />
    </Card>
  );
}
