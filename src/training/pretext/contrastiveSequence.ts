import type { EncoderKind } from '../../models/spec';
import { cropSequence } from '../augment/cropSequence';
import { scaling } from '../augment/scaling';
import { jitter } from '../augment/jitter';
import { timeMask } from '../augment/timeMask';
import type { SequenceDims } from '../augment/types';
import type { Rng } from '../rng';
import { ensureKind, sequenceInput, stack } from './common';
import { ContrastiveTask } from './contrastive';
import { sequenceDims } from './sequence';
import type { Example, HostBatch, TaskSetup } from './types';

/** CONTRASTIVE × SEQUENCE: views by crop-and-stretch, per-feature scaling, jitter and time masking; NT-Xent. */
export class ContrastiveSequenceTask extends ContrastiveTask {
  readonly modality = 'SEQUENCE' as const;
  readonly encoderKinds: readonly EncoderKind[] = ['sequence', 'mlp'];

  protected input(setup: Omit<TaskSetup, 'spec'>) { return sequenceInput(setup); }

  protected views(examples: readonly Example[], rng: Rng, setup: TaskSetup): HostBatch {
    const dims = sequenceDims(setup);
    const seqs = ensureKind(examples, 'SEQUENCE');
    const inner = [dims.length, dims.features];
    return {
      'a.values': stack(seqs.map((e) => augment(e.values, dims, rng)), inner),
      'b.values': stack(seqs.map((e) => augment(e.values, dims, rng)), inner),
    };
  }

  embedInputs(examples: readonly Example[], setup: TaskSetup): HostBatch {
    const dims = sequenceDims(setup);
    return { values: stack(ensureKind(examples, 'SEQUENCE').map((e) => e.values), [dims.length, dims.features]) };
  }
}

function augment(v: Float32Array, dims: SequenceDims, rng: Rng): Float32Array {
  let x = cropSequence(v, dims, rng, 0.6);
  x = scaling(x, dims, rng, 0.1);
  x = jitter(x, dims, rng, 0.05);
  return timeMask(x, dims, rng, 0.2);
}
