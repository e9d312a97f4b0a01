// Job-scoped tokens: what a trainer task holds instead of credentials. Random 256-bit secrets, so a fast hash is
// enough (nothing to brute-force); only the hash is stored on the run, and each dispatch mints a new one, which
// locks out the previous attempt's task if it is still alive somewhere.
import crypto from 'node:crypto';

const TOKEN_PATTERN = /^ptj_[A-Za-z0-9_-]{43}$/;

export interface JobToken {
  token: string;
  hash: string;
  expiresAt: Date;
}

export function hashJobToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

export function mintJobToken(ttlSeconds: number, now = new Date()): JobToken {
  if (!(ttlSeconds > 0)) throw new Error(`Job token ttlSeconds must be > 0, got ${ttlSeconds}; use the run timeout plus a margin.`);
  const token = `ptj_${crypto.randomBytes(32).toString('base64url')}`;
  return { token, hash: hashJobToken(token), expiresAt: new Date(now.getTime() + ttlSeconds * 1000) };
}

/** The token from an `Authorization: Bearer ptj_…` header, or null for anything else (never throws). */
export function parseJobToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return m && TOKEN_PATTERN.test(m[1]!) ? m[1]! : null;
}
