// Rows of a READY dataset version by row index, shaped like its preview (the console's embedding map shows the
// item under the pointer). Row indices are assigned in order as shards are written, so shard i holds a contiguous
// range: only the shards holding requested rows are read.
import { badInput, conflict } from '../../errors';
import { ingestStoreFrom, previewRows, readShards, type Manifest, type PreviewItem, type Row } from '../../ingest';
import type { ObjectStore } from '../../storage';
import type { Principal } from '../auth/principal';
import type { DatasetService } from './service';

export const MAX_ROWS_PER_CALL = 50;

/** The shards of `manifest` whose row range holds one of `wanted`. */
export function shardsHolding(manifest: Manifest, wanted: ReadonlySet<number>): Manifest['shards'] {
  let start = 0;
  return manifest.shards.filter((s) => {
    const lo = start;
    start += s.rows;
    for (const r of wanted) if (r >= lo && r < start) return true;
    return false;
  });
}

export async function readRowsByIndex(store: ObjectStore, manifest: Manifest, rows: readonly number[]): Promise<PreviewItem[]> {
  if (rows.length > MAX_ROWS_PER_CALL) throw badInput(`rows: at most ${MAX_ROWS_PER_CALL} per call`);
  const bad = rows.find((r) => !Number.isInteger(r) || r < 0 || r >= manifest.rows);
  if (bad !== undefined) throw badInput(`rows: ${bad} is not a row of this version (0..${manifest.rows - 1})`);
  const wanted = new Set(rows);
  if (wanted.size === 0) return [];
  const sub = { ...manifest, shards: shardsHolding(manifest, wanted) };
  async function* matching(): AsyncGenerator<Row> {
    let left = wanted.size;
    for await (const row of readShards(ingestStoreFrom(store), sub)) {
      if (!wanted.has(row.index)) continue;
      yield row;
      if (--left === 0) return;
    }
  }
  const items = await previewRows(matching(), manifest.shape, { limit: wanted.size, thumbnail: 96, maxChars: 4000, steps: 4096 });
  const byRow = new Map(items.map((i) => [i.index, i]));
  return rows.flatMap((r) => (byRow.has(r) ? [byRow.get(r)!] : []));
}

/** `datasetRows`: tenant-scoped through DatasetService.getVersion like every other dataset read. */
export class DatasetRowsService {
  constructor(
    private readonly datasets: DatasetService,
    private readonly store: ObjectStore,
  ) {}

  async rows(p: Principal, versionId: string, rows: readonly number[]): Promise<PreviewItem[]> {
    const v = await this.datasets.getVersion(p, versionId);
    const manifest = await this.datasets.manifest(v);
    if (!manifest) throw conflict(`Dataset version ${v.version} is ${v.status}; only READY versions have rows to read`);
    return readRowsByIndex(this.store, manifest, rows);
  }
}
