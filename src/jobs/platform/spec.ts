// The contract between the gateway's worker and a platform job (src/jobs/platform-main.ts): the job reads one JSON
// spec from the object store and writes its results next to it. The spec names everything the job may read or
// write, so the job needs no database access at all (it processes untrusted uploads: the less it can reach the better).
import type { RowShape } from '../../ingest/types';
import type { StorageConfig } from '../../config';

export interface ProcessVersionSpec {
  formatVersion: 1;
  kind: 'process-version';
  versionId: string;
  /** tenants/<t>/datasets/<d>/versions/<v>: each copy writes under <keyPrefix>/parts/<index>/. */
  keyPrefix: string;
  shape: RowShape;
  split: { seed?: string; validation?: number; test?: number };
  /** Copies of the job (the array size); every copy must agree, so the spec fixes it. */
  count: number;
  /** The version's uploaded files in upload order, with the keys they are stored under. */
  files: Array<{ name: string; key: string; bytes: number; sha256: string }>;
}

export interface BuildSpaceSpec {
  formatVersion: 1;
  kind: 'build-space';
  spaceId: string;
  /** tenants/<t>/spaces/<s>: each copy writes parts/<index>/vectors.f32 + rows.json under it. */
  keyPrefix: string;
  /** The READY dataset version's manifest; copy i embeds a contiguous run of its shards. */
  manifestKey: string;
  /** What loading the model version's artifact needs (src/modules/models/artifacts.ts ArtifactVersion). */
  model: { id: string; onnxKey: string; tokenizerKey: string | null; inputSpec: unknown; head: unknown; embeddingDim: number };
  count: number;
}

export type PlatformJobSpec = ProcessVersionSpec | BuildSpaceSpec;

/** A space build copy's output: its vectors (float32 little-endian, [rows, dim]) and their rows. */
export function spacePieceKeys(keyPrefix: string, index: number): { vectors: string; rows: string } {
  const part = `${keyPrefix.replace(/\/+$/, '')}/parts/${String(index).padStart(5, '0')}`;
  return { vectors: `${part}/vectors.f32`, rows: `${part}/rows.json` };
}

export function specKey(keyPrefix: string): string {
  return `${keyPrefix.replace(/\/+$/, '')}/job/spec.json`;
}

/** Environment variable carrying the object store's settings (credentials only where the dispatcher is local). */
export const JOB_STORAGE_ENV = 'PRETEXT_JOB_STORAGE';

export function storageFromEnv(env: NodeJS.ProcessEnv): StorageConfig {
  const raw = env[JOB_STORAGE_ENV];
  if (!raw) throw new Error(`${JOB_STORAGE_ENV} is not set: the job cannot reach the object store.`);
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new Error(`${JOB_STORAGE_ENV} is not JSON.`);
  }
  const s = v as Partial<StorageConfig>;
  if (s.kind === 'local' && typeof s.root === 'string' && s.root) return { kind: 'local', root: s.root };
  if (s.kind === 's3' && typeof s.bucket === 'string' && typeof s.region === 'string') {
    const creds = env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY ? { credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY } } : {};
    return { kind: 's3', bucket: s.bucket, region: s.region, forcePathStyle: Boolean(s.forcePathStyle), ...(typeof s.endpoint === 'string' ? { endpoint: s.endpoint } : {}), ...creds };
  }
  throw new Error(`${JOB_STORAGE_ENV} must be {"kind":"local","root":…} or {"kind":"s3","bucket":…,"region":…}.`);
}

/** What the gateway puts into a job's environment for `storage`; static S3 credentials only when asked. */
export function storageEnv(storage: StorageConfig, withCredentials: boolean): Record<string, string> {
  const { credentials, ...rest } = storage as StorageConfig & { credentials?: { accessKeyId: string; secretAccessKey: string } };
  return {
    [JOB_STORAGE_ENV]: JSON.stringify(rest),
    ...(withCredentials && credentials ? { S3_ACCESS_KEY_ID: credentials.accessKeyId, S3_SECRET_ACCESS_KEY: credentials.secretAccessKey } : {}),
  };
}
