// Object keys of the dataset domain, all under the tenant's prefix.
import crypto from 'node:crypto';
import { tenantKey } from '../../storage';

/** Content-addressed raw uploads: identical files are stored once per tenant. */
export const blobKey = (tenantId: string, sha256: string) => tenantKey(tenantId, 'blobs', 'sha256', sha256);
/** Where a streamed upload lands before its hash is known. */
export const tmpUploadKey = (tenantId: string) => tenantKey(tenantId, 'tmp', 'uploads', crypto.randomUUID());
/** Target of a presigned multipart upload, moved to its blob on completion. */
export const multipartKey = (tenantId: string, fileId: string) => tenantKey(tenantId, 'uploads', fileId);
/** Shards and manifest of one version. */
export const versionPrefix = (tenantId: string, datasetId: string, versionId: string) =>
  tenantKey(tenantId, 'datasets', datasetId, 'versions', versionId);

const SEGMENT = /^[A-Za-z0-9._ ()+,=@-]+$/;

/** File names inside a version: relative paths (ImageFolder `label/file.png`), nothing that could escape. */
export function fileNameProblem(name: string): string | null {
  if (name.length < 1 || name.length > 255) return 'must be 1-255 characters';
  if (name.startsWith('/') || name.includes('\\') || name.includes('\0')) return 'must be a relative path with "/" separators';
  for (const seg of name.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') return 'must not contain empty, "." or ".." path segments';
    if (!SEGMENT.test(seg)) return `segment "${seg}" may only contain letters, digits, spaces and . _ ( ) + , = @ -`;
  }
  return null;
}
