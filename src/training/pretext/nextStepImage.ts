import { ensureKind, rowsInput } from './common';
import { NextFrameTask } from './nextStepFrames';
import type { Example, TaskSetup } from './types';

/**
 * NEXT_STEP × IMAGE: the image read top to bottom as a sequence of rows (T = height, F = width·channels, pixels in
 * 0..1); a causal encoder predicts row t + 1 from rows ≤ t (MSE, or CPC with variant 'cpc'). The trained encoder
 * therefore takes rows as its input (a sequence spec), not an image tensor.
 */
export class NextStepImageTask extends NextFrameTask {
  readonly modality = 'IMAGE' as const;
  protected input(setup: Omit<TaskSetup, 'spec'>) { return rowsInput(setup); }
  // HWC row-major pixels are already rows of W·C values.
  protected frames(examples: readonly Example[]) { return ensureKind(examples, 'IMAGE').map((e) => e.pixels); }
}
