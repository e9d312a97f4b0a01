// `pretext finetune`: queues a FINETUNE run on a model version and a labeled dataset version; with --wait, follows
// it to the end and prints the new version and its evaluation report.
import type { Command } from 'commander';
import { accelerator, defined, int, intList, num } from '../args';
import { CliError, clientOptionsFromEnv, gql } from '../client';
import { print } from '../output';
import { TERMINAL } from './runs';

interface FineTuneOpts {
  model: string;
  datasetVersion: string;
  task: string;
  mode: string;
  labelFraction?: number;
  epochs?: number;
  maxSteps?: number;
  batchSize?: number;
  learningRate?: number;
  weightDecay?: number;
  headHidden?: number[];
  outputs?: number;
  validationFraction?: number;
  augment?: boolean;
  selfTraining?: boolean;
  seed?: number;
  name?: string;
  gpus?: number;
  accelerator?: string;
  timeout?: number;
  maxAttempts?: number;
  wait?: boolean;
  json?: boolean;
}

interface RunState {
  id: string;
  status: string;
  progress: number;
  error: string | null;
  model: { modelId: string; modelVersionId: string; name: string; version: number } | null;
}

export function register(program: Command): void {
  program
    .command('finetune')
    .description('Fine-tune a model version on a labeled dataset version (a FINETUNE run → a new version with a prediction head)')
    .requiredOption('--model <ref>', 'base model: version id, model id, name, name@alias or name@v3')
    .requiredOption('--dataset-version <id>', 'READY labeled dataset version (train split trains, test split evaluates)')
    .requiredOption('--task <task>', 'classification or regression')
    .option('--mode <mode>', 'linear_probe, mlp_head or full', 'full')
    .option('--label-fraction <f>', 'share of the labeled train rows to use (0 < f ≤ 1)', num('label-fraction'))
    .option('--epochs <n>', 'passes over the labeled rows', int('epochs'))
    .option('--max-steps <n>', 'optimizer step cap', int('max-steps'))
    .option('--batch-size <n>', 'batch size', int('batch-size'))
    .option('--learning-rate <x>', 'peak learning rate', num('learning-rate'))
    .option('--weight-decay <x>', 'AdamW weight decay', num('weight-decay'))
    .option('--head-hidden <widths>', 'hidden widths of the head, e.g. 256,128', intList('head-hidden'))
    .option('--outputs <n>', 'regression: values per label', int('outputs'))
    .option('--validation-fraction <f>', 'share held out for early stopping', num('validation-fraction'))
    .option('--augment', 'full mode: train on mild label-preserving views of the labeled rows')
    .option('--self-training', 'full classification: then pseudo-label the rows without labels and fine-tune again on both')
    .option('--seed <n>', 'random seed (label subset, init, batch order)', int('seed'))
    .option('--name <name>', 'register the new version under this model instead of the base model')
    .option('--accelerator <cpu|gpu>', 'train on a CPU engine (default) or a GPU engine (fails if the trainer has none)', accelerator)
    .option('--gpus <n>', 'GPUs per task (accelerator gpu; default 1)', int('gpus'))
    .option('--timeout <seconds>', 'run timeout', int('timeout'))
    .option('--max-attempts <n>', 'attempts before the run FAILS', int('max-attempts'))
    .option('--wait', 'follow the run to the end and print the new version')
    .option('--json', 'machine-readable output')
    .action(async (o: FineTuneOpts) => {
      const opts = clientOptionsFromEnv();
      const input = {
        model: o.model,
        datasetVersionId: o.datasetVersion,
        task: o.task.toUpperCase(),
        mode: o.mode.toUpperCase(),
        ...defined({ labelFraction: o.labelFraction, name: o.name }),
        hyperparameters: defined({
          epochs: o.epochs, maxSteps: o.maxSteps, batchSize: o.batchSize, learningRate: o.learningRate, weightDecay: o.weightDecay,
          headHidden: o.headHidden, outputs: o.outputs, validationFraction: o.validationFraction, augment: o.augment, selfTraining: o.selfTraining, seed: o.seed,
        }),
        resources: defined({ gpus: o.gpus, timeoutSeconds: o.timeout, maxAttempts: o.maxAttempts }),
        ...(o.accelerator ? { accelerator: o.accelerator } : {}),
      };
      const created = await gql<{ createFineTune: { id: string; status: string; baseModelVersionId: string } }>(
        opts,
        `mutation($i: CreateFineTuneInput!) { createFineTune(input: $i) { id status baseModelVersionId } }`,
        { i: input },
      );
      const run = created.createFineTune;
      if (!o.wait) {
        print(!!o.json, run, () => [`Run ${run.id}: ${run.status} (FINETUNE of ${run.baseModelVersionId})`, `Watch it: pretext runs watch ${run.id}`].join('\n'));
        return;
      }
      let state: RunState;
      for (;;) {
        state = (await gql<{ run: RunState }>(opts, `query($id: ID!) { run(id: $id) { id status progress error model { modelId modelVersionId name version } } }`, { id: run.id })).run;
        if (TERMINAL.has(state.status)) break;
        if (!o.json) process.stderr.write(`\r${state.status} ${(state.progress * 100).toFixed(0)}%   `);
        await new Promise((r) => setTimeout(r, 1000));
      }
      if (!o.json) process.stderr.write('\n');
      if (state.status !== 'SUCCEEDED' || !state.model) throw new CliError(`Run ${run.id} ${state.status}${state.error ? `: ${state.error}` : ''}`);
      const v = (
        await gql<{ modelVersion: { id: string; version: number; head: unknown; evaluation: Record<string, unknown> | null } }>(
          opts,
          `query($id: ID!) { modelVersion(id: $id) { id version head evaluation } }`,
          { id: state.model.modelVersionId },
        )
      ).modelVersion;
      print(!!o.json, { run: state, modelVersion: v }, () =>
        [
          `Run ${run.id}: SUCCEEDED → ${state.model!.name} v${v.version} (${v.id})`,
          ...Object.entries(v.evaluation ?? {})
            .filter(([, x]) => typeof x === 'number')
            .map(([k, x]) => `  ${k}: ${Number.isInteger(x) ? x : (x as number).toFixed(4)}`),
          `Predict with it: pretext predict ${state.model!.name}@v${v.version} <input>`,
        ].join('\n'),
      );
    });
}
