// Moved to src/contracts/finetune.ts (the gateway validates with it; the trainer consumes it). Kept so imports
// still resolve.
export { resolveHyperparameters, type FineTuneHyperparameters, type Resolved } from '../../contracts/finetune';
