import { ensureKind, sequenceInput } from './common';
import { NextFrameTask } from './nextStepFrames';
import type { Example, TaskSetup } from './types';
import { rejectAudio } from './sequence';

/** NEXT_STEP × SEQUENCE: next-frame MSE (variant 'mse') or CPC InfoNCE (variant 'cpc') from a causal conv+GRU encoder. */
export class NextStepSequenceTask extends NextFrameTask {
  readonly modality = 'SEQUENCE' as const;
  protected input(setup: Omit<TaskSetup, 'spec'>) {
    rejectAudio(setup, this.pretext);
    return sequenceInput(setup);
  }
  protected frames(examples: readonly Example[]) { return ensureKind(examples, 'SEQUENCE').map((e) => e.values); }
}
