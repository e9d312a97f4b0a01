// A short-lived cache of API key rows by lookup prefix, so authenticating a busy client does not cost a database
// round trip per request. Revocation in this process drops the entry at once; other processes (more gateway
// instances, Lambda containers) see a revocation within TTL_MS.
import type { ApiKey } from '../../db/client';

export const API_KEY_CACHE_TTL_MS = 5_000;

export class ApiKeyCache {
  private readonly entries = new Map<string, { row: ApiKey | null; expires: number }>();

  constructor(private readonly ttlMs = API_KEY_CACHE_TTL_MS, private readonly maxEntries = 10_000) {}

  get(prefix: string, now = Date.now()): ApiKey | null | undefined {
    const e = this.entries.get(prefix);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.entries.delete(prefix);
      return undefined;
    }
    return e.row;
  }

  set(prefix: string, row: ApiKey | null, now = Date.now()): void {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(prefix, { row, expires: now + this.ttlMs });
  }

  forget(prefix: string): void {
    this.entries.delete(prefix);
  }
}
