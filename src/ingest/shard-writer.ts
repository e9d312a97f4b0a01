// Writes rows as bounded Arrow IPC (file format) shards: columns as documented in types.ts. Rows are appended
// straight into Arrow builders (compact buffers, no per-row objects kept), and a shard is cut when it reaches
// shardMaxBytes of payload or shardMaxRows rows, so memory stays flat however many rows stream through.
// Arrow's variable-width builders keep every appended value as a separate JS object until flushed, so the
// builders are flushed into record-batch chunks every BATCH_ROWS rows; a shard is a few record batches.
import { createHash } from 'node:crypto';
import { Binary, Int32, makeBuilder, Table, tableToIPC, Utf8, Vector, type Builder, type Data } from 'apache-arrow';
import type { IngestStore } from './store';
import type { Modality, Row, ShardRef, Split } from './types';

export interface ShardRefWithSplits extends ShardRef {
  splits: Record<Split, number>;
}

export function shardKey(keyPrefix: string, n: number): string {
  return `${keyPrefix.replace(/\/+$/, '')}/shards/${String(n).padStart(5, '0')}.arrow`;
}

const BATCH_ROWS = 2048;
const NAMES = ['index', 'body', 'length', 'label', 'split'] as const;

interface Columns {
  index: Builder<Int32>;
  body: Builder<Utf8> | Builder<Binary>;
  length: Builder<Int32> | null;
  label: Builder<Utf8>;
  split: Builder<Utf8>;
}

export class ShardWriter {
  readonly shards: ShardRefWithSplits[] = [];
  /** Keys written so far (for cleanup on failure). */
  readonly written: string[] = [];
  private cols: Columns;
  private chunks: Record<(typeof NAMES)[number], Data[]> = { index: [], body: [], length: [], label: [], split: [] };
  private pendingRows = 0;
  private rows = 0;
  private payload = 0;
  private splits: Record<Split, number> = { train: 0, validation: 0, test: 0 };

  constructor(
    private readonly store: IngestStore,
    private readonly keyPrefix: string,
    private readonly modality: Modality,
    private readonly maxBytes: number,
    private readonly maxRows: number,
  ) {
    this.cols = this.newColumns();
  }

  private newColumns(): Columns {
    return {
      index: makeBuilder({ type: new Int32() }),
      body: this.modality === 'TEXT' ? makeBuilder({ type: new Utf8() }) : makeBuilder({ type: new Binary() }),
      length: this.modality === 'SEQUENCE' ? makeBuilder({ type: new Int32() }) : null,
      label: makeBuilder({ type: new Utf8(), nullValues: [null] }),
      split: makeBuilder({ type: new Utf8() }),
    };
  }

  async add(row: Row): Promise<void> {
    const c = this.cols;
    c.index.append(row.index);
    let size: number;
    if (row.modality === 'TEXT') {
      (c.body as Builder<Utf8>).append(row.text);
      size = row.text.length * 2;
    } else if (row.modality === 'IMAGE') {
      (c.body as Builder<Binary>).append(row.pixels);
      size = row.pixels.length;
    } else {
      (c.body as Builder<Binary>).append(new Uint8Array(row.values.buffer, row.values.byteOffset, row.values.byteLength));
      c.length!.append(row.length);
      size = row.values.byteLength;
    }
    c.label.append(row.label);
    c.split.append(row.split);
    this.splits[row.split] += 1;
    this.rows += 1;
    if (++this.pendingRows >= BATCH_ROWS) this.cutBatch();
    this.payload += 16 + size + (row.label?.length ?? 0);
    if (this.payload >= this.maxBytes || this.rows >= this.maxRows) await this.flush();
  }

  /** Moves the builders' pending values into a compact record-batch chunk. */
  private cutBatch(): void {
    if (this.pendingRows === 0) return;
    for (const name of NAMES) {
      const b = this.cols[name];
      if (b) this.chunks[name].push(b.flush());
    }
    this.pendingRows = 0;
  }

  async flush(): Promise<void> {
    if (this.rows === 0) return;
    this.cutBatch();
    const ch = this.chunks;
    const columns: Record<string, Vector> = { index: new Vector(ch.index) };
    columns[this.modality === 'TEXT' ? 'text' : this.modality === 'IMAGE' ? 'pixels' : 'values'] = new Vector(ch.body);
    if (ch.length.length > 0) columns.length = new Vector(ch.length);
    columns.label = new Vector(ch.label);
    columns.split = new Vector(ch.split);
    const rows = this.rows;
    const splits = this.splits;
    this.chunks = { index: [], body: [], length: [], label: [], split: [] };
    this.rows = 0;
    this.payload = 0;
    this.splits = { train: 0, validation: 0, test: 0 };

    const bytes = tableToIPC(new Table(columns), 'file');
    const key = shardKey(this.keyPrefix, this.shards.length);
    this.written.push(key);
    await this.store.putObject(key, bytes, { contentType: 'application/vnd.apache.arrow.file' });
    this.shards.push({ key, rows, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex'), splits });
  }
}
