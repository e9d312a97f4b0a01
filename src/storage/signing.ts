// HMAC-signed, expiring URLs for the local object store, so clients use the same presigned-URL flow as with S3.
import crypto from 'node:crypto';

export type SignedOp = 'get' | 'put' | 'part';

export interface SignedParams { op: SignedOp; key: string; expires: number; uploadId?: string; partNumber?: number }

function payload(p: SignedParams): string {
  return [p.op, p.key, p.expires, p.uploadId ?? '', p.partNumber ?? ''].join('\n');
}

export function sign(secret: string, p: SignedParams): string {
  return crypto.createHmac('sha256', secret).update(payload(p)).digest('base64url');
}

export function verify(secret: string, p: SignedParams, signature: string, now = Date.now()): boolean {
  if (!Number.isFinite(p.expires) || p.expires * 1000 < now) return false;
  const expected = Buffer.from(sign(secret, p));
  const given = Buffer.from(signature);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}
