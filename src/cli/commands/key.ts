// `pretext key create|list|revoke` (tenant ADMIN key in PRETEXT_API_KEY).
import type { Command } from 'commander';
import { CliError, clientOptionsFromEnv, gql } from '../client';
import { print, table } from '../output';

const ROLES = ['ADMIN', 'MEMBER', 'READER'];
const KEY_FIELDS = 'id name role prefix createdAt expiresAt revokedAt lastUsedAt';

export function register(program: Command): void {
  const key = program.command('key').description("Manage the tenant's API keys (ADMIN key required)");
  key
    .command('create <name>')
    .description('Create an API key and print its secret (shown once)')
    .option('--role <role>', `one of ${ROLES.join(', ')}`, 'MEMBER')
    .option('--expires-at <iso>', 'expiry timestamp (ISO-8601)')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { role: string; expiresAt?: string; json?: boolean }) => {
      const role = opts.role.toUpperCase();
      if (!ROLES.includes(role)) throw new CliError(`Unsupported role: "${opts.role}". Should be one of: ${ROLES.join(', ')}.`);
      const data = await gql<{ createApiKey: { apiKey: Record<string, unknown>; secret: string } }>(
        clientOptionsFromEnv(),
        `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { ${KEY_FIELDS} } secret } }`,
        { input: { name, role, ...(opts.expiresAt ? { expiresAt: opts.expiresAt } : {}) } },
      );
      print(!!opts.json, data.createApiKey, () => `Key ${String(data.createApiKey.apiKey.id)} (${role})\nSecret (shown once): ${data.createApiKey.secret}`);
    });
  key
    .command('list')
    .option('--all', 'include revoked keys')
    .option('--json', 'machine-readable output')
    .action(async (opts: { all?: boolean; json?: boolean }) => {
      const data = await gql<{ apiKeys: Array<Record<string, unknown>> }>(
        clientOptionsFromEnv(),
        `query($all: Boolean) { apiKeys(includeRevoked: $all) { ${KEY_FIELDS} } }`,
        { all: !!opts.all },
      );
      print(!!opts.json, data.apiKeys, () => table(data.apiKeys, ['id', 'name', 'role', 'prefix', 'createdAt', 'revokedAt', 'lastUsedAt']));
    });
  key
    .command('revoke <id>')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: { json?: boolean }) => {
      const data = await gql<{ revokeApiKey: { apiKey: { id: string; revokedAt: string } } }>(
        clientOptionsFromEnv(),
        `mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id revokedAt } } }`,
        { id },
      );
      print(!!opts.json, data.revokeApiKey.apiKey, () => `Revoked ${id} at ${data.revokeApiKey.apiKey.revokedAt}`);
    });
}
