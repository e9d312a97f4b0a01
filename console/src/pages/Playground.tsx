// Playground: embed or classify one input (an uploaded image, a text, a pasted sequence) with any model version,
// and find its nearest rows in one of the version's embedding spaces.
import { useMemo, useState } from 'react';
import { gql } from '../api';
import { Sparkline } from '../components/Sparkline';
import { Card, Empty, ErrorBox, fmtNum, Loading } from '../components/ui';
import { useAction, useQuery } from '../hooks';
import type { Modality } from '../generated/graphql';
import { ITEM_FIELDS, ItemView } from './Datasets';

interface ModelOption {
  id: string;
  name: string;
  modality: Modality;
  versions: Array<{ id: string; version: number; head: { task?: string } | null; embeddingDim: number }>;
}

interface Item {
  index: number;
  label: string | null;
  split: string;
  text: string | null;
  image: string | null;
  sequence: number[][] | null;
  length: number | null;
}

/** A pasted sequence: JSON ([[…], …] or […]) or one time step per line, features separated by commas or spaces. */
export function parseSequence(text: string): number[][] {
  const t = text.trim();
  if (!t) throw new Error('Paste a sequence first');
  if (t.startsWith('[')) {
    const v = JSON.parse(t) as unknown;
    if (!Array.isArray(v)) throw new Error('Expected an array');
    return v.map((step) => (Array.isArray(step) ? step.map(Number) : [Number(step)]));
  }
  return t.split(/\n+/).map((line) => line.trim().split(/[\s,;]+/).map(Number));
}

function readAsBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(new Error('Could not read the file'));
    r.readAsDataURL(file);
  });
}

export function PlaygroundPage({ initialModel }: { initialModel: string | null }) {
  const models = useQuery<{ models: ModelOption[] }>(`{ models { id name modality versions { id version head embeddingDim } } }`, {});
  const options = useMemo(
    () => (models.data?.models ?? []).flatMap((m) => m.versions.map((v) => ({ ...v, model: m, ref: `${m.name}@v${v.version}` }))),
    [models.data],
  );
  const [versionId, setVersionId] = useState(initialModel ?? '');
  const chosen = options.find((o) => o.id === versionId) ?? options[0] ?? null;
  const modality = chosen?.model.modality ?? 'TEXT';
  const [text, setText] = useState('');
  const [seq, setSeq] = useState('');
  const [image, setImage] = useState<{ base64: string; url: string } | null>(null);
  const [predicted, setPredicted] = useState<{ task: string; top: Array<{ label: string | null; probability: number }> | null; values: number[] | null } | null>(null);
  const [embedded, setEmbedded] = useState<{ dims: number; values: number[] } | null>(null);
  const [neighbors, setNeighbors] = useState<Array<{ row: number; score: number; label: string | null; item?: Item }> | null>(null);
  const act = useAction();
  const spaces = useQuery<{ embeddingSpaces: Array<{ id: string; datasetVersionId: string; status: string; rows: number }> }>(
    `query($m: ID) { embeddingSpaces(modelVersionId: $m) { id datasetVersionId status rows } }`,
    { m: chosen?.id ?? null },
    { skip: !chosen },
  );
  const readySpace = spaces.data?.embeddingSpaces.find((s) => s.status === 'READY') ?? null;

  const input = (): Record<string, unknown> => {
    if (modality === 'IMAGE') {
      if (!image) throw new Error('Choose an image first');
      return { image: image.base64 };
    }
    if (modality === 'SEQUENCE') return { sequence: parseSequence(seq) };
    if (!text.trim()) throw new Error('Type a text first');
    return { text };
  };

  const go = () =>
    act.run(async () => {
      if (!chosen) return;
      const inp = input();
      setPredicted(null);
      setEmbedded(null);
      setNeighbors(null);
      if (chosen.head) {
        const d = await gql<{ predict: { task: string; predictions: Array<{ top: Array<{ label: string | null; probability: number }> | null; values: number[] | null }> } }>(
          `query($m: String!, $in: [EmbedInput!]!) { predict(model: $m, inputs: $in, topK: 5) { task predictions { top { label probability } values } } }`,
          { m: chosen.id, in: [inp] },
        );
        const p = d.predict.predictions[0]!;
        setPredicted({ task: d.predict.task, top: p.top, values: p.values });
      }
      const e = await gql<{ embed: { dims: number; embeddings: Array<{ values: number[] }> } }>(
        `query($m: String!, $in: [EmbedInput!]!) { embed(model: $m, inputs: $in) { dims embeddings { values } } }`,
        { m: chosen.id, in: [inp] },
      );
      setEmbedded({ dims: e.embed.dims, values: e.embed.embeddings[0]!.values });
      if (readySpace) {
        const s = await gql<{ similar: { neighbors: Array<{ row: number; score: number; label: string | null }> } }>(
          `query($i: SimilarInput!) { similar(input: $i) { neighbors { row score label } } }`,
          { i: { model: chosen.id, datasetVersionId: readySpace.datasetVersionId, query: inp, k: 8 } },
        );
        const rows = s.similar.neighbors.map((n) => n.row);
        const items = rows.length
          ? (await gql<{ datasetRows: Item[] }>(`query($v: ID!, $r: [Int!]!) { datasetRows(versionId: $v, rows: $r) { ${ITEM_FIELDS} } }`, { v: readySpace.datasetVersionId, r: rows })).datasetRows
          : [];
        const byRow = new Map(items.map((i) => [i.index, i]));
        setNeighbors(s.similar.neighbors.map((n) => ({ ...n, ...(byRow.has(n.row) ? { item: byRow.get(n.row)! } : {}) })));
      }
    });

  let parsedSeq: number[][] | null = null;
  try {
    parsedSeq = modality === 'SEQUENCE' && seq.trim() ? parseSequence(seq) : null;
  } catch {
    parsedSeq = null;
  }

  return (
    <>
      <h1>Playground</h1>
      {models.loading && <Loading />}
      {models.data && options.length === 0 && (
        <Card>
          <Empty>No models yet: train one first.</Empty>
        </Card>
      )}
      {chosen && (
        <div className="grid-2">
          <Card title="Input" testId="playground-input">
            <label>
              model version
              <select value={chosen.id} onChange={(e) => setVersionId(e.target.value)} data-testid="playground-model">
                {options.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.ref} · {o.model.modality.toLowerCase()} {o.head ? `· ${(o.head.task ?? '').toLowerCase()} head` : '· encoder'}
                  </option>
                ))}
              </select>
            </label>
            {modality === 'TEXT' && <textarea rows={6} value={text} onChange={(e) => setText(e.target.value)} placeholder="Type or paste a text…" data-testid="playground-text" />}
            {modality === 'IMAGE' && (
              <div className="row">
                <input
                  type="file"
                  accept="image/png,image/jpeg"
                  data-testid="playground-image"
                  onChange={(e) => {
                    const f = e.target.files?.[0];
                    if (!f) return;
                    void readAsBase64(f).then((base64) => setImage({ base64, url: URL.createObjectURL(f) }));
                  }}
                />
                {image && <img src={image.url} alt="input" className="thumb big" />}
              </div>
            )}
            {modality === 'SEQUENCE' && (
              <>
                <textarea rows={6} value={seq} onChange={(e) => setSeq(e.target.value)} placeholder={'one time step per line, features separated by commas\n0.1, 0.5\n0.2, 0.4'} data-testid="playground-sequence" />
                {parsedSeq && <Sparkline sequence={parsedSeq} width={320} height={60} />}
              </>
            )}
            <div className="row">
              <button className="primary" disabled={act.busy} onClick={() => void go()} data-testid="playground-run">
                {chosen.head ? 'Predict & embed' : 'Embed'}
              </button>
              {readySpace ? <span className="muted">neighbours from a space of {readySpace.rows} rows</span> : <span className="muted">no READY embedding space for this version: no neighbours</span>}
            </div>
            <ErrorBox error={act.error} />
          </Card>
          <div>
            {predicted && (
              <Card title={predicted.task === 'CLASSIFICATION' ? 'Top labels' : 'Predicted values'} testId="prediction">
                {predicted.top && (
                  <div className="bars">
                    {predicted.top.map((t, i) => (
                      <div key={i} className="bar-row" data-testid="top-label" data-label={t.label ?? ''} data-probability={t.probability}>
                        <span className="bar-label">{t.label}</span>
                        <span className="bar" style={{ width: `${t.probability * 100}%` }} />
                        <span className="bar-value">{(t.probability * 100).toFixed(1)}%</span>
                      </div>
                    ))}
                  </div>
                )}
                {predicted.values && <p>{predicted.values.map((v) => fmtNum(v)).join(', ')}</p>}
              </Card>
            )}
            {embedded && (
              <Card title={`Embedding (${embedded.dims} dims)`} testId="embedding">
                <code className="vector">[{embedded.values.slice(0, 12).map((v) => v.toFixed(3)).join(', ')}{embedded.values.length > 12 ? ', …' : ''}]</code>
              </Card>
            )}
            {neighbors && (
              <Card title="Nearest rows" testId="playground-neighbors">
                <ol className="neighbors">
                  {neighbors.map((n) => (
                    <li key={n.row} data-testid="neighbor">
                      {n.item ? <ItemView item={n.item} compact /> : <span>#{n.row}</span>}
                      <span className="score">{n.score.toFixed(3)}</span>
                    </li>
                  ))}
                </ol>
              </Card>
            )}
          </div>
        </div>
      )}
    </>
  );
}
