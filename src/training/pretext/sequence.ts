// Sequence helpers shared by the SEQUENCE tasks.
import type { SequenceDims } from '../augment/types';
import { sequenceInput } from './common';
import type { TaskSetup } from './types';

export function sequenceDims(setup: Omit<TaskSetup, 'spec'>): SequenceDims {
  const input = sequenceInput(setup);
  if (input.kind !== 'sequence') throw new Error('unreachable: sequenceInput returns a sequence input');
  return { length: input.length, features: input.features };
}

/**
 * NEXT_STEP predicts the model's next input frame; over audio that input is the raw waveform (the log-mel front end
 * lives inside the model), so it does not apply yet: audio datasets pretrain CONTRASTIVE or MASKED.
 */
export function rejectAudio(setup: Omit<TaskSetup, 'spec'>, pretext: string): void {
  if (setup.shape.modality === 'SEQUENCE' && setup.shape.sampleRate) {
    throw new Error(`${pretext} × SEQUENCE does not support audio datasets yet (it would predict raw samples, not log-mel frames). Use pretext CONTRASTIVE or MASKED for audio.`);
  }
}
