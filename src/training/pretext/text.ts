// Text batch assembly shared by the TEXT tasks.
import type { TextTokenizer } from '../tokenizer/textTokenizer';
import { host } from './common';
import type { HostBatch, TaskSetup } from './types';

export function textSetup(setup: Omit<TaskSetup, 'spec'>): { tokenizer: TextTokenizer; maxLength: number } {
  if (!setup.tokenizer) throw new Error('A TEXT task needs a tokenizer (train one with TextTokenizer.train on the text rows).');
  const maxLength = setup.maxLength ?? 64;
  if (!Number.isInteger(maxLength) || maxLength < 4) throw new Error(`maxLength must be an integer ≥ 4; got ${maxLength}.`);
  return { tokenizer: setup.tokenizer, maxLength };
}

/** [CLS] + pieces, cut / padded to maxLength, under `prefix`inputIds and `prefix`attentionMask. */
export function packTokens(tokenizer: TextTokenizer, pieces: readonly Int32Array[], maxLength: number, prefix = ''): HostBatch {
  const packed = tokenizer.pack(pieces, maxLength, true);
  return {
    [`${prefix}inputIds`]: host(packed.inputIds, [pieces.length, maxLength]),
    [`${prefix}attentionMask`]: host(packed.attentionMask, [pieces.length, maxLength]),
  };
}
