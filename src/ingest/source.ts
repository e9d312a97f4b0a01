// What readers consume (source files) and produce (examples, before index and split are assigned).
import type { Readable } from 'node:stream';
import type { Position, ProblemSink } from './errors';
import type { IngestLimits } from './limits';
import type { RowShape, Split } from './types';

export interface SourceFile {
  /** Name as uploaded (may contain folders, e.g. `cat/1.png` for ImageFolder uploads). */
  name: string;
  /** Opens a fresh stream of the file's bytes; may be called more than once. */
  open(): Readable;
  /** Declared size and checksum; when given they are verified while reading. */
  bytes?: number;
  sha256?: string;
}

export type Example =
  | { modality: 'TEXT'; text: string; label: string | null; at: Position }
  | { modality: 'IMAGE'; pixels: Uint8Array; label: string | null; at: Position }
  | { modality: 'SEQUENCE'; values: Float32Array; length: number; label: string | null; at: Position };

/**
 * Shape checks shared by all readers of one dataset. For local loading a dimension may be left open
 * (features 0, or image height 0); the first example then fixes it and later ones must match.
 */
export class ShapeLock {
  constructor(public shape: RowShape) {}

  get features(): number | null {
    return this.shape.modality === 'SEQUENCE' && this.shape.features > 0 ? this.shape.features : null;
  }

  /** Fixes an open sequence feature count; returns an error message when it conflicts. */
  lockFeatures(features: number): string | null {
    if (this.shape.modality !== 'SEQUENCE') return 'not a sequence dataset';
    if (this.shape.features === 0) {
      this.shape = { ...this.shape, features };
      return null;
    }
    return features === this.shape.features
      ? null
      : `has ${features} feature(s) per time step; this dataset declares ${this.shape.features}`;
  }

  /**
   * Audio: checks a recording's sample rate against the dataset's; an open rate (0, or none yet in local loading)
   * is fixed by the first recording. Returns an error message when it conflicts.
   */
  lockSampleRate(rate: number): string | null {
    if (this.shape.modality !== 'SEQUENCE') return 'not a sequence dataset';
    if (!this.shape.sampleRate) {
      this.shape = { ...this.shape, sampleRate: rate };
      return null;
    }
    return rate === this.shape.sampleRate
      ? null
      : `is recorded at ${rate} Hz; this dataset declares ${this.shape.sampleRate} Hz (there is no resampling: convert it first, e.g. \`sox in.wav -r ${this.shape.sampleRate} out.wav\`)`;
  }

  /** Fixes an open image size (height 0) from the first image's own size. */
  lockImage(height: number, width: number, channels: 1 | 3): void {
    if (this.shape.modality === 'IMAGE' && this.shape.height === 0) this.shape = { modality: 'IMAGE', height, width, channels };
  }

  get imageOpen(): boolean {
    return this.shape.modality === 'IMAGE' && this.shape.height === 0;
  }

  /** Checks a sequence length against a fixed declared length. */
  checkLength(length: number): string | null {
    if (this.shape.modality !== 'SEQUENCE') return 'not a sequence dataset';
    if (length < 1) return 'sequence is empty';
    if (this.shape.length !== null && length !== this.shape.length) {
      return `has ${length} time step(s); this dataset declares length ${this.shape.length}`;
    }
    return null;
  }
}

export interface ReadContext {
  lock: ShapeLock;
  limits: IngestLimits;
  problems: ProblemSink;
}

/** A unit of reading: usually one file; IDX images travel with their labels file. */
export interface SourceUnit {
  files: SourceFile[];
  /** Split forced by the file name (train/validation/test), or null for the hash rule. */
  split: Split | null;
}
