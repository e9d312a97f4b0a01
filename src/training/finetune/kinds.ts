// Moved to src/contracts/finetune.ts. Kept so imports still resolve.
export { FINETUNE_MODES, FINETUNE_TASKS, type FineTuneMode, type FineTuneTask } from '../../contracts/finetune';
