// Sequence helpers shared by the SEQUENCE tasks.
import type { SequenceDims } from '../augment/types';
import { sequenceInput } from './common';
import type { TaskSetup } from './types';

export function sequenceDims(setup: Omit<TaskSetup, 'spec'>): SequenceDims {
  const input = sequenceInput(setup);
  if (input.kind !== 'sequence') throw new Error('unreachable: sequenceInput returns a sequence input');
  return { length: input.length, features: input.features };
}
