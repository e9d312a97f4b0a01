import type { EncoderKind } from '../../models/spec';
import { spanCrop } from '../augment/spanCrop';
import { deleteTokens } from '../augment/deleteTokens';
import type { Rng } from '../rng';
import { ensureKind, tokensInput } from './common';
import { ContrastiveTask } from './contrastive';
import { packTokens, textSetup } from './text';
import type { Example, HostBatch, TaskSetup } from './types';

/** CONTRASTIVE × TEXT: views are a random span (≥ 50 % of the text) with 10 % of its pieces deleted; NT-Xent. */
export class ContrastiveTextTask extends ContrastiveTask {
  readonly modality = 'TEXT' as const;
  readonly encoderKinds: readonly EncoderKind[] = ['transformer', 'mlp'];

  protected input(setup: Omit<TaskSetup, 'spec'>) { return tokensInput(setup); }

  protected views(examples: readonly Example[], rng: Rng, setup: TaskSetup): HostBatch {
    const { tokenizer, maxLength } = textSetup(setup);
    const texts = ensureKind(examples, 'TEXT');
    const view = (ids: Int32Array) => deleteTokens(spanCrop(ids.subarray(0, 4 * maxLength), rng, 0.5), rng, 0.1);
    const a: Int32Array[] = [];
    const b: Int32Array[] = [];
    for (const e of texts) { a.push(view(e.ids)); b.push(view(e.ids)); }
    return { ...packTokens(tokenizer, a, maxLength, 'a.'), ...packTokens(tokenizer, b, maxLength, 'b.') };
  }

  embedInputs(examples: readonly Example[], setup: TaskSetup): HostBatch {
    const { tokenizer, maxLength } = textSetup(setup);
    return packTokens(tokenizer, ensureKind(examples, 'TEXT').map((e) => e.ids), maxLength);
  }
}
