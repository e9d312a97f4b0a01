// `pretext train` (server mode): creates an experiment on a READY dataset version and queues its first run.
import type { Command } from 'commander';
import { accelerator, int, num } from '../args';
import { CliError, clientOptionsFromEnv, gql } from '../client';
import { print } from '../output';

interface TrainOpts {
  datasetVersion?: string;
  evaluationDatasetVersion?: string;
  local?: boolean;
  data?: string;
  modality?: string;
  out?: string;
  limit?: number;
  pretext: string;
  encoder: string;
  name?: string;
  dim?: number;
  layers?: number;
  batchSize?: number;
  steps?: number;
  epochs?: number;
  learningRate?: number;
  checkpointEvery?: number;
  seed?: number;
  gpus?: number;
  accelerator?: string;
  timeout?: number;
  maxAttempts?: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('train')
    .description('Start an experiment on the server (or, with --local, train here on a file or folder without a server)')
    .option('--dataset-version <id>', 'READY dataset version to train on (server mode)')
    .option('--evaluation-dataset-version <id>', 'labeled version to evaluate the trained encoder on (server mode; for unlabeled training data)')
    .option('--local', 'train in this process on --data, without a server')
    .option('--data <file|dir>', 'with --local: a data file or benchmark data folder (train.* + test.*, IDX pairs, ...)')
    .option('--modality <modality>', 'with --local: TEXT, IMAGE or SEQUENCE')
    .option('--out <dir>', 'with --local: output folder (model + checkpoints; an existing one is resumed)')
    .option('--limit <n>', 'with --local: use at most N training rows', int('limit'))
    .requiredOption('--pretext <pretext>', 'MASKED, CONTRASTIVE or NEXT_STEP')
    .option('--encoder <kind>', 'encoder family: mlp, cnn, transformer or sequence (default: the platform recipe for the data\'s modality)')
    .option('--name <name>', 'experiment (and model) name')
    .option('--dim <n>', 'embedding width', int('dim'))
    .option('--layers <n>', 'encoder depth', int('layers'))
    .option('--batch-size <n>', 'batch size', int('batch-size'))
    .option('--steps <n>', 'optimizer steps', int('steps'))
    .option('--epochs <n>', 'passes over the data (when --steps is not given)', int('epochs'))
    .option('--learning-rate <x>', 'peak learning rate', num('learning-rate'))
    .option('--checkpoint-every <n>', 'checkpoint every N steps', int('checkpoint-every'))
    .option('--seed <n>', 'random seed', int('seed'))
    .option('--accelerator <cpu|gpu>', 'train on a CPU engine (default) or a GPU engine (fails if the trainer has none)', accelerator)
    .option('--gpus <n>', 'GPUs per task (accelerator gpu; default 1)', int('gpus'))
    .option('--timeout <seconds>', 'run timeout', int('timeout'))
    .option('--max-attempts <n>', 'attempts before the run FAILS', int('max-attempts'))
    .option('--json', 'machine-readable output')
    .action(async (o: TrainOpts) => {
      // --local pulls in the trainer (TensorFlow.js); server mode only talks GraphQL.
      if (o.local) return (await import('./train-local')).trainLocally(o);
      if (!o.datasetVersion) throw new CliError('--dataset-version is required (or use --local --data <path>)');
      if (!o.encoder && (o.dim !== undefined || o.layers !== undefined)) throw new CliError('--dim and --layers need --encoder (mlp, cnn, transformer or sequence); leave all three out for the platform recipe');
      const pick = <T extends object>(v: T) => Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined));
      const input = {
        ...(o.name ? { name: o.name } : {}),
        datasetVersionId: o.datasetVersion,
        ...(o.evaluationDatasetVersion ? { evaluationDatasetVersionId: o.evaluationDatasetVersion } : {}),
        pretext: o.pretext.toUpperCase(),
        // No --encoder: the platform's recipe for this modality × pretext.
        ...(o.encoder ? { encoder: pick({ kind: o.encoder, dim: o.dim, layers: o.layers }) } : {}),
        hyperparameters: pick({ batchSize: o.batchSize, steps: o.steps, epochs: o.epochs, learningRate: o.learningRate, checkpointEvery: o.checkpointEvery, seed: o.seed }),
        resources: pick({ gpus: o.gpus, timeoutSeconds: o.timeout, maxAttempts: o.maxAttempts }),
        ...(o.accelerator ? { accelerator: o.accelerator } : {}),
      };
      const data = await gql<{ createExperiment: { experiment: { id: string; name: string }; run: { id: string; status: string } } }>(
        clientOptionsFromEnv(),
        `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { experiment { id name } run { id status } } }`,
        { input },
      );
      const { experiment, run } = data.createExperiment;
      print(!!o.json, data.createExperiment, () =>
        [`Experiment ${experiment.name} (${experiment.id})`, `Run ${run.id}: ${run.status}`, `Watch it: pretext runs watch ${run.id}`].join('\n'),
      );
    });
}
