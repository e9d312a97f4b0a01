// Moved to src/contracts/tokenizer.ts (training and serving share it; neither owns it). Kept so imports still resolve.
export * from '../../contracts/tokenizer';
