// Public surface of the ingest runtime.
export * from './types';
export { IngestError, formatPosition, type Problem, type ProblemCode, type Position } from './errors';
export { DEFAULT_LIMITS, resolveLimits, type IngestLimits } from './limits';
export { ingestStoreFrom, type IngestStore, type PlatformStoreLike } from './store';
export type { SourceFile, Example } from './source';
export { detectFromName, ACCEPTED_EXTENSIONS, type FormatId } from './detect';
export { processDatasetVersion, manifestKey, type ProcessOptions, type UploadedFile } from './process';
export { processPart, mergeParts, partPrefix, partResultKey, unitsForPart, type PartResult, type PartSpec, type PartOptions, type MergeOptions } from './parts';
export { readShards, readManifest, type ReadShardsOptions } from './shard-reader';
export { shardKey } from './shard-writer';
export { loadDatasetFromPath, type LoadOptions, type LoadedDataset } from './load';
export { previewRows, previewVersion, textSnippet, imageThumbnail, sequenceExcerpt, type PreviewItem } from './preview';
export { DEFAULT_SPLIT_RULE, assignSplit, makeSplitRule, type SplitRule } from './split';
export { validateShape } from './shape';
export { createFolderStore } from './folder-store';
