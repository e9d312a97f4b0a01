// Picks the object store from configuration: S3 when a bucket is configured, else a local folder.
import type { StorageConfig } from '../config';
import { LocalObjectStore } from './local';
import { S3ObjectStore } from './s3';
import type { ObjectStore } from './types';

export * from './types';
export { tenantKey, tenantPrefix, isTenantKey, assertValidKey } from './keys';
export { LocalObjectStore } from './local';

export function createObjectStore(cfg: StorageConfig, local: { signingSecret: string; publicUrl: () => string }): ObjectStore {
  switch (cfg.kind) {
    case 'local':
      return new LocalObjectStore({ root: cfg.root, ...local });
    case 's3':
      return new S3ObjectStore(cfg);
  }
}
