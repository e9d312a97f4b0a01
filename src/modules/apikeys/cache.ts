// A short-lived cache of API key rows by lookup prefix, so authenticating a busy client does not cost a database
// round trip per request (a missing key is cached as null too). Revocation in this process drops the entry, and
// any lookup of it in flight, at once; other processes (more gateway instances, Lambda containers) see a revocation
// within the TTL.
import type { ApiKey } from '../../db/client';
import { LookupCache } from '../cache/lookup-cache';

export const API_KEY_CACHE_TTL_MS = 5_000;

export class ApiKeyCache extends LookupCache<ApiKey | null> {
  constructor(ttlMs = API_KEY_CACHE_TTL_MS, maxEntries = 10_000) {
    // Busy keys are re-read in the background from half the TTL on, so no request waits for an expiry.
    super({ ttlMs, maxEntries, refreshAfterMs: ttlMs / 2 });
  }

  forget(prefix: string): void {
    this.delete(prefix);
  }
}
