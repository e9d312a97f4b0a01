// `pretext db create-runtime-role`: the one step that separates the gateway's database role from the tables' owner
// (README "Security"). Runs with the owner's URL; the password comes from an environment variable, never argv
// (argv is visible to every user of the host in `ps`).
import type { Command } from 'commander';
import { CliError } from '../client';

export function register(program: Command): void {
  const db = program.command('db').description('Database administration (owner credentials: DATABASE_MIGRATION_URL, else DATABASE_URL)');
  db
    .command('create-runtime-role')
    .description('Migrate, then create (or update) the LOGIN role the gateway runs as: member of pretext_runtime, owns nothing, no BYPASSRLS')
    .requiredOption('--name <role>', 'name of the login role, e.g. pretext_gateway')
    .option('--password-env <VAR>', 'environment variable holding its password (omit for certificate / IAM authentication)')
    .action(async (opts: { name: string; passwordEnv?: string }) => {
      const { loadConfig } = await import('../../config');
      const { createRuntimeRole } = await import('../../db/runtime-role');
      const database = loadConfig().database;
      if (database.kind !== 'postgres') throw new CliError('db create-runtime-role needs a Postgres server: set DATABASE_MIGRATION_URL (or DATABASE_URL) to the owner\'s URL');
      let password: string | undefined;
      if (opts.passwordEnv !== undefined) {
        password = process.env[opts.passwordEnv];
        if (!password) throw new CliError(`${opts.passwordEnv} is not set or empty`);
      }
      const ownerUrl = database.migrationUrl ?? database.url;
      const { created } = await createRuntimeRole(ownerUrl, { name: opts.name, ...(password !== undefined ? { password } : {}) }).catch((err: Error) => {
        throw new CliError(err.message);
      });
      process.stdout.write(`${created ? 'Created' : 'Updated'} runtime role ${opts.name}. Run the gateway with DATABASE_URL connecting as ${opts.name} and DATABASE_MIGRATION_URL as the owner.\n`);
    });
}
