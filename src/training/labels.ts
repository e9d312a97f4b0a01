/** Label value meaning "no loss at this position" (unmasked tokens in MLM, padding in next-token prediction). */
export const IGNORE_INDEX = -100;
