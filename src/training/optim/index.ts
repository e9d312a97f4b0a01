export { AdamW, type AdamWOptions, type AdamWState, type StepInfo } from './adamw';
export { clipByGlobalNorm } from './clip';
export { warmupCosine, type WarmupCosineOptions, type LearningRateSchedule } from './schedule';
