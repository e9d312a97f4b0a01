// Creates a READY dataset version for a tenant without the dataset API: real ingest (processDatasetVersion into the
// platform's object store) plus the Dataset/DatasetVersion rows written directly. The lead may swap this for API
// calls once the dataset upload flow is in place.
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { ingestStoreFrom, processDatasetVersion, type RowShape } from '../../src/ingest';
import type { Modality } from '../../src/ingest/types';
import type { Platform } from '../../src/platform';
import { tenantKey } from '../../src/storage';

export interface ReadyVersion {
  datasetId: string;
  versionId: string;
  manifestKey: string;
}

export async function createReadyDatasetVersion(
  platform: Platform,
  tenantId: string,
  files: Array<{ name: string; content: string | Buffer }>,
  shape: RowShape,
): Promise<ReadyVersion> {
  const db = platform.db.prisma;
  const dataset = await db.dataset.create({ data: { tenantId, name: `ds-${crypto.randomBytes(4).toString('hex')}`, modality: shape.modality as Modality } });
  const version = await db.datasetVersion.create({ data: { tenantId, datasetId: dataset.id, version: 1, status: 'PROCESSING', shape: shape as object } });
  const keyPrefix = tenantKey(tenantId, 'datasets', dataset.id, 'versions', version.id);
  const manifest = await processDatasetVersion({
    files: files.map((f) => {
      const bytes = typeof f.content === 'string' ? Buffer.from(f.content) : f.content;
      return { name: f.name, bytes: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex'), open: () => Readable.from([bytes]) };
    }),
    shape,
    store: ingestStoreFrom(platform.store),
    keyPrefix,
  });
  const manifestKey = `${keyPrefix}/manifest.json`;
  await db.datasetVersion.update({
    where: { id: version.id },
    data: { status: 'READY', manifestKey, readyAt: new Date(), stats: { rows: manifest.rows, splits: manifest.splits } },
  });
  return { datasetId: dataset.id, versionId: version.id, manifestKey };
}

/** A small SEQUENCE dataset (noisy sine waves, two labels) that trains in well under a second per step. */
export function tinySequenceJsonl(rows = 48, length = 16, seed = 1): string {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const freq = i % 2 === 0 ? 1 : 3;
    const seq = Array.from({ length }, (_, t) => [Math.sin((2 * Math.PI * freq * t) / length + rand()) + 0.1 * rand(), rand()]);
    lines.push(JSON.stringify({ sequence: seq, label: freq === 1 ? 'slow' : 'fast' }));
  }
  return `${lines.join('\n')}\n`;
}
