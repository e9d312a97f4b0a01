// Reads a READY dataset version's rows back from the platform's object store (tests compare served results with
// the rows a run trained and evaluated on).
import { ingestStoreFrom, readManifest, readShards } from '../../src/ingest';
import type { Row } from '../../src/ingest/types';
import type { Platform } from '../../src/platform';

export async function readRows(platform: Platform, manifestKey: string): Promise<Row[]> {
  const store = ingestStoreFrom(platform.store);
  const rows: Row[] = [];
  for await (const row of readShards(store, await readManifest(store, manifestKey))) rows.push(row);
  return rows;
}
