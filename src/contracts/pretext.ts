// The pretext tasks as data: their names, their options (a zod schema per pretext × modality), and the encoder
// families each pair trains. The gateway validates createExperiment with this; the trainer's task classes
// (src/training/pretext/*) implement the same table, and tests/contracts/pretext.test.ts keeps the two equal.
// Pure data: no TensorFlow.js.
import { z } from 'zod';
import type { Modality } from '../ingest/types';
import type { EncoderKind } from '../models/spec';

export type Pretext = 'MASKED' | 'CONTRASTIVE' | 'NEXT_STEP';
export const PRETEXTS: readonly Pretext[] = ['MASKED', 'CONTRASTIVE', 'NEXT_STEP'];

export const NEXT_STEP_VARIANTS = ['mse', 'cpc'] as const;

export interface TaskOptions {
  /** MASKED: share of tokens / patches / frames hidden, in (0, 1). Default 0.15 text, 0.5 image, 0.3 sequence. */
  maskRatio?: number;
  /** CONTRASTIVE (NT-Xent) and NEXT_STEP cpc: τ > 0. Default 0.5 / 1 (CPC scores are plain dot products). */
  temperature?: number;
  /** NEXT_STEP × SEQUENCE: 'mse' predicts the next frame, 'cpc' scores it against the batch with InfoNCE. */
  variant?: 'mse' | 'cpc';
  /** CONTRASTIVE projection head width. */
  projectionDim?: number;
  /**
   * CONTRASTIVE objective on the two views' projections: 'infonce' (NT-Xent, negatives from the batch; default) or
   * 'vicreg' (variance-invariance-covariance, no negatives: works with small batches).
   */
  objective?: 'infonce' | 'vicreg';
  /**
   * CONTRASTIVE × IMAGE / SEQUENCE: end the CNN / sequence encoder with one 'valid' conv that spans its whole output
   * map (a dense layer over the flattened map), so the embedding keeps where things are instead of averaging the
   * positions away. The trunk gets narrower so the cost stays close to the pooled encoder's. Default false.
   */
  spatialEmbedding?: boolean;
  /** MASKED × IMAGE patch edge in pixels (must divide height and width). Default: 7 if it divides both, else 4, 2, 1. */
  patchSize?: number;
}

/** Encoder families per pretext × modality; the first is the default. */
export const ENCODER_KINDS: Record<Pretext, Record<Modality, readonly EncoderKind[]>> = {
  MASKED: { TEXT: ['transformer'], IMAGE: ['cnn', 'mlp'], SEQUENCE: ['sequence'] },
  CONTRASTIVE: { TEXT: ['transformer', 'mlp'], IMAGE: ['cnn', 'mlp'], SEQUENCE: ['sequence', 'mlp'] },
  NEXT_STEP: { TEXT: ['sequence'], IMAGE: ['sequence'], SEQUENCE: ['sequence'] },
};

// The messages are the task constructors' own (tests and clients match on them). z.unknown() + refine rather than
// z.number(), which refuses ±Infinity with words of its own before the check could name the field.
const num = (v: unknown): v is number => typeof v === 'number';
const ratio = (hint: string) =>
  z.unknown().refine((v) => num(v) && v > 0 && v < 1, { error: (i) => `maskRatio must be in (0, 1); got ${String(i.input)}. ${hint}` });
const temperature = z.unknown().refine((v) => num(v) && v > 0 && Number.isFinite(v), { error: (i) => `temperature must be a finite number > 0; got ${String(i.input)}. Use e.g. 0.1–0.5.` });
const projectionDim = z.unknown().refine((v) => Number.isInteger(v) && (v as number) >= 1, { error: (i) => `projectionDim must be a positive integer; got ${String(i.input)}.` });
const variant = z.unknown().refine((v) => (NEXT_STEP_VARIANTS as readonly unknown[]).includes(v), {
  error: (i) => `Unsupported variant: "${String(i.input)}". Should be one of: ${NEXT_STEP_VARIANTS.join(', ')}.`,
});

// Options a pair does not use are accepted and ignored, as the task classes do.
const objective = z.unknown().refine((v) => v === 'infonce' || v === 'vicreg', { error: (i) => `Unsupported objective: "${String(i.input)}". Should be one of: infonce, vicreg.` });
const contrastive = z.looseObject({
  temperature: temperature.optional(), projectionDim: projectionDim.optional(), spatialEmbedding: z.boolean().optional(), objective: objective.optional(),
});
const nextFrames = z
  .looseObject({ variant: variant.optional(), temperature: z.unknown().optional() })
  .superRefine((o, ctx) => {
    // CPC scores with InfoNCE, so only then does τ matter (and get checked).
    if (o.variant === 'cpc' && o.temperature !== undefined) {
      const r = temperature.safeParse(o.temperature);
      if (!r.success) ctx.addIssue({ code: 'custom', path: ['temperature'], message: r.error.issues[0]!.message });
    }
  });

/** The options schema of each pretext × modality pair. */
export const TASK_OPTIONS: Record<Pretext, Record<Modality, z.ZodType>> = {
  MASKED: {
    TEXT: z.looseObject({ maskRatio: ratio('BERT uses 0.15.').optional() }),
    IMAGE: z.looseObject({ maskRatio: ratio('Masked image modelling typically hides 0.4–0.75 of the patches.').optional() }),
    SEQUENCE: z.looseObject({ maskRatio: ratio('Masked-frame modelling typically hides 0.15–0.5 of the steps.').optional() }),
  },
  CONTRASTIVE: { TEXT: contrastive, IMAGE: contrastive, SEQUENCE: contrastive },
  NEXT_STEP: { TEXT: z.looseObject({}), IMAGE: nextFrames, SEQUENCE: nextFrames },
};

/**
 * Checks a pretext × modality pair and its options; returns the encoder kinds it trains. Throws an Error with the
 * first problem (the same words the trainer's task constructors use).
 */
export function checkPretextSettings(pretext: Pretext, modality: Modality, options: TaskOptions = {}): readonly EncoderKind[] {
  if (!PRETEXTS.includes(pretext)) throw new Error(`Unsupported pretext: "${String(pretext)}". Should be one of: ${PRETEXTS.join(', ')}.`);
  const kinds = ENCODER_KINDS[pretext][modality];
  if (!kinds) throw new Error(`Unsupported modality: "${String(modality)}". Should be one of: TEXT, IMAGE, SEQUENCE.`);
  const r = TASK_OPTIONS[pretext][modality].safeParse(options);
  if (!r.success) throw new Error(r.error.issues[0]!.message);
  return kinds;
}
