// Object keys are tenant-scoped by construction: every tenant-owned key starts with `tenants/<tenantId>/`, and no
// key may climb out of its prefix. Callers build keys here instead of concatenating strings.
import { InvalidKeyError } from './types';

const SEGMENT = /^[A-Za-z0-9._=-]+$/;

export function assertValidKey(key: string): void {
  if (key.length === 0 || key.length > 1024) throw new InvalidKeyError(key, 'length must be 1..1024');
  if (key.startsWith('/')) throw new InvalidKeyError(key, 'must not start with "/"');
  for (const seg of key.split('/')) {
    // A leading dot is reserved: the local store keeps its bookkeeping in .meta/, .multipart/ and .tmp/.
    if (seg === '' || seg.startsWith('.')) throw new InvalidKeyError(key, 'segments must be non-empty and not start with "."');
    if (!SEGMENT.test(seg)) throw new InvalidKeyError(key, `segment "${seg}" may only contain A-Z a-z 0-9 . _ = -`);
  }
}

/** `tenants/<tenantId>/<...parts>` with each part validated as one path segment. */
export function tenantKey(tenantId: string, ...parts: string[]): string {
  const key = ['tenants', tenantId, ...parts].join('/');
  assertValidKey(key);
  return key;
}

export function tenantPrefix(tenantId: string): string {
  return `${tenantKey(tenantId)}/`;
}

export function isTenantKey(tenantId: string, key: string): boolean {
  return key.startsWith(tenantPrefix(tenantId));
}
