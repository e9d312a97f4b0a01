export { train, type TrainOptions, type TrainResult, type TrainerCallbacks, type StepMetrics, type EvalMetrics } from './train';
export { trainLocal, type TrainLocalOptions, type TrainLocalResult } from './local';
export { resolveConfig, type TrainConfig } from './config';
export {
  DirectoryCheckpointStore, MemoryCheckpointStore, serializeCheckpoint, deserializeCheckpoint,
  type Checkpoint, type CheckpointStore,
} from './checkpoint';
export { writeModelArtifacts, readModelArtifacts, type ModelArtifacts, type Preprocess } from './artifacts';
export { knnAccuracy } from './knn';
export { useBackend, BACKENDS, type BackendName } from './backend';
