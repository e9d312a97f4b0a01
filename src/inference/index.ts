/** Inference runtime public surface (the gateway and CLI import from here). */
export { InferenceRuntime, LoadedModel, loadModel, DEFAULT_REQUEST_LIMITS } from './service';
export type { ModelArtifact, RuntimeOptions, RequestLimits, EmbedOptions, EmbedResult, PredictOptions, PredictResult } from './service';
export { SessionCache, DEFAULT_SIZE_FACTOR, type SessionCacheOptions, type CacheStats } from './cache';
export { MicroBatcher, DEFAULT_BATCHER_OPTIONS, resolveBatcherOptions, type BatcherOptions, type BatchOutput } from './batcher';
export { prepareInputs, TRUNCATIONS, type InferenceInput, type Truncation, type PreparedRow } from './preprocess';
export { packFeeds } from './feeds';
export * from './postprocess';
export * from './errors';
export * from './search';
