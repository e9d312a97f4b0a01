// The only module that talks to the AWS S3 SDK. Works against AWS, MinIO or s3rver (endpoint + path style).
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { assertValidKey } from './keys';
import {
  InvalidPartError,
  ObjectNotFoundError,
  StorageUnavailableError,
  type Body,
  type ObjectInfo,
  type ObjectStore,
  type PendingMultipart,
  type UploadedPart,
} from './types';

export interface S3StoreOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * Requests per operation, first try included (the SDK's standard retry strategy: exponential backoff with full
   * jitter, 100 ms base, and a retry quota that stops retrying when a store keeps failing). Default 5.
   */
  maxAttempts?: number;
  /** Milliseconds to wait for a TCP connection before the attempt counts as failed (and is retried). Default 3000. */
  connectionTimeoutMs?: number;
}

const DEFAULT_MAX_ATTEMPTS = 5;
const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
const NETWORK_CODE_IN_TEXT = new RegExp(`\\b(${[...NETWORK_ERROR_CODES].join('|')})\\b`);

/** Failures that say the store is away (not that the request was wrong): network errors, timeouts, 5xx, throttling. */
function isUnavailable(err: unknown): boolean {
  if (err instanceof S3ServiceException) {
    const status = err.$metadata?.httpStatusCode ?? 0;
    return status >= 500 || err.name === 'SlowDown' || err.name === 'ServiceUnavailable';
  }
  const e = err as { code?: string; name?: string; message?: string; errors?: Array<{ code?: string }> } | null;
  if (!e) return false;
  if (e.code && NETWORK_ERROR_CODES.has(e.code)) return true;
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout') return true;
  // Node reports a refused dual-stack connection as an AggregateError of the per-address errors.
  if (Array.isArray(e.errors) && e.errors.some((x) => x?.code !== undefined && NETWORK_ERROR_CODES.has(x.code))) return true;
  // The SDK re-wraps errors it does not recognise as Error objects (one from another realm, e.g. under a test VM)
  // into "AWS SDK error wrapper for Error: connect ECONNREFUSED …", dropping `code`: the code is still in the text.
  return typeof e.message === 'string' && NETWORK_CODE_IN_TEXT.test(e.message);
}

function isNotFound(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404);
}

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    this.client = new S3Client({
      region: opts.region,
      forcePathStyle: opts.forcePathStyle,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
      // Checksums on every request would make presigned URLs carry checksum parameters that browsers and plain
      // HTTP clients do not send; compute them only where the operation requires it.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Transient failures (connection refused/reset, timeouts, 5xx, throttling) are retried by the SDK itself.
      retryMode: 'standard',
      maxAttempts: opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      requestHandler: { connectionTimeout: opts.connectionTimeoutMs ?? 3000 },
    });
    // Outermost step, so it sees an error only once the retry strategy has given up: an outage becomes one typed
    // error (with the attempts made) for every command, lib-storage's uploads included, instead of a raw socket error.
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        try {
          return await next(args);
        } catch (err) {
          if (!isUnavailable(err)) throw err;
          const attempts = (err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
          throw new StorageUnavailableError(context.commandName ?? 'request', attempts, { cause: err });
        }
      },
      { step: 'initialize', name: 'pretextStorageUnavailable', priority: 'high' },
    );
  }

  async put(key: string, body: Body, opts: { contentType?: string } = {}): Promise<{ etag: string; bytes: number }> {
    assertValidKey(key);
    let bytes = 0;
    const counted =
      body instanceof Readable
        ? body.on('data', (c: Buffer) => {
            bytes += c.length;
          })
        : body;
    if (!(body instanceof Readable)) bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    // lib-storage splits streams into 8 MiB parts and uploads small bodies with one PutObject.
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: counted, ...(opts.contentType ? { ContentType: opts.contentType } : {}) },
      queueSize: 2,
      partSize: 8 * 1024 * 1024,
    });
    const out = await upload.done();
    return { etag: out.ETag ?? '', bytes };
  }

  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    assertValidKey(key);
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
      );
      return out.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        bytes: out.ContentLength ?? 0,
        etag: out.ETag ?? '',
        lastModified: out.LastModified ?? new Date(0),
        ...(out.ContentType ? { contentType: out.ContentType } : {}),
      };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async deletePrefix(prefix: string): Promise<number> {
    let n = 0;
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      n += batch.length;
      batch = [];
    };
    for await (const o of this.list(prefix)) {
      batch.push(o.key);
      if (batch.length === 1000) await flush();
    }
    await flush();
    return n;
  }

  async *list(prefix: string, opts: { startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      const out: ListObjectsV2CommandOutput = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ...(token ? { ContinuationToken: token } : opts.startAfter ? { StartAfter: opts.startAfter } : {}),
        }),
      );
      for (const o of out.Contents ?? []) {
        if (!o.Key) continue;
        yield { key: o.Key, bytes: o.Size ?? 0, etag: o.ETag ?? '', lastModified: o.LastModified ?? new Date(0) };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    assertValidKey(fromKey);
    assertValidKey(toKey);
    try {
      await this.client.send(
        new CopyObjectCommand({ Bucket: this.bucket, Key: toKey, CopySource: `${this.bucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}` }),
      );
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(fromKey);
      throw err;
    }
  }

  async presignGet(key: string, expiresInSeconds: number): Promise<string> {
    assertValidKey(key);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds });
  }

  async presignPut(key: string, expiresInSeconds: number, contentType?: string): Promise<string> {
    assertValidKey(key);
    return getSignedUrl(this.client, new PutObjectCommand({ Bucket: this.bucket, Key: key, ...(contentType ? { ContentType: contentType } : {}) }), {
      expiresIn: expiresInSeconds,
    });
  }

  async createMultipart(key: string, contentType?: string): Promise<string> {
    assertValidKey(key);
    const out = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ...(contentType ? { ContentType: contentType } : {}) }),
    );
    if (!out.UploadId) throw new Error('S3 returned no UploadId');
    return out.UploadId;
  }

  async presignPart(key: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string> {
    assertValidKey(key);
    return getSignedUrl(this.client, new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }), {
      expiresIn: expiresInSeconds,
    });
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    try {
      do {
        const out = await this.client.send(
          new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, ...(marker ? { PartNumberMarker: marker } : {}) }),
        );
        for (const p of out.Parts ?? []) parts.push({ partNumber: p.PartNumber ?? 0, etag: p.ETag ?? '', bytes: p.Size ?? 0 });
        marker = out.IsTruncated ? out.NextPartNumberMarker : undefined;
      } while (marker);
    } catch (err) {
      if (err instanceof S3ServiceException && err.name === 'NoSuchUpload') throw new InvalidPartError(`No such upload ${uploadId} (aborted or completed)`);
      throw err;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeMultipart(key: string, uploadId: string, parts: Array<{ partNumber: number; etag: string }>): Promise<{ etag: string }> {
    if (parts.length === 0) throw new InvalidPartError('At least one part is required');
    let prev = 0;
    for (const p of parts) {
      if (p.partNumber <= prev) throw new InvalidPartError('Parts must be listed in ascending order without duplicates');
      prev = p.partNumber;
    }
    // Check the claimed parts against ListParts ourselves: some S3-compatible servers accept unknown ETags
    // silently. Where the server lacks ListParts, S3's own CompleteMultipartUpload validation is what remains.
    const have = await this.listParts(key, uploadId).then(
      (ps) => new Map(ps.map((p) => [p.partNumber, p])),
      (err: unknown) => {
        if (err instanceof S3ServiceException && (err.name === 'NotImplemented' || err.name === 'MethodNotAllowed')) return null;
        throw err;
      },
    );
    if (have) {
      for (const p of parts) {
        const stored = have.get(p.partNumber);
        if (!stored) throw new InvalidPartError(`Part ${p.partNumber} was never uploaded`);
        if (stored.etag.replace(/"/g, '') !== p.etag.replace(/"/g, '')) throw new InvalidPartError(`ETag mismatch for part ${p.partNumber}`);
      }
    }
    try {
      const out = await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
      return { etag: out.ETag ?? '' };
    } catch (err) {
      if (
        err instanceof S3ServiceException &&
        ['InvalidPart', 'InvalidPartOrder', 'NoSuchUpload', 'EntityTooSmall'].includes(err.name)
      ) {
        throw new InvalidPartError(err.message);
      }
      throw err;
    }
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
  }

  async *listMultipartUploads(prefix: string, opts: { after?: { key: string; uploadId: string } } = {}): AsyncIterable<PendingMultipart> {
    let keyMarker = opts.after?.key;
    let idMarker = opts.after?.uploadId;
    for (;;) {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: prefix,
          ...(keyMarker ? { KeyMarker: keyMarker } : {}),
          ...(keyMarker && idMarker ? { UploadIdMarker: idMarker } : {}),
        }),
      );
      for (const u of page.Uploads ?? []) {
        if (u.Key && u.UploadId) yield { key: u.Key, uploadId: u.UploadId, initiated: u.Initiated ?? new Date(0) };
      }
      if (!page.IsTruncated || !page.NextKeyMarker) return;
      keyMarker = page.NextKeyMarker;
      idMarker = page.NextUploadIdMarker;
    }
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  destroy(): void {
    this.client.destroy();
  }
}
