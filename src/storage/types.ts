// One object-store interface for every backend. Bodies are streams: nothing here buffers a whole object.
import type { Readable } from 'node:stream';

export type Body = Readable | Buffer | Uint8Array | string;

export interface ObjectInfo {
  key: string;
  bytes: number;
  etag: string;
  lastModified: Date;
  contentType?: string;
}

export interface UploadedPart { partNumber: number; etag: string; bytes: number }
export interface PendingMultipart { key: string; uploadId: string; initiated: Date }

export interface ObjectStore {
  readonly kind: 's3' | 'local';
  /** Writes an object; streams are uploaded in parts when large. */
  put(key: string, body: Body, opts?: { contentType?: string }): Promise<{ etag: string; bytes: number }>;
  /** Reads an object (or an inclusive byte range of it). Throws ObjectNotFoundError. */
  get(key: string, range?: { start: number; end: number }): Promise<Readable>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Deleting a missing key is not an error (same as S3). */
  delete(key: string): Promise<void>;
  /** Deletes every object under a prefix; returns how many were deleted. */
  deletePrefix(prefix: string): Promise<number>;
  /** Objects under `prefix` in lexicographic key order; `startAfter` resumes after that key (S3's StartAfter). */
  list(prefix: string, opts?: { startAfter?: string }): AsyncIterable<ObjectInfo>;
  copy(fromKey: string, toKey: string): Promise<void>;
  presignGet(key: string, expiresInSeconds: number): Promise<string>;
  presignPut(key: string, expiresInSeconds: number, contentType?: string): Promise<string>;
  createMultipart(key: string, contentType?: string): Promise<string>;
  presignPart(key: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string>;
  listParts(key: string, uploadId: string): Promise<UploadedPart[]>;
  completeMultipart(key: string, uploadId: string, parts: Array<{ partNumber: number; etag: string }>): Promise<{ etag: string }>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
  /**
   * Multipart uploads in progress under `prefix`, in (key, uploadId) order, page by page (a bucket may hold any
   * number); `after` resumes after that upload (S3's KeyMarker + UploadIdMarker).
   */
  listMultipartUploads(prefix: string, opts?: { after?: { key: string; uploadId: string } }): AsyncIterable<PendingMultipart>;
  /** Removes the adapter's own leftovers of writes a crash interrupted (local folder only); returns how many. */
  sweepTemporaries?(olderThanMs: number): Promise<number>;
  /** Readiness check: throws when the store cannot be reached. */
  ping(): Promise<void>;
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`Object not found: ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}

export class InvalidKeyError extends Error {
  constructor(readonly key: string, reason: string) {
    super(`Invalid object key "${key}": ${reason}`);
    this.name = 'InvalidKeyError';
  }
}

/** Multipart completion named parts the store does not hold, or with other ETags. */
export class InvalidPartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPartError';
  }
}

/**
 * The store could not be reached (connection refused or reset, timeouts, 5xx) even after the client's own retries
 * with backoff. Callers treat it as transient: the gateway answers UNAVAILABLE with a retry hint, background work
 * waits and tries again. `attempts` is how many requests the client made before giving up.
 */
export class StorageUnavailableError extends Error {
  constructor(
    readonly operation: string,
    readonly attempts: number,
    options: { cause: unknown },
  ) {
    super(`The object store is unavailable (${operation} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}); try again shortly`, options);
    this.name = 'StorageUnavailableError';
  }
}

/** The StorageUnavailableError anywhere in an error's cause chain (wrappers such as lib-storage's), else null. */
export function storageUnavailableIn(err: unknown): StorageUnavailableError | null {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof StorageUnavailableError) return e;
  }
  return null;
}
