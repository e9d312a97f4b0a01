import { MODALITIES, type Modality } from '../../ingest/types';
import { PRETEXTS, type Pretext, type PretextTask, type TaskOptions } from './types';
import { MaskedTextTask } from './maskedText';
import { MaskedImageTask } from './maskedImage';
import { MaskedSequenceTask } from './maskedSequence';
import { ContrastiveTextTask } from './contrastiveText';
import { ContrastiveImageTask } from './contrastiveImage';
import { ContrastiveSequenceTask } from './contrastiveSequence';
import { NextStepTextTask } from './nextStepText';
import { NextStepImageTask } from './nextStepImage';
import { NextStepSequenceTask } from './nextStepSequence';

type Factory = (options: TaskOptions) => PretextTask;

const TASKS: Record<Pretext, Record<Modality, Factory>> = {
  MASKED: {
    TEXT: (o) => new MaskedTextTask(o),
    IMAGE: (o) => new MaskedImageTask(o),
    SEQUENCE: (o) => new MaskedSequenceTask(o),
  },
  CONTRASTIVE: {
    TEXT: (o) => new ContrastiveTextTask(o),
    IMAGE: (o) => new ContrastiveImageTask(o),
    SEQUENCE: (o) => new ContrastiveSequenceTask(o),
  },
  NEXT_STEP: {
    TEXT: () => new NextStepTextTask(),
    IMAGE: (o) => new NextStepImageTask(o),
    SEQUENCE: (o) => new NextStepSequenceTask(o),
  },
};

/** The task for a pretext × modality pair, with its hyperparameters validated. */
export function getPretextTask(pretext: Pretext, modality: Modality, options: TaskOptions = {}): PretextTask {
  if (!PRETEXTS.includes(pretext)) throw new Error(`Unsupported pretext: "${String(pretext)}". Should be one of: ${PRETEXTS.join(', ')}.`);
  if (!MODALITIES.includes(modality)) throw new Error(`Unsupported modality: "${String(modality)}". Should be one of: ${MODALITIES.join(', ')}.`);
  return TASKS[pretext][modality](options);
}
