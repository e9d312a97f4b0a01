// Turns an Authorization header into a Principal. Unknown, revoked and expired keys are refused here, before any
// resolver runs; a request without a header is anonymous and may only reach PUBLIC fields.
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../../db/client';
import { unauthenticated } from '../../errors';
import type { ApiKeyCache } from '../apikeys/cache';
import { hashesEqual, hashSecret, parseApiKey } from '../apikeys/secrets';
import type { Principal } from './principal';

/** lastUsedAt is advisory: write it at most once a minute per key, not on every request. */
const LAST_USED_GRANULARITY_MS = 60_000;

export class AuthService {
  constructor(
    private readonly db: Db,
    private readonly operatorKeyHash: string | null,
    private readonly log: Logger,
    private readonly cache: ApiKeyCache,
  ) {}

  async authenticate(authorization: string | undefined, now = new Date()): Promise<Principal> {
    if (authorization === undefined || authorization.trim() === '') return { kind: 'anonymous' };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw unauthenticated('Malformed Authorization header: expected "Bearer <api key>"');
    const token = m[1]!;

    // One hash per request, compared with the operator key's and then with the key row's.
    const presented = hashSecret(token);
    if (this.operatorKeyHash && hashesEqual(presented, this.operatorKeyHash)) return { kind: 'operator' };

    const prefix = parseApiKey(token);
    // Lookup by the public prefix: the only unscoped read of keys, and it is followed by a hash check. The cache
    // shares one lookup per prefix in flight, so an expiry under load costs one query, not one per request.
    const row = prefix ? await this.cache.get(prefix, () => this.db.apiKey.findUnique({ where: { prefix } })) : null;
    if (!row || !hashesEqual(presented, row.secretHash)) {
      // Spend the same comparison work whether or not the prefix exists, so timing does not reveal valid prefixes.
      if (!row) hashesEqual(presented, crypto.randomBytes(32).toString('hex'));
      throw unauthenticated('Invalid API key');
    }
    if (row.revokedAt) throw unauthenticated('API key has been revoked');
    if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) throw unauthenticated(`API key expired at ${row.expiresAt.toISOString()}`);

    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_GRANULARITY_MS) {
      row.lastUsedAt = now; // the cached row too, so a busy key is written once a minute, not once per request
      this.db.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: now } }).catch((err: unknown) => this.log.warn({ err, apiKeyId: row.id }, 'could not record lastUsedAt'));
    }
    return { kind: 'tenant', tenantId: row.tenantId, apiKeyId: row.id, role: row.role };
  }
}
