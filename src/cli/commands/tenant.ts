// `pretext tenant create <name>` (platform operator key in PRETEXT_API_KEY).
import type { Command } from 'commander';
import { clientOptionsFromEnv, gql } from '../client';
import { print } from '../output';

export function register(program: Command): void {
  const tenant = program.command('tenant').description('Manage tenants (platform operator key required)');
  tenant
    .command('create <name>')
    .description('Create a tenant and print its first ADMIN key (shown once)')
    .option('--quota-bytes <bytes>', 'storage quota in bytes')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { quotaBytes?: string; json?: boolean }) => {
      const data = await gql<{ createTenant: { tenant: { id: string; name: string }; adminKey: string } }>(
        clientOptionsFromEnv(),
        `mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id name createdAt } adminKey } }`,
        { input: { name, ...(opts.quotaBytes ? { storageQuotaBytes: opts.quotaBytes } : {}) } },
      );
      print(!!opts.json, data.createTenant, () =>
        [`Tenant ${data.createTenant.tenant.name} (${data.createTenant.tenant.id})`, `ADMIN key (shown once): ${data.createTenant.adminKey}`].join('\n'),
      );
    });
}
