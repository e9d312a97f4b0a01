// Which examples make up the batch of a given step, and the RNG stream that augments it. Both are pure functions of
// (seed, step), so a run resumed at step s sees exactly the batches the uninterrupted run would have seen.
import { createRng, type Rng } from '../rng';

export interface BatchPlan {
  /** Steps in one pass over the training examples (the last partial batch is dropped, as in SimCLR). */
  stepsPerEpoch: number;
  batchSize: number;
  /** Example indices of `step`'s batch. */
  indices(step: number): Int32Array;
  /** The augmentation/masking stream of `step`. */
  rng(step: number): Rng;
}

export function planBatches(examples: number, batchSize: number, seed: number | string): BatchPlan {
  if (examples < 1) throw new Error('The training split is empty: no rows to train on. Upload data or change the split.');
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer; got ${batchSize}.`);
  const size = Math.min(batchSize, examples);
  const stepsPerEpoch = Math.floor(examples / size);
  let cachedEpoch = -1;
  let order: Int32Array = new Int32Array(0);
  return {
    stepsPerEpoch,
    batchSize: size,
    indices(step: number) {
      const epoch = Math.floor(step / stepsPerEpoch);
      if (epoch !== cachedEpoch) {
        order = createRng(seed, 'order', epoch).permutation(examples);
        cachedEpoch = epoch;
      }
      const start = (step % stepsPerEpoch) * size;
      return order.slice(start, start + size);
    },
    rng: (step: number) => createRng(seed, 'batch', step),
  };
}
