// `pretext train --local`: trains on a local file or folder without a server (development and benchmarks) and
// prints { backend, steps, initialLoss, finalLoss, samplesPerSecond, outputDir }.
import path from 'node:path';
import { loadDatasetFromPath, MODALITIES, type Modality, type Row } from '../../ingest';
import { trainLocal } from '../../training/trainer';
import { CliError } from '../client';
import { print } from '../output';

export interface LocalTrainOptions {
  data?: string;
  modality?: string;
  pretext: string;
  encoder?: string;
  epochs?: number;
  steps?: number;
  batchSize?: number;
  dim?: number;
  layers?: number;
  learningRate?: number;
  seed?: number;
  limit?: number;
  out?: string;
  json?: boolean;
}

export async function trainLocally(o: LocalTrainOptions): Promise<void> {
  if (!o.data) throw new CliError('--local needs --data <file|dir>');
  const modality = (o.modality ?? '').toUpperCase() as Modality;
  if (!MODALITIES.includes(modality)) throw new CliError(`Unsupported modality: "${o.modality ?? ''}". Should be one of: ${MODALITIES.join(', ')}.`);
  const loaded = await loadDatasetFromPath(o.data, { modality });
  // Pretraining reads the unlabeled training rows; validation rows stay for the online kNN check.
  const rows: Row[] = [];
  for await (const r of loaded.rows) {
    if (r.split === 'test') continue;
    rows.push(r);
    if (o.limit && rows.length >= o.limit) break;
  }
  const outDir = path.resolve(o.out ?? path.join('.pretext', 'local-runs', `${modality.toLowerCase()}-${o.pretext.toLowerCase()}-${Date.now()}`));
  // The tokenizer binding writes progress to stdout; keep stdout for the one JSON document.
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => (process.stderr.write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
  let result;
  try {
    result = await trainLocal({
      data: rows,
      shape: loaded.shape,
      modality,
      pretext: o.pretext.toUpperCase() as never,
      ...(o.encoder ? { encoder: o.encoder as never } : {}),
      epochs: o.epochs ?? 1,
      ...(o.steps ? { steps: o.steps } : {}),
      batchSize: o.batchSize ?? 64,
      ...(o.dim ? { dim: o.dim } : {}),
      ...(o.layers ? { layers: o.layers } : {}),
      ...(o.learningRate ? { learningRate: o.learningRate } : {}),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      // Every core: data-parallel replicas on the CPU engines.
      workers: 'auto',
      outDir,
      callbacks: o.json
        ? {}
        : { onStep: (m) => void process.stderr.write(`\rstep ${m.step}/${m.totalSteps} loss ${m.loss.toFixed(4)} ${m.samplesPerSecond.toFixed(0)} samples/s   `) },
    });
  } catch (err) {
    throw new CliError((err as Error).message);
  } finally {
    process.stdout.write = write;
  }
  if (!o.json) process.stderr.write('\n');
  const out = {
    backend: result.backend,
    steps: result.steps,
    initialLoss: result.initialLoss,
    finalLoss: result.finalLoss,
    samplesPerSecond: result.samplesPerSecond,
    outputDir: result.outputDir,
    knnAccuracy: result.knnAccuracy,
    rows: rows.length,
  };
  print(!!o.json, out, () =>
    `Trained ${out.steps} steps on ${out.rows} rows (${out.backend}): loss ${out.initialLoss.toFixed(4)} → ${out.finalLoss.toFixed(4)}, ${out.samplesPerSecond.toFixed(0)} samples/s\nModel: ${out.outputDir}`,
  );
}
