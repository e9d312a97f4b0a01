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
  list(prefix: string): AsyncIterable<ObjectInfo>;
  copy(fromKey: string, toKey: string): Promise<void>;
  presignGet(key: string, expiresInSeconds: number): Promise<string>;
  presignPut(key: string, expiresInSeconds: number, contentType?: string): Promise<string>;
  createMultipart(key: string, contentType?: string): Promise<string>;
  presignPart(key: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string>;
  listParts(key: string, uploadId: string): Promise<UploadedPart[]>;
  completeMultipart(key: string, uploadId: string, parts: Array<{ partNumber: number; etag: string }>): Promise<{ etag: string }>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
  listMultipartUploads(prefix: string): Promise<PendingMultipart[]>;
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
