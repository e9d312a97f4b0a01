// The contract between ingest (which writes training-ready shards) and training/inference (which read them).
// Shards are Apache Arrow IPC files; one Row is one example. Everything here is JSON- or Arrow-serializable.

export type Modality = 'TEXT' | 'IMAGE' | 'SEQUENCE';
export const MODALITIES: readonly Modality[] = ['TEXT', 'IMAGE', 'SEQUENCE'];

export type Split = 'train' | 'validation' | 'test';

/** Declared shape of a dataset version's rows. */
export type RowShape =
  | { modality: 'TEXT' }
  | { modality: 'IMAGE'; height: number; width: number; channels: 1 | 3 }
  // length null = variable-length sequences. sampleRate set = audio clips (WAV): values are mono samples in [-1, 1]
  // (features 1), each file one row padded / cropped to `length` samples (src/ingest/readers/wav-clip.ts).
  | { modality: 'SEQUENCE'; length: number | null; features: number; sampleRate?: number };

export interface RowBase {
  /** Stable row index within the dataset version (0-based, in source order). */
  index: number;
  label: string | null;
  split: Split;
}
/** Arrow columns: index Int32, text Utf8, label Utf8?, split Utf8. */
export interface TextRow extends RowBase { modality: 'TEXT'; text: string }
/** Arrow columns: index Int32, pixels Binary (uint8, HWC, row-major, exactly height*width*channels bytes), label, split. */
export interface ImageRow extends RowBase { modality: 'IMAGE'; pixels: Uint8Array }
/** Arrow columns: index Int32, values Binary (float32 little-endian, time-major T×F), length Int32, label, split. */
export interface SequenceRow extends RowBase { modality: 'SEQUENCE'; values: Float32Array; length: number }
export type Row = TextRow | ImageRow | SequenceRow;

export interface ShardRef {
  /** Object-store key (tenant-scoped, e.g. tenants/<t>/datasets/<d>/versions/<v>/shards/00000.arrow). */
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
  /** Rows of each split in this shard (lets a reader skip shards without rows of the split it wants). */
  splits?: Record<Split, number>;
  /**
   * Added to the shard's stored row indices. Shards written by one copy of a sharded processing job number their
   * rows from 0 within that copy (src/ingest/parts.ts); absent = 0.
   */
  indexOffset?: number;
}

export interface SourceFileRef { name: string; bytes: number; sha256: string }

/** manifest.json of a READY dataset version. */
export interface Manifest {
  formatVersion: 1;
  shape: RowShape;
  rows: number;
  splits: Record<Split, number>;
  /** Deterministic split rule, so evaluation never sees training rows. */
  splitRule: {
    method: 'hash';
    seed: string;
    validation: number;
    test: number;
    /** Files whose name fixes their split (train.* / test.* / validation.*, IDX train-/t10k-/test-): every row of
     * such a file goes to that split and the hash rule applies only to the other files. */
    byFile?: Record<string, Split>;
  };
  labels: string[]; // sorted label set; empty when unlabeled
  labelHistogram: Record<string, number>;
  shards: ShardRef[];
  sources: SourceFileRef[];
  stats: {
    bytes: number;
    characters?: number;
    /** Whitespace-separated words (tokenizer-independent). */
    tokens?: number;
    /** Sequence datasets: time steps per row. */
    sequenceLength?: { min: number; max: number; mean: number };
  };
  /** Source files skipped because their content (sha256) equals an earlier file's: name → earlier name. */
  duplicates?: Record<string, string>;
}
