// The `pretext` command line. Each command group lives in its own file under commands/ and registers itself here.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { VERSION } from '../version';
import { CliError } from './client';
import * as bench from './commands/bench';
import * as dataset from './commands/dataset';
import * as finetune from './commands/finetune';
import * as key from './commands/key';
import * as models from './commands/models';
import * as serve from './commands/serve';
import * as tenant from './commands/tenant';
import * as train from './commands/train';
import * as runs from './commands/runs';

const COMMANDS: Array<{ register(program: Command): void }> = [serve, tenant, key, dataset, models, bench, train, finetune, runs];

export function buildProgram(): Command {
  const program = new Command('pretext')
    .version(VERSION)
    .description('Pretext: self-supervised learning as a service. Reads PRETEXT_URL and PRETEXT_API_KEY.')
    .exitOverride();
  for (const c of COMMANDS) c.register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof CliError || err instanceof ConfigError) {
      process.stderr.write(`pretext: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}
