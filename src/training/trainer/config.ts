// Moved to src/contracts/train-config.ts (the gateway validates with it; the trainer consumes it). Kept so imports
// still resolve.
export * from '../../contracts/train-config';
