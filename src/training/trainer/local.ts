import * as path from 'node:path';
import type { Row } from '../../ingest/types';
import { DirectoryCheckpointStore } from './checkpoint';
import type { TrainConfig } from './config';
import { train, type TrainerCallbacks } from './train';
import { writeModelArtifacts } from './artifacts';

export interface TrainLocalOptions extends TrainConfig {
  data: readonly Row[] | AsyncIterable<Row>;
  /** Model artifacts go to `<outDir>/model`, checkpoints to `<outDir>/checkpoints`. */
  outDir: string;
  epochs: number;
  callbacks?: TrainerCallbacks;
}

export interface TrainLocalResult {
  backend: string;
  steps: number;
  initialLoss: number;
  finalLoss: number;
  samplesPerSecond: number;
  /** Folder with spec.json, weights.{json,bin}, heads.{json,bin}, preprocess.json and (TEXT) tokenizer.json. */
  outputDir: string;
  /** kNN accuracy on the validation split when rows carry labels. */
  knnAccuracy: number | null;
  resumedFrom: number | null;
}

/** `pretext train --local`: trains on local rows, checkpoints under outDir (resuming when one exists), writes the model. */
export async function trainLocal(options: TrainLocalOptions): Promise<TrainLocalResult> {
  const { data, outDir, callbacks, ...config } = options;
  const result = await train(config, { data, callbacks, store: new DirectoryCheckpointStore(path.join(outDir, 'checkpoints')) });
  try {
    const modelDir = path.join(outDir, 'model');
    const seq = result.spec.input.kind === 'sequence' ? result.spec.input.length : undefined;
    await writeModelArtifacts(modelDir, {
      spec: result.spec,
      weights: result.model.getWeights(),
      heads: result.heads.exportWeights(),
      tokenizerJson: result.tokenizer?.toJSON(),
      preprocess: {
        modality: config.modality,
        pretext: config.pretext,
        ...(config.modality === 'TEXT' ? { maxLength: config.maxLength ?? 64 } : {}),
        ...(config.modality === 'TEXT' && config.pretext === 'NEXT_STEP' ? { tokenEmbedding: 'task/embed' } : {}),
        ...(config.modality === 'SEQUENCE' ? { sequenceLength: seq, normalization: result.normalization } : {}),
        ...(config.modality === 'IMAGE' && result.spec.input.kind === 'sequence' ? { imageAsRows: true } : {}),
      },
    });
    return {
      backend: result.backend,
      steps: result.steps,
      initialLoss: result.initialLoss,
      finalLoss: result.finalLoss,
      samplesPerSecond: result.samplesPerSecond,
      outputDir: modelDir,
      knnAccuracy: result.evaluation?.knnAccuracy ?? null,
      resumedFrom: result.resumedFrom,
    };
  } finally {
    result.model.dispose();
    result.heads.dispose();
  }
}
