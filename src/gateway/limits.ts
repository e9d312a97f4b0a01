// Query limits with no hole: graphql-armor's depth/cost/alias/directive rules for ordinary queries, a depth rule of
// our own for introspection (armor skips `__schema` entirely, so a 50-deep `ofType` chain used to run), the parser's
// token limit, and the body-size rule that lets inference operations (and only those) carry larger bodies.
//
// Every limit rejection is a GraphQL validation error: `extensions.code = GRAPHQL_VALIDATION_FAILED`,
// `extensions.limit = { name, max }`, HTTP 400, and a message without armor's misleading "Syntax Error:" prefix.
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { GatewayContext } from './context';

export interface GatewayLimits {
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  maxTokens: number;
  /** Depth of introspection selections (`__schema`, `__type`), fragments flattened. */
  maxIntrospectionDepth: number;
  /** Largest body of an ordinary request. */
  maxBodyBytes: number;
  /** Largest body of a request whose every root field is an inference operation (embed, predict, similar). */
  maxInferenceBodyBytes: number;
}

/** Root fields allowed the larger inference body limit: they carry the inputs to embed or compare. */
export const INFERENCE_FIELDS: ReadonlySet<string> = new Set(['embed', 'predict', 'similar']);

const MAX_DIRECTIVES = 50;

export function limitError(name: string, max: number, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: { name, max } } });
}

/** Armor's own message, without the "Syntax Error: " it prefixes to every rejection (these are not syntax errors). */
const armorMessage = (err: GraphQLError) => err.message.replace(/^Syntax Error:\s*/, '');

function reject(name: string, max: number, setting: string) {
  return (ctx: ValidationContext | null, err: GraphQLError) => {
    ctx?.reportError(limitError(name, max, `${armorMessage(err)} Send a smaller query (limit ${setting} = ${max}).`));
  };
}

/** graphql-armor's rules, reporting through the validation context instead of throwing. */
export function armorProtection(limits: GatewayLimits, introspection: boolean) {
  const callbacks = (name: string, max: number, setting: string) => ({ propagateOnRejection: false, onReject: [reject(name, max, setting)] });
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ...callbacks('maxDepth', limits.maxDepth, 'GRAPHQL_MAX_DEPTH') },
    costLimit: { maxCost: limits.maxCost, ...callbacks('maxCost', limits.maxCost, 'GRAPHQL_MAX_COST') },
    maxAliases: { n: limits.maxAliases, ...callbacks('maxAliases', limits.maxAliases, 'GRAPHQL_MAX_ALIASES') },
    // Token limits are enforced by graphql-js's own parser (parseOptions): armor's token plugin re-parses in a
    // request hook and turns syntax errors into 500s.
    maxTokens: { enabled: false },
    maxDirectives: { n: MAX_DIRECTIVES, ...callbacks('maxDirectives', MAX_DIRECTIVES, 'a fixed maximum') },
    // Field suggestions ("Did you mean ...?") leak the schema when introspection is off.
    blockFieldSuggestion: { enabled: !introspection },
  });
  const protection = armor.protect();
  return { validationRules: [...protection.validationRules, introspectionDepthRule(limits.maxIntrospectionDepth)], plugins: protection.plugins };
}

const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

/**
 * Depth of every introspection selection, counted from its `__schema` / `__type` field with fragments flattened
 * (a spread adds no level), so the standard introspection query of GraphQL IDEs and codegen (depth 15) passes and
 * deeper `ofType` chains are refused. Fragment cycles are cut here (graphql-js reports them separately).
 */
export function introspectionDepthRule(max: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const depthOf = (set: SelectionSetNode | undefined, seen: ReadonlySet<string>): number => {
      let deepest = 0;
      for (const sel of set?.selections ?? []) {
        if (sel.kind === Kind.FIELD) deepest = Math.max(deepest, 1 + depthOf(sel.selectionSet, seen));
        else if (sel.kind === Kind.INLINE_FRAGMENT) deepest = Math.max(deepest, depthOf(sel.selectionSet, seen));
        else if (!seen.has(sel.name.value)) {
          const fragment: FragmentDefinitionNode | null | undefined = context.getFragment(sel.name.value);
          if (fragment) deepest = Math.max(deepest, depthOf(fragment.selectionSet, new Set([...seen, sel.name.value])));
        }
      }
      return deepest;
    };
    const check = (set: SelectionSetNode | undefined, seen: ReadonlySet<string>): number => {
      // Finds introspection roots anywhere in the operation (they may sit under aliases or fragments).
      let worst = 0;
      for (const sel of set?.selections ?? []) {
        if (sel.kind === Kind.FIELD) {
          worst = Math.max(worst, INTROSPECTION_ROOTS.has(sel.name.value) ? 1 + depthOf(sel.selectionSet, seen) : check(sel.selectionSet, seen));
        } else if (sel.kind === Kind.INLINE_FRAGMENT) worst = Math.max(worst, check(sel.selectionSet, seen));
        else if (!seen.has(sel.name.value)) {
          const fragment = context.getFragment(sel.name.value);
          if (fragment) worst = Math.max(worst, check(fragment.selectionSet, new Set([...seen, sel.name.value])));
        }
      }
      return worst;
    };
    return {
      OperationDefinition(node: OperationDefinitionNode) {
        const depth = check(node.selectionSet, new Set());
        if (depth > max) {
          context.reportError(
            limitError('maxIntrospectionDepth', max, `Introspection depth limit of ${max} exceeded, found ${depth}. Send a shallower introspection query (limit GRAPHQL_MAX_INTROSPECTION_DEPTH = ${max}).`),
          );
        }
      },
    };
  };
}

/** graphql-js's token-limit parse error, relabelled as the limit rejection it is. */
export function tokenLimitError(message: string, maxTokens: number): GraphQLError | null {
  // graphql-js 16 spells it "more that"; accept both.
  if (!/Document contains more tha[nt] \d+ tokens/.test(message)) return null;
  return limitError('maxTokens', maxTokens, `Query document has more than ${maxTokens} tokens. Send a smaller query, with inputs as variables (limit GRAPHQL_MAX_TOKENS = ${maxTokens}).`);
}

/** Root field names of an operation, through fragments. */
function rootFields(doc: DocumentNode, op: OperationDefinitionNode): string[] {
  const fragments = new Map(doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const out: string[] = [];
  const walk = (set: SelectionSetNode, seen: Set<string>) => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) out.push(sel.name.value);
      else if (sel.kind === Kind.INLINE_FRAGMENT) walk(sel.selectionSet, seen);
      else if (!seen.has(sel.name.value) && fragments.has(sel.name.value)) walk(fragments.get(sel.name.value)!.selectionSet, new Set([...seen, sel.name.value]));
    }
  };
  walk(op.selectionSet, new Set());
  return out;
}

export function bodyTooLargeError(bytes: number, max: number, why: string): GraphQLError {
  return new GraphQLError(`Request body of ${bytes} bytes exceeds ${max} bytes${why}`, {
    extensions: { code: 'BAD_USER_INPUT', limit: { name: 'maxBodyBytes', max }, http: { status: 413 } },
  });
}

/**
 * The transports accept bodies up to the inference limit; once the operation is known, anything but an inference
 * query (embed, predict, similar) over the ordinary limit is refused with 413 before it runs.
 */
export function bodyLimitPlugin(limits: GatewayLimits): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, document, operation }) {
          const bytes = contextValue.bodyBytes ?? 0;
          if (bytes <= limits.maxBodyBytes) return;
          if (!operation) throw bodyTooLargeError(bytes, limits.maxBodyBytes, ' (MAX_BODY_BYTES)');
          const fields = rootFields(document, operation).filter((f) => f !== '__typename');
          if (operation.operation === 'query' && fields.length > 0 && fields.every((f) => INFERENCE_FIELDS.has(f))) return;
          throw bodyTooLargeError(bytes, limits.maxBodyBytes, ` (MAX_BODY_BYTES); only embed, predict and similar queries accept up to ${limits.maxInferenceBodyBytes} bytes (MAX_INFERENCE_BODY_BYTES)`);
        },
      };
    },
  };
}
