// The fine-tuning tasks and modes, free of tfjs so that the gateway can check a request without the engine.
export type FineTuneTask = 'CLASSIFICATION' | 'REGRESSION';
export type FineTuneMode = 'LINEAR_PROBE' | 'MLP_HEAD' | 'FULL';
export const FINETUNE_TASKS: readonly FineTuneTask[] = ['CLASSIFICATION', 'REGRESSION'];
export const FINETUNE_MODES: readonly FineTuneMode[] = ['LINEAR_PROBE', 'MLP_HEAD', 'FULL'];
