// The Apollo Server shared by every transport (HTTP server and Lambda): schema, access rules, limits, error
// masking, metrics and logging are configured here once.
import fs from 'node:fs';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { unwrapResolverError } from '@apollo/server/errors';
import { parse, type GraphQLFormattedError } from 'graphql';
import { AppError, ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { storageUnavailableIn } from '../storage/types';
import { PROJECT_ROOT } from '../version';
import { DATABASE_RETRY_AFTER_SECONDS, databaseUnavailable, isDatabaseUnavailable } from './database-outage';
import { assertAllFieldsHaveRules, readAccessRules, withAccessRules } from './access';
import type { GatewayContext } from './context';
import { armorProtection, bodyLimitPlugin, tokenLimitError, type GatewayLimits } from './limits';
import { loggingPlugin } from './logging';
import { rateLimitPlugin } from './rate-limit';
import type { GatewayMetrics } from './metrics';
import { mergeResolvers } from './resolvers';

export const SCHEMA_PATH = path.join(PROJECT_ROOT, 'schema.graphql');

/** Codes graphql-js and Apollo assign to malformed requests; clients may see them as they are. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);
const APP_CODES = new Set<string>(Object.values(ErrorCode));
/** What an UNAVAILABLE answer suggests: long enough for a restarted store to come back, short enough to feel live. */
const STORAGE_RETRY_AFTER_SECONDS = 5;

export function loadTypeDefs(): string {
  return fs.readFileSync(SCHEMA_PATH, 'utf8');
}

export type { GatewayLimits } from './limits';

export function createApolloServer(opts: {
  env: 'development' | 'production' | 'test';
  introspection: boolean;
  limits: GatewayLimits;
  metrics: GatewayMetrics;
  log: Logger;
}): ApolloServer<GatewayContext> {
  const typeDefs = loadTypeDefs();
  const rules = readAccessRules(parse(typeDefs));
  assertAllFieldsHaveRules(rules);
  const protection = armorProtection(opts.limits, opts.introspection);
  const dev = opts.env === 'development';

  return new ApolloServer<GatewayContext>({
    typeDefs,
    resolvers: withAccessRules(mergeResolvers() as Record<string, unknown>, rules) as never,
    introspection: opts.introspection,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: dev,
    allowBatchedHttpRequests: false,
    parseOptions: { maxTokens: opts.limits.maxTokens },
    validationRules: protection.validationRules,
    // Automatic persisted queries are on (Apollo's default, in its bounded in-memory cache): a client may send only
    // the query's sha256 once the server has seen it; a hash that does not match the query sent is refused.
    persistedQueries: {},
    // No field sets cache hints, so the cache-control plugin's per-field hook is pure overhead (docs/serving.md).
    plugins: [...protection.plugins, bodyLimitPlugin(opts.limits), rateLimitPlugin(), opts.metrics.plugin, loggingPlugin(), ApolloServerPluginCacheControlDisabled()],
    formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
      const original = unwrapResolverError(error);
      const code = String(formatted.extensions?.code ?? '');
      if (code === 'GRAPHQL_PARSE_FAILED') {
        const limit = tokenLimitError(formatted.message, opts.limits.maxTokens);
        if (limit) return { message: limit.message, extensions: limit.extensions };
      }
      if (original instanceof AppError || APP_CODES.has(code) || REQUEST_ERROR_CODES.has(code)) {
        if (dev) return formatted;
        const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
        return { ...formatted, extensions };
      }
      // An object-store outage is not a bug: the client gets a typed, retryable error instead of INTERNAL.
      const outage = storageUnavailableIn(original);
      if (outage) {
        return {
          message: outage.message,
          ...(formatted.path ? { path: formatted.path } : {}),
          extensions: { code: ErrorCode.UNAVAILABLE, retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS, operation: outage.operation, attempts: outage.attempts },
        };
      }
      // So is a database restart or failover (connection refused or terminated): retryable, not INTERNAL.
      if (isDatabaseUnavailable(original) || isDatabaseUnavailable(error)) {
        const typed = databaseUnavailable();
        return { message: typed.message, ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: typed.code, retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS, dependency: 'database' } };
      }
      // Request-level refusals Apollo raises without a code but with a 4xx status (an APQ hash that does not match
      // its query) are the client's mistake, not an outage: they keep their message, typed BAD_REQUEST.
      const status = (error as { extensions?: { http?: { status?: number } } } | null)?.extensions?.http?.status;
      if (!formatted.path && status !== undefined && status >= 400 && status < 500) {
        const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
        return { ...formatted, extensions: { ...(dev ? extensions : {}), code: 'BAD_REQUEST' } };
      }
      // Anything else is a bug or an outage: the client gets a code, the log gets the details.
      return {
        message: 'Internal server error',
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: ErrorCode.INTERNAL, ...(dev ? { detail: formatted.message, stacktrace: formatted.extensions?.stacktrace } : {}) },
      };
    },
  });
}
