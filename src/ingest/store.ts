// The object-store surface ingest needs. The gateway passes its real store (S3 or local folder adapter);
// ingest never imports a storage SDK itself.
import type { Readable } from 'node:stream';

export interface IngestStore {
  putObject(key: string, body: Readable | Uint8Array, opts?: { contentType?: string }): Promise<void>;
  getObject(key: string): Promise<Readable>;
  deleteObject(key: string): Promise<void>;
}

/** The subset of the platform's ObjectStore (src/storage) that ingest uses, matched structurally. */
export interface PlatformStoreLike {
  put(key: string, body: Readable | Uint8Array, opts?: { contentType?: string }): Promise<unknown>;
  get(key: string): Promise<Readable>;
  delete(key: string): Promise<void>;
}

/** Adapts the platform's ObjectStore (S3 or local) to IngestStore: `processDatasetVersion({ store: ingestStoreFrom(store) })`. */
export function ingestStoreFrom(store: PlatformStoreLike): IngestStore {
  return {
    putObject: async (key, body, opts) => {
      await store.put(key, body, opts);
    },
    getObject: (key) => store.get(key),
    deleteObject: (key) => store.delete(key),
  };
}
