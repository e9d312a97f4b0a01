// Typed ingest failures. A dataset version is rejected with the first few problems, each naming the file and the
// line, row or archive entry, so a tenant can fix the data without guessing.

export type ProblemCode =
  | 'EMPTY_FILE'
  | 'CORRUPT_IMAGE'
  | 'CORRUPT_AUDIO'
  | 'CORRUPT_FILE'
  | 'BAD_CSV_HEADER'
  | 'BAD_RECORD'
  | 'BAD_SHAPE'
  | 'NON_FINITE'
  | 'WRONG_MODALITY'
  | 'UNSUPPORTED_FORMAT'
  | 'ARCHIVE_BOMB'
  | 'UNSAFE_PATH'
  | 'LINK_ENTRY'
  | 'INVALID_UTF8'
  | 'LINE_TOO_LONG'
  | 'TOO_LARGE'
  | 'CHECKSUM_MISMATCH'
  | 'MISSING_FILE';

/** Where a problem (or a row) comes from. `line` is 1-based; `row` is a 0-based record index inside a binary file. */
export interface Position {
  file: string;
  line?: number;
  row?: number;
  entry?: string;
}

export interface Problem extends Position {
  code: ProblemCode;
  message: string;
}

export function formatPosition(at: Position): string {
  let s = at.file;
  if (at.entry !== undefined) s += ` › ${at.entry}`;
  if (at.line !== undefined) s += ` line ${at.line}`;
  if (at.row !== undefined) s += ` row ${at.row}`;
  return s;
}

/** Raised by readers for one bad spot in the input; the reader's caller turns it into a Problem. */
export class InputError extends Error {
  constructor(
    readonly code: ProblemCode,
    message: string,
    readonly at?: Partial<Position>,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/** The whole dataset version is rejected. `code` matches the GraphQL error code the gateway reports. */
export class IngestError extends Error {
  readonly code = 'BAD_USER_INPUT' as const;
  constructor(
    readonly problems: Problem[],
    /** True when reading stopped at the problem limit, so more problems may exist. */
    readonly truncated: boolean,
  ) {
    super(
      `Dataset rejected with ${problems.length}${truncated ? '+' : ''} problem(s): ` +
        problems.map((p) => `${formatPosition(p)}: ${p.message}`).join('; '),
    );
    this.name = 'IngestError';
  }
}

/** Collects problems; throws IngestError as soon as `max` are known, since listing more helps nobody. */
export class ProblemSink {
  readonly problems: Problem[] = [];
  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`maxProblems must be a positive integer, got ${max}. Use e.g. 20.`);
    }
  }

  report(at: Position, code: ProblemCode, message: string): void {
    this.problems.push({ ...at, code, message });
    if (this.problems.length >= this.max) throw new IngestError([...this.problems], true);
  }

  get count(): number {
    return this.problems.length;
  }

  /** Throws when any problem was reported. */
  throwIfAny(): void {
    if (this.problems.length > 0) throw new IngestError([...this.problems], false);
  }
}
