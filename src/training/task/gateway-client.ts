// How a trainer task talks to the gateway: the job-scoped REST trainer API, and objects through the presigned URLs
// it hands out. The task holds no other credentials.
import { Readable } from 'node:stream';
import { readShards } from '../../ingest/shard-reader';
import type { IngestStore } from '../../ingest/store';
import type { Manifest, Row } from '../../ingest/types';

export class GatewayClient {
  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {}

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let lastErr: unknown;
    // Transient gateway trouble (a restart) must not kill a long run: retry with backoff for about a minute.
    for (let i = 0; i < 8; i++) {
      try {
        const res = await fetch(`${this.base}/internal/trainer${path}`, {
          method,
          headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        if (res.ok) return (text ? JSON.parse(text) : {}) as T;
        const message = `${method} ${path} → ${res.status}: ${text.slice(0, 500)}`;
        if (res.status < 500) throw Object.assign(new Error(message), { fatal: true });
        lastErr = new Error(message);
      } catch (err) {
        if ((err as { fatal?: boolean }).fatal) throw err;
        lastErr = err;
      }
      await new Promise((r) => setTimeout(r, Math.min(10_000, 250 * 2 ** i)));
    }
    throw lastErr;
  }
}

export async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`download failed: ${res.status} ${(await res.text()).slice(0, 200)}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Uploads to `<run output prefix>/<path>` and returns the full key. */
export async function upload(api: GatewayClient, path: string, body: Uint8Array): Promise<string> {
  const { key, url } = await api.call<{ key: string; url: string }>('POST', '/presign', { path, method: 'PUT' });
  const res = await fetch(url, { method: 'PUT', body });
  if (!res.ok) throw new Error(`upload of ${key} failed: ${res.status} ${(await res.text()).slice(0, 200)}`);
  return key;
}

/** A read-only IngestStore over the presigned URLs of the spec: exactly the run's dataset version, nothing else. */
export function presignedIngestStore(urls: Map<string, string>): IngestStore {
  return {
    getObject: async (key) => {
      const url = urls.get(key);
      if (!url) throw new Error(`no presigned URL for ${key}: the job token grants only this run's inputs`);
      return Readable.from([await download(url)]);
    },
    putObject: async () => {
      throw new Error('the trainer never writes dataset objects');
    },
    deleteObject: async () => {
      throw new Error('the trainer never deletes dataset objects');
    },
  };
}

/** A dataset version the spec grants (its manifest and shards, as presigned URLs): the manifest and every row. */
export async function readVersion(v: { manifest: { key: string; url: string }; shards: Array<{ key: string; url: string }> }): Promise<{ manifest: Manifest; rows: Row[] }> {
  const urls = new Map([[v.manifest.key, v.manifest.url], ...v.shards.map((s) => [s.key, s.url] as [string, string])]);
  const manifest = JSON.parse((await download(v.manifest.url)).toString('utf8')) as Manifest;
  const rows: Row[] = [];
  for await (const row of readShards(presignedIngestStore(urls), manifest)) rows.push(row);
  return { manifest, rows };
}
