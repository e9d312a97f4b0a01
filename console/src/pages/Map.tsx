// Embedding map: a space's 2-D projection (computed server-side), colored by label; hover shows the row, click
// runs `similar` with that row and highlights its nearest neighbours.
import { useEffect, useMemo, useRef, useState } from 'react';
import { decodeFloat32, gql } from '../api';
import { colorOf, ScatterMap, type MapPoints } from '../components/ScatterMap';
import { Card, Empty, ErrorBox, Loading, shortId, Status } from '../components/ui';
import { href, useAction, useQuery } from '../hooks';
import { ITEM_FIELDS, ItemView } from './Datasets';

interface Space {
  id: string;
  modelVersionId: string;
  datasetVersionId: string;
  status: string;
  rows: number;
  dim: number;
  error: string | null;
  createdAt: string;
}

interface Projection {
  count: number;
  total: number;
  coords: string;
  rows: number[];
  labels: string[];
  labelIds: number[];
  splits: string[];
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

const SPACES = `{ embeddingSpaces { id modelVersionId datasetVersionId status rows dim error createdAt } }`;

export function MapPage({ spaceId }: { spaceId: string | null }) {
  const list = useQuery<{ embeddingSpaces: Space[] }>(SPACES, {}, { pollMs: 1500, poll: (d) => d.embeddingSpaces.some((s) => s.status === 'BUILDING') });
  const spaces = list.data?.embeddingSpaces ?? [];
  const space = spaces.find((s) => s.id === spaceId) ?? (spaceId ? null : spaces.find((s) => s.status === 'READY') ?? null);
  return (
    <>
      <h1>Embedding map</h1>
      <ErrorBox error={list.error} testId="load-error" />
      {list.loading && <Loading />}
      {list.data && spaces.length === 0 && (
        <Card>
          <Empty>
            No embedding spaces yet. Open a model version in <a href={href('models')}>Models</a> and use “Embed &amp; map” on a dataset version.
          </Empty>
        </Card>
      )}
      {spaces.length > 0 && (
        <div className="row wrap space-picker">
          {spaces.map((s) => (
            <a key={s.id} href={href('map', s.id)} className={`chip${s.id === space?.id ? ' active' : ''}`}>
              <SpaceName space={s} /> <Status value={s.status} />
            </a>
          ))}
        </div>
      )}
      {space && space.status === 'READY' && <SpaceMap key={space.id} space={space} />}
      {space && space.status === 'BUILDING' && <Card><p className="muted">Embedding the dataset… the map appears when the space is READY.</p></Card>}
      {space && space.status === 'FAILED' && <Card><div className="error">{space.error}</div></Card>}
    </>
  );
}

function SpaceName({ space }: { space: Space }) {
  const q = useQuery<{ modelVersion: { version: number; model: { name: string } }; datasetVersion: { version: number; datasetId: string } }>(
    `query($m: ID!, $d: ID!) { modelVersion(id: $m) { version model { name } } datasetVersion(id: $d) { version datasetId } }`,
    { m: space.modelVersionId, d: space.datasetVersionId },
  );
  const d = q.data;
  return <span>{d ? `${d.modelVersion.model.name}@v${d.modelVersion.version} × dataset v${d.datasetVersion.version}` : shortId(space.id)}</span>;
}

function SpaceMap({ space }: { space: Space }) {
  const [method, setMethod] = useState<'PCA' | 'UMAP'>('PCA');
  const q = useQuery<{ embeddingProjection: Projection }>(
    `query($id: ID!, $m: ProjectionMethod) { embeddingProjection(spaceId: $id, method: $m, limit: 50000) { count total coords rows labels labelIds splits } }`,
    { id: space.id, m: method },
  );
  const p = q.data?.embeddingProjection;
  const points = useMemo<MapPoints | null>(() => (p ? { xy: decodeFloat32(p.coords), labelIds: p.labelIds, labels: p.labels } : null), [p]);
  const rowToPoint = useMemo(() => new Map((p?.rows ?? []).map((r, i) => [r, i])), [p]);
  const [hover, setHover] = useState<{ point: number; x: number; y: number } | null>(null);
  const [hoverItem, setHoverItem] = useState<Item | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [neighbors, setNeighbors] = useState<Array<{ row: number; score: number; label: string | null; split: string; item?: Item }>>([]);
  const act = useAction();
  const cache = useRef(new Map<number, Item>());

  // The item under the pointer, fetched once per row after the pointer rests briefly.
  useEffect(() => {
    if (!hover || !p) return;
    const row = p.rows[hover.point]!;
    const hit = cache.current.get(row);
    if (hit) {
      setHoverItem(hit);
      return;
    }
    setHoverItem(null);
    const t = setTimeout(() => {
      void gql<{ datasetRows: Item[] }>(`query($v: ID!, $r: [Int!]!) { datasetRows(versionId: $v, rows: $r) { ${ITEM_FIELDS} } }`, { v: space.datasetVersionId, r: [row] })
        .then((d) => {
          if (d.datasetRows[0]) {
            cache.current.set(row, d.datasetRows[0]);
            setHoverItem(d.datasetRows[0]);
          }
        })
        .catch(() => undefined);
    }, 120);
    return () => clearTimeout(t);
  }, [hover?.point, p, space.datasetVersionId]);

  const runSimilar = (point: number) =>
    act.run(async () => {
      if (!p) return;
      setSelected(point);
      const row = p.rows[point]!;
      const item =
        cache.current.get(row) ??
        (await gql<{ datasetRows: Item[] }>(`query($v: ID!, $r: [Int!]!) { datasetRows(versionId: $v, rows: $r) { ${ITEM_FIELDS} } }`, { v: space.datasetVersionId, r: [row] })).datasetRows[0]!;
      const query = item.image ? { image: item.image.replace(/^data:[^,]*,/, '') } : item.sequence ? { sequence: item.sequence } : { text: item.text ?? '' };
      const d = await gql<{ similar: { neighbors: Array<{ row: number; score: number; label: string | null; split: string }> } }>(
        `query($i: SimilarInput!) { similar(input: $i) { neighbors { row score label split } } }`,
        { i: { model: space.modelVersionId, datasetVersionId: space.datasetVersionId, query, k: 10 } },
      );
      const rows = d.similar.neighbors.map((n) => n.row);
      const items = rows.length
        ? (await gql<{ datasetRows: Item[] }>(`query($v: ID!, $r: [Int!]!) { datasetRows(versionId: $v, rows: $r) { ${ITEM_FIELDS} } }`, { v: space.datasetVersionId, r: rows })).datasetRows
        : [];
      const byRow = new Map(items.map((i) => [i.index, i]));
      setNeighbors(d.similar.neighbors.map((n) => ({ ...n, ...(byRow.has(n.row) ? { item: byRow.get(n.row)! } : {}) })));
    });

  const highlight = useMemo(() => new Set(neighbors.map((n) => rowToPoint.get(n.row)).filter((i): i is number => i !== undefined)), [neighbors, rowToPoint]);
  const counts = useMemo(() => {
    const c = new Map<number, number>();
    for (const id of p?.labelIds ?? []) c.set(id, (c.get(id) ?? 0) + 1);
    return c;
  }, [p]);

  return (
    <div className="map-layout">
      <Card
        title={p ? `${p.count.toLocaleString()} of ${p.total.toLocaleString()} points · ${space.dim}-dim` : 'Projecting…'}
        actions={
          <select value={method} onChange={(e) => setMethod(e.target.value as 'PCA' | 'UMAP')} aria-label="projection" data-testid="projection-method">
            <option value="PCA">PCA</option>
            <option value="UMAP">UMAP (≤ 5 000 points)</option>
          </select>
        }
        testId="map"
      >
        <ErrorBox error={q.error ?? act.error} />
        {q.loading && <Loading />}
        {points && (
          <div className="map-wrap">
            <ScatterMap
              points={points}
              highlight={highlight}
              selected={selected}
              onHover={(i, at) => setHover(i === null ? null : { point: i, ...at })}
              onClick={(i) => void runSimilar(i)}
            />
            {hover && p && (
              <div className="tooltip" style={{ left: `${hover.x + 14}px`, top: `${hover.y + 14}px` }} data-testid="map-tooltip">
                {hoverItem ? (
                  <ItemView item={hoverItem} compact />
                ) : (
                  <div>
                    row #{p.rows[hover.point]} · {p.labelIds[hover.point]! >= 0 ? p.labels[p.labelIds[hover.point]!] : 'unlabeled'}
                  </div>
                )}
              </div>
            )}
          </div>
        )}
        <p className="hint">Scroll to zoom, drag to pan, double-click to reset. Click a point to find its nearest neighbours.</p>
      </Card>
      <div className="map-side">
        <Card title="Labels" testId="legend">
          {p && p.labels.length === 0 && <p className="muted">This dataset version has no labels.</p>}
          <ul className="legend">
            {p?.labels.map((l, i) => (
              <li key={l}>
                <span className="swatch" style={{ backgroundColor: colorOf(i) }} /> {l} <span className="muted">{counts.get(i) ?? 0}</span>
              </li>
            ))}
            {(counts.get(-1) ?? 0) > 0 && (
              <li>
                <span className="swatch" style={{ backgroundColor: colorOf(-1) }} /> unlabeled <span className="muted">{counts.get(-1)}</span>
              </li>
            )}
          </ul>
        </Card>
        <Card title="Nearest neighbours" testId="neighbors">
          {neighbors.length === 0 && <p className="muted">Click a point.</p>}
          <ol className="neighbors" data-count={neighbors.length}>
            {neighbors.map((n) => (
              <li key={n.row} data-testid="neighbor">
                {n.item ? <ItemView item={n.item} compact /> : <span>#{n.row}</span>}
                <span className="score">{n.score.toFixed(3)}</span>
              </li>
            ))}
          </ol>
        </Card>
      </div>
    </div>
  );
}
