// The `pretext` command line. Each command group lives in its own file under commands/ and registers itself here.
//
// Start-up time is part of the interface: `pretext --help` or `pretext models list` must not pay for TensorFlow.js,
// ONNX Runtime, Prisma or the AWS SDK. So the program loads only the command module the arguments name; every other
// top-level command is registered as a stub (usage + description) that only feeds the top-level help. The stubs'
// text is checked against the real registrations in tests/cli/startup.test.ts.
import { Command, CommanderError, Help } from 'commander';
import { VERSION } from '../version';
import { CliError } from './client';

interface CommandModule { register(program: Command): void }

interface Entry {
  /** The top-level commands the module registers: name, help term (as commander prints it) and description. */
  commands: Array<{ term: string; description: string }>;
  load(): CommandModule;
}

// `require` (not a static import) is the point: a module is read only when its command runs.
export const COMMANDS: Entry[] = [
  {
    commands: [{ term: 'serve [options]', description: 'Run the Pretext gateway (embedded PGlite + local object store unless DATABASE_URL / S3_BUCKET are set)' }],
    load: () => require('./commands/serve') as CommandModule,
  },
  {
    commands: [{ term: 'db', description: 'Database administration (owner credentials: DATABASE_MIGRATION_URL, else DATABASE_URL)' }],
    load: () => require('./commands/db') as CommandModule,
  },
  {
    commands: [{ term: 'tenant', description: 'Manage tenants (platform operator key required)' }],
    load: () => require('./commands/tenant') as CommandModule,
  },
  {
    commands: [{ term: 'key', description: "Manage the tenant's API keys (ADMIN key required)" }],
    load: () => require('./commands/key') as CommandModule,
  },
  {
    commands: [{ term: 'dataset', description: 'Create, upload and inspect datasets' }],
    load: () => require('./commands/dataset') as CommandModule,
  },
  {
    commands: [
      { term: 'models', description: 'The model registry' },
      { term: 'embed [options] <model> <inputs...>', description: 'Embed inputs: plain text, @image.png, @sequence.json (time steps × features) or @file.txt' },
      { term: 'similar [options] <model> <datasetVersionId> <query>', description: 'Nearest rows of an embedded dataset version (see createEmbeddingSpace) to a query (text, @image.png, @sequence.json)' },
      { term: 'predict [options] <model> <inputs...>', description: 'Predictions of a fine-tuned model: plain text, @image.png, @sequence.json or @file.txt' },
      { term: 'eval [options] <model>', description: "Show a model version's evaluation report (held-out split); <model> is a version id or name[@alias|@vN]" },
    ],
    load: () => require('./commands/models') as CommandModule,
  },
  {
    commands: [{ term: 'bench [options] <name>', description: 'Run a benchmark (ingest, train, embed, label-efficiency, cli) and print its JSON result' }],
    load: () => require('./commands/bench') as CommandModule,
  },
  {
    commands: [{ term: 'train [options]', description: 'Start an experiment on the server (or, with --local, train here on a file or folder without a server)' }],
    load: () => require('./commands/train') as CommandModule,
  },
  {
    commands: [{ term: 'finetune [options]', description: 'Fine-tune a model version on a labeled dataset version (a FINETUNE run → a new version with a prediction head)' }],
    load: () => require('./commands/finetune') as CommandModule,
  },
  {
    commands: [{ term: 'runs', description: 'Training runs: list, show, watch, cancel' }],
    load: () => require('./commands/runs') as CommandModule,
  },
];

const nameOf = (term: string) => term.split(' ')[0]!;

/** The top-level command an argument vector names (`pretext help <cmd>` names <cmd>), if any. */
function invokedCommand(argv: readonly string[]): string | undefined {
  const args = argv.slice(2).filter((a) => !a.startsWith('-'));
  return args[0] === 'help' ? args[1] : args[0];
}

/**
 * The program. Without `argv` every command is fully registered (tests drive it in-process); with it only the module
 * of the command the arguments name is loaded, and the rest are help-only stubs.
 */
export function buildProgram(argv?: readonly string[]): Command {
  const program = new Command('pretext')
    .version(VERSION)
    .description('Pretext: self-supervised learning as a service. Reads PRETEXT_URL and PRETEXT_API_KEY.')
    .exitOverride();
  const invoked = argv ? invokedCommand(argv) : undefined;
  const stubTerms = new Map<Command, string>();
  for (const entry of COMMANDS) {
    if (!argv || entry.commands.some((c) => nameOf(c.term) === invoked)) {
      entry.load().register(program);
      continue;
    }
    for (const c of entry.commands) stubTerms.set(program.command(nameOf(c.term)).description(c.description), c.term);
  }
  // A stub has no options or arguments of its own, so help prints the term the real command would have.
  const help = new Help();
  if (stubTerms.size) program.configureHelp({ subcommandTerm: (cmd) => stubTerms.get(cmd) ?? help.subcommandTerm(cmd) });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram(argv).parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    // config (and zod with it) is loaded only by commands that read settings, and so only here on their errors.
    if (err instanceof CliError || (err instanceof Error && err.name === 'ConfigError' && err instanceof (require('../config') as typeof import('../config')).ConfigError)) {
      process.stderr.write(`pretext: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}
