// Datasets: the list, one dataset's versions (status, rows, splits, stats, preview), uploads with a progress bar,
// and the first training run on a READY version.
import { useState } from 'react';
import { gql, uploadFile } from '../api';
import { Sparkline } from '../components/Sparkline';
import { Card, Empty, ErrorBox, fmtBytes, fmtTime, KeyValues, Loading, Status } from '../components/ui';
import { href, navigate, useAction, useQuery } from '../hooks';
import type { DatasetVersionStatus, Modality } from '../generated/graphql';

const LIST = `{ datasets(first: 100) { nodes { id name modality description createdAt
  latestVersion { id version status stats { rows } } } } }`;

interface DatasetRow {
  id: string;
  name: string;
  modality: Modality;
  description: string | null;
  createdAt: string;
  latestVersion: { id: string; version: number; status: DatasetVersionStatus; stats: { rows: number } | null } | null;
}

export function DatasetsPage() {
  const q = useQuery<{ datasets: { nodes: DatasetRow[] } }>(LIST, {});
  const [name, setName] = useState('');
  const [modality, setModality] = useState<Modality>('TEXT');
  const act = useAction();
  return (
    <>
      <h1>Datasets</h1>
      <Card title="New dataset">
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => {
              const d = await gql<{ createDataset: { id: string } }>(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, {
                i: { name: name.trim(), modality },
              });
              navigate('datasets', d.createDataset.id);
            });
          }}
        >
          <input placeholder="name, e.g. fashion" value={name} onChange={(e) => setName(e.target.value)} data-testid="dataset-name" />
          <select value={modality} onChange={(e) => setModality(e.target.value as Modality)} data-testid="dataset-modality">
            <option value="TEXT">text</option>
            <option value="IMAGE">images</option>
            <option value="SEQUENCE">sequences</option>
          </select>
          <button className="primary" disabled={act.busy || !name.trim()} data-testid="dataset-create">
            Create
          </button>
        </form>
        <ErrorBox error={act.error} />
      </Card>
      <Card title="All datasets" testId="datasets-list">
        <ErrorBox error={q.error} testId="load-error" />
        {q.loading && <Loading />}
        {q.data && q.data.datasets.nodes.length === 0 && <Empty>No datasets yet: create one above.</Empty>}
        {q.data && q.data.datasets.nodes.length > 0 && (
          <table className="table">
            <thead>
              <tr>
                <th>name</th>
                <th>modality</th>
                <th>latest version</th>
                <th>rows</th>
                <th>created</th>
              </tr>
            </thead>
            <tbody>
              {q.data.datasets.nodes.map((d) => (
                <tr key={d.id}>
                  <td>
                    <a href={href('datasets', d.id)} data-testid="dataset-link">
                      {d.name}
                    </a>
                  </td>
                  <td>{d.modality.toLowerCase()}</td>
                  <td>{d.latestVersion ? <>v{d.latestVersion.version} <Status value={d.latestVersion.status} /></> : '—'}</td>
                  <td>{d.latestVersion?.stats?.rows ?? '—'}</td>
                  <td>{fmtTime(d.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

const DATASET = `query($id: ID!) { dataset(id: $id) { id name modality description createdAt
  versions { id version status createdAt readyAt shape
    files { id name bytes status }
    stats { rows bytes splits { train validation test } labels labelHistogram { label count } features characters tokens shards }
    error { message truncated problems { file line row entry code message } } } } }`;

interface Version {
  id: string;
  version: number;
  status: DatasetVersionStatus;
  createdAt: string;
  readyAt: string | null;
  shape: Record<string, unknown>;
  files: Array<{ id: string; name: string; bytes: string; status: string }>;
  stats: {
    rows: number;
    bytes: string;
    splits: { train: number; validation: number; test: number };
    labels: string[];
    labelHistogram: Array<{ label: string; count: number }>;
    features: number | null;
    characters: string | null;
    tokens: string | null;
    shards: number;
  } | null;
  error: { message: string; truncated: boolean; problems: Array<{ file: string; line: number | null; row: number | null; entry: string | null; code: string; message: string }> } | null;
}

interface Dataset {
  id: string;
  name: string;
  modality: Modality;
  description: string | null;
  versions: Version[];
}

const busyStatus = (s: DatasetVersionStatus) => s === 'PROCESSING';

export function DatasetPage({ id, versionId }: { id: string; versionId: string | null }) {
  const q = useQuery<{ dataset: Dataset }>(DATASET, { id }, { pollMs: 1000, poll: (d) => d.dataset.versions.some((v) => busyStatus(v.status)) });
  const d = q.data?.dataset;
  const selected = d?.versions.find((v) => v.id === versionId) ?? d?.versions[0] ?? null;
  return (
    <>
      <p className="crumbs">
        <a href={href('datasets')}>Datasets</a> /
      </p>
      <ErrorBox error={q.error} testId="load-error" />
      {!d ? (
        <Loading />
      ) : (
        <>
          <h1>
            {d.name} <span className="tag">{d.modality.toLowerCase()}</span>
          </h1>
          <div className="grid-2">
            <Card title="Versions" testId="versions">
              {d.versions.length === 0 && <Empty>No versions yet: upload a file to create version 1.</Empty>}
              <table className="table">
                <tbody>
                  {d.versions.map((v) => (
                    <tr key={v.id} className={v.id === selected?.id ? 'selected' : undefined}>
                      <td>
                        <a href={href('datasets', d.id, v.id)}>v{v.version}</a>
                      </td>
                      <td>
                        <Status value={v.status} testId={`version-status-${v.version}`} />
                      </td>
                      <td>{v.stats ? `${v.stats.rows} rows` : `${v.files.length} file(s)`}</td>
                      <td className="muted">{fmtTime(v.readyAt ?? v.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
            <UploadCard dataset={d} uploading={d.versions.find((v) => v.status === 'UPLOADING') ?? null} onChange={q.reload} />
          </div>
          {selected && <VersionDetail dataset={d} version={selected} />}
        </>
      )}
    </>
  );
}

function VersionDetail({ dataset, version: v }: { dataset: Dataset; version: Version }) {
  const s = v.stats;
  return (
    <>
      <Card title={<>Version {v.version} <Status value={v.status} /></>} testId="version-detail">
        {v.error && (
          <div className="error" data-testid="version-error">
            <strong>{v.error.message}</strong>
            <ul>
              {v.error.problems.map((p, i) => (
                <li key={i}>
                  {p.file}
                  {p.line != null ? `:${p.line}` : ''} {p.code}: {p.message}
                </li>
              ))}
            </ul>
            {v.error.truncated && <p>… and more</p>}
          </div>
        )}
        {s && (
          <>
            <KeyValues
              items={[
                ['rows', <span data-testid="version-rows">{s.rows}</span>],
                ['splits', `train ${s.splits.train} · validation ${s.splits.validation} · test ${s.splits.test}`],
                ['source bytes', fmtBytes(s.bytes)],
                ['shards', s.shards],
                ['shape', <code>{JSON.stringify(v.shape)}</code>],
                ...(s.features != null ? ([['features', s.features]] as Array<[string, number]>) : []),
                ...(s.tokens != null ? ([['tokens', s.tokens]] as Array<[string, string]>) : []),
                ['labels', s.labels.length ? s.labels.length : 'unlabeled'],
              ]}
            />
            {s.labelHistogram.length > 0 && <LabelBars histogram={s.labelHistogram} />}
          </>
        )}
        {v.files.length > 0 && (
          <p className="muted">
            Files: {v.files.map((f) => `${f.name} (${fmtBytes(f.bytes)})`).join(', ')}
          </p>
        )}
      </Card>
      {v.status === 'READY' && (
        <>
          <Preview versionId={v.id} modality={dataset.modality} />
          <TrainCard dataset={dataset} version={v} />
        </>
      )}
    </>
  );
}

function LabelBars({ histogram }: { histogram: Array<{ label: string; count: number }> }) {
  const max = Math.max(...histogram.map((h) => h.count));
  return (
    <div className="bars" data-testid="label-histogram">
      {histogram.slice(0, 30).map((h) => (
        <div key={h.label} className="bar-row">
          <span className="bar-label" title={h.label}>
            {h.label}
          </span>
          <span className="bar" style={{ width: `${(h.count / max) * 100}%` }} />
          <span className="bar-value">{h.count}</span>
        </div>
      ))}
    </div>
  );
}

interface PreviewItem {
  index: number;
  label: string | null;
  split: string;
  text: string | null;
  image: string | null;
  sequence: number[][] | null;
  length: number | null;
}

export function ItemView({ item, compact = false }: { item: PreviewItem; compact?: boolean }) {
  return (
    <div className={`item${compact ? ' compact' : ''}`} data-testid="preview-item">
      {item.image && <img src={item.image} alt={`row ${item.index}`} className="thumb" />}
      {item.text != null && <p className="item-text">{compact && item.text.length > 160 ? `${item.text.slice(0, 160)}…` : item.text}</p>}
      {item.sequence && <Sparkline sequence={item.sequence} />}
      <div className="item-meta">
        <span>#{item.index}</span>
        {item.label != null && <span className="tag">{item.label}</span>}
        <span className="muted">{item.split}</span>
      </div>
    </div>
  );
}

export const ITEM_FIELDS = 'index label split text image sequence length';

function Preview({ versionId, modality }: { versionId: string; modality: Modality }) {
  const q = useQuery<{ datasetVersion: { preview: PreviewItem[] } }>(`query($id: ID!) { datasetVersion(id: $id) { preview(limit: ${modality === 'TEXT' ? 8 : 24}) { ${ITEM_FIELDS} } } }`, {
    id: versionId,
  });
  return (
    <Card title="Preview" testId="preview">
      <ErrorBox error={q.error} testId="load-error" />
      {q.loading && <Loading />}
      <div className={modality === 'TEXT' ? 'items-list' : 'items-grid'}>{q.data?.datasetVersion.preview.map((it) => <ItemView key={it.index} item={it} />)}</div>
    </Card>
  );
}

function UploadCard({ dataset, uploading, onChange }: { dataset: Dataset; uploading: Version | null; onChange: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  const [phase, setPhase] = useState('');
  const [image, setImage] = useState({ height: 28, width: 28, channels: 1 });
  const [sequence, setSequence] = useState({ length: '', features: 1 });
  const act = useAction();
  const start = () =>
    act.run(async () => {
      if (!file) return;
      let versionId = uploading?.id;
      if (!versionId) {
        setPhase('Creating a version…');
        const input: Record<string, unknown> = { datasetId: dataset.id };
        if (dataset.modality === 'IMAGE') input.image = image;
        if (dataset.modality === 'SEQUENCE') input.sequence = { features: sequence.features, ...(sequence.length ? { length: Number(sequence.length) } : {}) };
        versionId = (await gql<{ createDatasetVersion: { id: string } }>(`mutation($i: CreateDatasetVersionInput!) { createDatasetVersion(input: $i) { id } }`, { i: input })).createDatasetVersion.id;
      }
      setPhase(`Uploading ${file.name}…`);
      setProgress({ sent: 0, total: file.size });
      await uploadFile(versionId, file, (sent, total) => setProgress({ sent, total }));
      setPhase('Finalizing: validating and sharding…');
      await gql(`mutation($id: ID!) { finalizeDatasetVersion(id: $id) { id status } }`, { id: versionId });
      setPhase('Uploaded; the version is processing.');
      setFile(null);
      onChange();
      navigate('datasets', dataset.id, versionId);
    });
  const pct = progress ? Math.round((progress.sent / Math.max(1, progress.total)) * 100) : 0;
  return (
    <Card title={uploading ? `Upload into version ${uploading.version}` : 'Upload a new version'} testId="upload">
      <p className="muted">
        {dataset.modality === 'TEXT' && '.txt (one example a line), .jsonl / .csv with text and an optional label.'}
        {dataset.modality === 'IMAGE' && '.png / .jpg, a .zip / .tar.gz archive (ImageFolder: <label>/<file>), or IDX files.'}
        {dataset.modality === 'SEQUENCE' && '.csv, .jsonl ({"sequence": [[…]], "label"?}), .npy or .wav.'}
      </p>
      {!uploading && dataset.modality === 'IMAGE' && (
        <div className="row">
          {(['height', 'width', 'channels'] as const).map((k) => (
            <label key={k} className="inline">
              {k}
              <input type="number" min={1} value={image[k]} onChange={(e) => setImage({ ...image, [k]: Number(e.target.value) })} />
            </label>
          ))}
        </div>
      )}
      {!uploading && dataset.modality === 'SEQUENCE' && (
        <div className="row">
          <label className="inline">
            length
            <input type="number" min={1} placeholder="variable" value={sequence.length} onChange={(e) => setSequence({ ...sequence, length: e.target.value })} />
          </label>
          <label className="inline">
            features
            <input type="number" min={1} value={sequence.features} onChange={(e) => setSequence({ ...sequence, features: Number(e.target.value) })} />
          </label>
        </div>
      )}
      <div className="row">
        <input type="file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} data-testid="upload-file" />
        <button className="primary" disabled={!file || act.busy} onClick={() => void start()} data-testid="upload-start">
          Upload &amp; finalize
        </button>
      </div>
      {progress && (
        <div className="progress-row">
          <progress max={100} value={pct} data-testid="upload-progress" data-sent={progress.sent} data-total={progress.total} />
          <span>
            {pct}% · {fmtBytes(progress.sent)} / {fmtBytes(progress.total)}
          </span>
        </div>
      )}
      {phase && <p className="muted" data-testid="upload-phase">{phase}</p>}
      <ErrorBox error={act.error} />
    </Card>
  );
}

const ENCODERS: Record<Modality, string[]> = { TEXT: ['mlp', 'transformer'], IMAGE: ['cnn', 'mlp'], SEQUENCE: ['sequence', 'transformer'] };

function TrainCard({ dataset, version }: { dataset: Dataset; version: Version }) {
  const [pretext, setPretext] = useState('CONTRASTIVE');
  const [encoder, setEncoder] = useState(ENCODERS[dataset.modality][0]!);
  const [dim, setDim] = useState(64);
  const [steps, setSteps] = useState(200);
  const [batchSize, setBatchSize] = useState(64);
  const act = useAction();
  return (
    <Card title="Train an encoder on this version" testId="train">
      <form
        className="row wrap"
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => {
            const d = await gql<{ createExperiment: { run: { id: string } } }>(
              `mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { experiment { id } run { id } } }`,
              { i: { datasetVersionId: version.id, pretext, encoder: { kind: encoder, dim }, hyperparameters: { steps, batchSize } } },
            );
            navigate('runs', d.createExperiment.run.id);
          });
        }}
      >
        <label className="inline">
          pretext task
          <select value={pretext} onChange={(e) => setPretext(e.target.value)}>
            <option value="CONTRASTIVE">contrastive (InfoNCE)</option>
            <option value="MASKED">masked prediction</option>
            <option value="NEXT_STEP">next-step prediction</option>
          </select>
        </label>
        <label className="inline">
          encoder
          <select value={encoder} onChange={(e) => setEncoder(e.target.value)}>
            {ENCODERS[dataset.modality].map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <label className="inline">
          dim
          <input type="number" min={2} value={dim} onChange={(e) => setDim(Number(e.target.value))} />
        </label>
        <label className="inline">
          steps
          <input type="number" min={1} value={steps} onChange={(e) => setSteps(Number(e.target.value))} />
        </label>
        <label className="inline">
          batch
          <input type="number" min={1} value={batchSize} onChange={(e) => setBatchSize(Number(e.target.value))} />
        </label>
        <button className="primary" disabled={act.busy} data-testid="train-start">
          Start run
        </button>
      </form>
      <ErrorBox error={act.error} />
    </Card>
  );
}
