import type { Rng } from '../rng';

/** An image as float32 HWC, row-major (values in any range; the augmentations keep the layout). */
export interface ImageDims { height: number; width: number; channels: number }
/** A sequence as float32 time-major T×F. */
export interface SequenceDims { length: number; features: number }
export type { Rng };

export function checkImage(pixels: ArrayLike<number>, dims: ImageDims): void {
  const n = dims.height * dims.width * dims.channels;
  if (pixels.length !== n) {
    throw new Error(`Image has ${pixels.length} values but height×width×channels = ${dims.height}×${dims.width}×${dims.channels} = ${n}.`);
  }
}

export function checkSequence(values: ArrayLike<number>, dims: SequenceDims): void {
  const n = dims.length * dims.features;
  if (values.length !== n) {
    throw new Error(`Sequence has ${values.length} values but length×features = ${dims.length}×${dims.features} = ${n}.`);
  }
}
