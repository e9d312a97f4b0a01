// Every tenant-scoped operation, with a resource of tenant A to aim it at. Later issues add their operations
// here; tests/isolation/isolation.test.ts fails when a READER/MEMBER/ADMIN field is neither listed nor exempted.
import type { IsolationCase } from '../helpers/isolation';
import type { SeededTenant, TestPlatform } from '../helpers/platform';

async function ownKey(t: TestPlatform, owner: SeededTenant): Promise<{ id: string; prefix: string; name: string }> {
  const name = `victim-${Math.random().toString(36).slice(2)}`;
  const res = await t.exec(`mutation($n: String!) { createApiKey(input: { name: $n, role: READER }) { apiKey { id prefix } } }`, { n: name }, { key: owner.keys.ADMIN });
  const k = res.body.data!.createApiKey.apiKey as { id: string; prefix: string };
  return { ...k, name };
}

const keyRow = (t: TestPlatform, id: string) => t.platform.db.prisma.apiKey.findUniqueOrThrow({ where: { id } });

export const isolationCases: IsolationCase<any>[] = [
  {
    field: 'Mutation.revokeApiKey',
    setup: ownKey,
    query: `mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id name revokedAt } } }`,
    variables: (k) => ({ id: k.id }),
    snapshot: (t, k) => keyRow(t, k.id),
    secrets: (k) => [k.name, k.prefix],
  },
  {
    field: 'Query.apiKey',
    setup: ownKey,
    query: `query($id: ID!) { apiKey(id: $id) { id name prefix } }`,
    variables: (k) => ({ id: k.id }),
    snapshot: (t, k) => keyRow(t, k.id),
    secrets: (k) => [k.name, k.prefix],
  },
  {
    field: 'Query.apiKeys',
    expect: 'filtered',
    setup: ownKey,
    query: `query { apiKeys(includeRevoked: true) { id name prefix } }`,
    variables: () => ({}),
    snapshot: (t, k) => keyRow(t, k.id),
    secrets: (k) => [k.id, k.name, k.prefix],
  },
];

/**
 * Tenant-role fields that take no resource of another tenant, with the reason. They act on the caller's own
 * tenant by construction (the tenant comes from the key, never from an argument).
 */
export const notResourceScoped: Record<string, string> = {
  'Mutation.createApiKey': 'creates a key in the caller’s own tenant; no tenant or resource argument',
};
