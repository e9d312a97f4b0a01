// One copy of a sharded embedding-space build, as a job: copy `index` of `count` embeds a contiguous run of the
// dataset version's shards under the model version (onnxruntime-node, like the gateway's inline build) and writes
// its piece: parts/<index>/vectors.f32 (float32 little-endian, [rows, dim]) and parts/<index>/rows.json. The
// worker's merge concatenates the pieces in index order (src/modules/models/space-jobs.ts).
import { InferenceRuntime } from '../../inference';
import { ingestStoreFrom, readManifest } from '../../ingest';
import { loadArtifact, type ArtifactVersion } from '../../modules/models/artifacts';
import { embedShards, shardsForCopy, type SpacePiece } from '../../modules/models/space-build';
import type { ObjectStore } from '../../storage';
import { spacePieceKeys, type BuildSpaceSpec } from './spec';
import { readObjectBytes } from '../../storage/read-object';

export async function runBuildSpace(store: ObjectStore, spec: BuildSpaceSpec, part: { index: number; count: number }): Promise<SpacePiece> {
  if (part.count !== spec.count) {
    throw new Error(`the job runs ${part.count} cop${part.count === 1 ? 'y' : 'ies'} but the spec was written for ${spec.count}; refusing to write a piece the merge would not expect.`);
  }
  const ingest = ingestStoreFrom(store);
  const manifest = await readManifest(ingest, spec.manifestKey);
  const version = spec.model as unknown as ArtifactVersion;
  const artifact = await loadArtifact(version, (key) => readObjectBytes(store, key));
  const runtime = new InferenceRuntime();
  try {
    const piece = await embedShards({ runtime, artifact, version, store: ingest, manifest, shards: shardsForCopy(manifest, part.index, part.count) });
    const keys = spacePieceKeys(spec.keyPrefix, part.index);
    await store.put(keys.vectors, Buffer.from(piece.vectors.buffer, piece.vectors.byteOffset, piece.vectors.byteLength), { contentType: 'application/octet-stream' });
    await store.put(keys.rows, JSON.stringify({ rows: piece.rows, meta: piece.meta }), { contentType: 'application/json' });
    return piece;
  } finally {
    await runtime.close();
  }
}
