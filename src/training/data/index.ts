export * from './rows';
export { PrefetchLoader, type BatchMaker } from './loader';
export { planBatches, type BatchPlan } from './batches';
