// API key secrets: `pt_<prefix>_<secret>`. The prefix (random, public) finds the row with one index probe; the
// whole key is checked against a sha256 hash. A slow password hash buys nothing here: the secret has 256 bits of
// entropy, so it cannot be guessed, and a fast hash keeps authentication off the request's critical path.
import crypto from 'node:crypto';

const KEY_PATTERN = /^pt_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedKey { secret: string; prefix: string; hash: string }

export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

export function generateApiKey(): GeneratedKey {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.randomBytes(12);
  const prefix = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
  const secret = `pt_${prefix}_${crypto.randomBytes(32).toString('base64url')}`;
  return { secret, prefix, hash: hashSecret(secret) };
}

/** The lookup prefix of a well-formed key, or null for anything else (never throws on hostile input). */
export function parseApiKey(secret: string): string | null {
  const m = KEY_PATTERN.exec(secret);
  return m ? m[1]! : null;
}

export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && crypto.timingSafeEqual(x, y);
}
