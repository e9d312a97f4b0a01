// Every Query/Mutation field must declare who may call it, and the declared rule must be what the running
// resolver enforces. Walks schema.graphql and the real resolver map the server uses.
import { parse } from 'graphql';
import { assertAllFieldsHaveRules, checkAccess, readAccessRules, withAccessRules } from '../../src/gateway/access';
import { loadTypeDefs } from '../../src/gateway/apollo';
import type { AccessRule } from '../../src/gateway/generated/resolvers';
import { mergeResolvers } from '../../src/gateway/resolvers';
import type { Principal } from '../../src/modules/auth/principal';

const principals: Record<string, Principal> = {
  anonymous: { kind: 'anonymous' },
  operator: { kind: 'operator' },
  READER: { kind: 'tenant', tenantId: 't', apiKeyId: 'k', role: 'READER' },
  MEMBER: { kind: 'tenant', tenantId: 't', apiKeyId: 'k', role: 'MEMBER' },
  ADMIN: { kind: 'tenant', tenantId: 't', apiKeyId: 'k', role: 'ADMIN' },
};

/** Who may pass each rule; everyone else must be refused. */
const allowed: Record<AccessRule, string[]> = {
  PUBLIC: ['anonymous', 'operator', 'READER', 'MEMBER', 'ADMIN'],
  AUTHENTICATED: ['operator', 'READER', 'MEMBER', 'ADMIN'],
  OPERATOR: ['operator'],
  READER: ['READER', 'MEMBER', 'ADMIN'],
  MEMBER: ['MEMBER', 'ADMIN'],
  ADMIN: ['ADMIN'],
};

function errorCode(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return String((err as { extensions?: { code?: string } }).extensions?.code);
  }
}

describe('access rules', () => {
  const rules = readAccessRules(parse(loadTypeDefs()));

  test('every Query and Mutation field in schema.graphql declares an @access rule', () => {
    const missing = [...rules].filter(([, r]) => r === null).map(([f]) => f);
    expect(missing).toEqual([]);
    expect(rules.size).toBeGreaterThan(0);
  });

  test('a field without a rule stops start-up', () => {
    const doc = parse('type Query { ok: String @access(rule: PUBLIC) bare: String }');
    expect(() => assertAllFieldsHaveRules(readAccessRules(doc))).toThrow(/Query\.bare/);
  });

  test.each(Object.keys(allowed) as AccessRule[])('rule %s admits exactly its principals', (rule) => {
    for (const [name, p] of Object.entries(principals)) {
      const code = errorCode(() => checkAccess(rule, p));
      if (allowed[rule].includes(name)) expect(code).toBeNull();
      else expect(code).toBe(name === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN');
    }
  });

  test('every root resolver the server runs is wrapped with its declared rule', () => {
    const wrapped = withAccessRules(mergeResolvers() as Record<string, unknown>, rules) as Record<string, Record<string, Function>>;
    let checked = 0;
    for (const [field, rule] of rules) {
      const [type, name] = field.split('.') as [string, string];
      const fn = wrapped[type]?.[name];
      expect({ field, hasResolver: typeof fn === 'function' }).toEqual({ field, hasResolver: true });
      for (const [who, p] of Object.entries(principals)) {
        if (allowed[rule!].includes(who)) continue;
        // A refused caller must be stopped before the resolver body runs (so the body is never reached here).
        const code = errorCode(() => fn!({}, {}, { principal: p, services: new Proxy({}, { get: () => { throw new Error(`${field} body ran for ${who}`); } }) }, {}));
        expect({ field, who, code }).toEqual({ field, who, code: who === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN' });
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  test('a resolver for a field with no rule is refused when wrapping', () => {
    expect(() => withAccessRules({ Query: { sneaky: () => 1 } }, new Map())).toThrow(/sneaky/);
  });
});
