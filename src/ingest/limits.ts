// Resource limits for one ingest. Defaults suit a server; tests pass small values to exercise the guards.

export interface IngestLimits {
  /** Problems listed before reading stops. */
  maxProblems: number;
  /** Longest text line or CSV record, in bytes. */
  maxLineBytes: number;
  /** Total bytes inflated from one compressed file or archive (checked while inflating, never from headers). */
  maxUncompressedBytes: number;
  /** Inflated bytes / compressed bytes read so far, enforced once `ratioGraceBytes` have been inflated. */
  maxCompressionRatio: number;
  ratioGraceBytes: number;
  /** Largest single archive entry or image file, in bytes. */
  maxEntryBytes: number;
  /** Largest decoded image (width × height) accepted by sharp. */
  maxImagePixels: number;
  /** Most values (time steps × features) in one sequence. */
  maxSequenceValues: number;
  /** Shards are cut when either bound is reached. */
  shardMaxBytes: number;
  shardMaxRows: number;
}

export const DEFAULT_LIMITS: IngestLimits = {
  maxProblems: 20,
  maxLineBytes: 16 * 2 ** 20,
  maxUncompressedBytes: 64 * 2 ** 30,
  maxCompressionRatio: 200,
  ratioGraceBytes: 2 ** 20,
  maxEntryBytes: 64 * 2 ** 20,
  maxImagePixels: 8192 * 8192,
  maxSequenceValues: 16 * 2 ** 20,
  shardMaxBytes: 16 * 2 ** 20,
  shardMaxRows: 65_536,
};

export function resolveLimits(partial: Partial<IngestLimits> = {}): IngestLimits {
  const limits = { ...DEFAULT_LIMITS, ...partial };
  for (const [key, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
      throw new RangeError(`Ingest limit ${key} must be a positive finite number, got ${String(value)}.`);
    }
  }
  return limits;
}
