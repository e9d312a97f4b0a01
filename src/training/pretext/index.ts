export * from './types';
export { getPretextTask } from './registry';
export { NEXT_STEP_VARIANTS } from './nextStepFrames';
export { createHeadStore } from './heads';
