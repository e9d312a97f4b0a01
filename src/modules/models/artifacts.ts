// What a model version resolves to for the inference runtime: its ONNX bytes, spec, tokenizer and head labels,
// read from the object store once and kept (versions are immutable, so a cached artifact never goes stale).
import type { ModelVersion } from '../../db/client';
import type { ModelArtifact } from '../../inference';
import type { StoredInputSpec } from '../../models/stored-spec';
import type { ObjectStore } from '../../storage';

/** Artifacts whose bytes are kept in memory at once. */
const CACHED_ARTIFACTS = 16;

/** What loading a version's artifact needs of its row (a platform job gets exactly this in its spec, no database). */
export type ArtifactVersion = Pick<ModelVersion, 'id' | 'onnxKey' | 'tokenizerKey' | 'inputSpec' | 'head' | 'embeddingDim'>;

/** ModelVersion.inputSpec as the registry stored it (the architecture spec plus training-time preprocessing). */
export function storedInputSpec(v: Pick<ModelVersion, 'inputSpec'>): StoredInputSpec {
  return v.inputSpec as unknown as StoredInputSpec;
}

/** Reads a version's ONNX bytes, tokenizer and head labels through `readObject`. */
export async function loadArtifact(v: ArtifactVersion, readObject: (key: string) => Promise<Buffer>): Promise<ModelArtifact> {
  const spec = storedInputSpec(v).spec;
  return {
    modelVersionId: v.id,
    onnx: new Uint8Array(await readObject(v.onnxKey)),
    spec,
    ...(v.tokenizerKey ? { tokenizerJson: (await readObject(v.tokenizerKey)).toString('utf8') } : {}),
    ...(v.head && Array.isArray((v.head as { labels?: unknown }).labels) ? { labels: (v.head as { labels: string[] }).labels } : {}),
  };
}

export class ModelArtifacts {
  private readonly artifacts = new Map<string, Promise<ModelArtifact>>();

  constructor(private readonly store: ObjectStore) {}

  /** Whole small objects (model files, index files) — these are loaded into memory anyway. */
  async readObject(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.store.get(key)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  get(v: ArtifactVersion): Promise<ModelArtifact> {
    let a = this.artifacts.get(v.id);
    if (!a) {
      a = loadArtifact(v, (key) => this.readObject(key));
      a.catch(() => this.artifacts.delete(v.id));
      if (this.artifacts.size >= CACHED_ARTIFACTS) this.artifacts.delete(this.artifacts.keys().next().value!);
      this.artifacts.set(v.id, a);
    }
    return a;
  }
}
