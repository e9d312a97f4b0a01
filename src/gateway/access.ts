// Declared access rules (@access on every Query/Mutation field in schema.graphql), enforced in one place: each
// root resolver is wrapped with its rule before the server starts, and a field without a rule stops start-up.
import { Kind, type DocumentNode, type ObjectTypeDefinitionNode, type ObjectTypeExtensionNode } from 'graphql';
import { forbidden, unauthenticated } from '../errors';
import { roleAtLeast, type Principal } from '../modules/auth/principal';
import type { AccessRule } from './generated/resolvers';

const ROOTS = new Set(['Query', 'Mutation', 'Subscription']);
const RULES: readonly AccessRule[] = ['PUBLIC', 'AUTHENTICATED', 'OPERATOR', 'READER', 'MEMBER', 'ADMIN'];

/** `Type.field` → rule, or null where a root field declares none. */
export function readAccessRules(doc: DocumentNode): Map<string, AccessRule | null> {
  const out = new Map<string, AccessRule | null>();
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const type = def as ObjectTypeDefinitionNode | ObjectTypeExtensionNode;
    if (!ROOTS.has(type.name.value)) continue;
    for (const field of type.fields ?? []) {
      const directive = field.directives?.find((d) => d.name.value === 'access');
      const arg = directive?.arguments?.find((a) => a.name.value === 'rule');
      const value = arg?.value.kind === Kind.ENUM ? (arg.value.value as AccessRule) : null;
      out.set(`${type.name.value}.${field.name.value}`, value && RULES.includes(value) ? value : null);
    }
  }
  return out;
}

export function assertAllFieldsHaveRules(rules: Map<string, AccessRule | null>): void {
  const missing = [...rules].filter(([, r]) => r === null).map(([f]) => f);
  if (missing.length) throw new Error(`These fields declare no @access rule: ${missing.join(', ')}. Add @access(rule: ...) in schema.graphql.`);
}

export function checkAccess(rule: AccessRule, p: Principal): void {
  if (rule === 'PUBLIC') return;
  if (p.kind === 'anonymous') throw unauthenticated();
  switch (rule) {
    case 'AUTHENTICATED':
      return;
    case 'OPERATOR':
      if (p.kind !== 'operator') throw forbidden('This operation needs the platform operator key');
      return;
    case 'READER':
    case 'MEMBER':
    case 'ADMIN':
      if (p.kind !== 'tenant') throw forbidden(`This operation needs a tenant key with role ${rule} or higher`);
      if (!roleAtLeast(p.role, rule)) throw forbidden(`This operation needs role ${rule} or higher; this key has role ${p.role}`);
      return;
  }
}

type AnyResolver = (parent: unknown, args: unknown, ctx: { principal: Principal }, info: unknown) => unknown;

/** Returns resolvers whose root fields check their rule first. */
export function withAccessRules<R extends Record<string, unknown>>(resolvers: R, rules: Map<string, AccessRule | null>): R {
  const out: Record<string, unknown> = { ...resolvers };
  for (const root of ROOTS) {
    const fields = resolvers[root] as Record<string, AnyResolver> | undefined;
    if (!fields) continue;
    const wrapped: Record<string, AnyResolver> = {};
    for (const [name, fn] of Object.entries(fields)) {
      const rule = rules.get(`${root}.${name}`);
      if (!rule) throw new Error(`Resolver ${root}.${name} has no @access rule in schema.graphql`);
      wrapped[name] = (parent, args, ctx, info) => {
        checkAccess(rule, ctx.principal);
        return fn(parent, args, ctx, info);
      };
    }
    out[root] = wrapped;
  }
  return out as R;
}
