// Tenant isolation: every tenant-scoped operation is aimed at another tenant's resource with each of this
// tenant's keys, and must be refused without leaking or changing anything. Real server, real database.
import { parse } from 'graphql';
import { readAccessRules } from '../../src/gateway/access';
import { loadTypeDefs } from '../../src/gateway/apollo';
import { assertIsolated } from '../helpers/isolation';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { isolationCases, notResourceScoped } from './cases';

describe('tenant isolation', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform('http');
  });
  afterAll(async () => {
    await t?.close();
  });

  test('every tenant-role operation is covered by the harness or exempted with a reason', () => {
    const rules = readAccessRules(parse(loadTypeDefs()));
    const tenantFields = [...rules].filter(([, r]) => r === 'READER' || r === 'MEMBER' || r === 'ADMIN').map(([f]) => f);
    const covered = new Set([...isolationCases.map((c) => c.field), ...Object.keys(notResourceScoped)]);
    expect(tenantFields.filter((f) => !covered.has(f))).toEqual([]);
  });

  test.each(isolationCases.map((c, i) => [`${c.field} #${i}`, c] as const))('%s', async (_name, c) => {
    await assertIsolated(t, c);
  });

  test('the harness catches a leak (a case aimed at the foreign tenant’s own resource fails)', async () => {
    // Sanity check of the harness itself: a "resource" every tenant can see must be reported as a leak.
    await expect(
      assertIsolated(t, {
        field: 'Query.version',
        setup: async () => 'v',
        query: '{ version }',
        variables: () => ({}),
        snapshot: async () => 0,
        secrets: () => [],
      }),
    ).rejects.toThrow(/instead of NOT_FOUND\/FORBIDDEN/);
  });
});
