// Prometheus metrics for the gateway: requests, latency and errors by operation. One registry per platform
// instance (so tests and multiple servers in a process never collide on the global registry).
import type { ApolloServerPlugin } from '@apollo/server';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { GatewayContext } from './context';

export interface GatewayMetrics {
  registry: Registry;
  plugin: ApolloServerPlugin<GatewayContext>;
  /** Records one rate-limit decision (bucket: requests | inference). */
  observeRateLimit(bucket: string, allowed: boolean, cost: number): void;
}

export function createGatewayMetrics(opts: { defaultMetrics: boolean }): GatewayMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'pretext_graphql_requests_total',
    help: 'GraphQL operations handled, by operation name and type',
    labelNames: ['operation', 'type'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'pretext_graphql_errors_total',
    help: 'GraphQL errors returned, by operation name and error code',
    labelNames: ['operation', 'code'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'pretext_graphql_request_duration_seconds',
    help: 'GraphQL operation latency in seconds, by operation name',
    labelNames: ['operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  // Labelled by bucket and outcome only: tenant ids would make the series count grow with the customer base.
  const rateDecisions = new Counter({
    name: 'pretext_rate_limit_decisions_total',
    help: 'Rate-limit decisions, by bucket (requests, inference) and outcome (allowed, limited)',
    labelNames: ['bucket', 'outcome'] as const,
    registers: [registry],
  });
  const rateTokens = new Counter({
    name: 'pretext_rate_limit_tokens_total',
    help: 'Tokens asked of rate-limit buckets (requests, or inference inputs), by bucket and outcome',
    labelNames: ['bucket', 'outcome'] as const,
    registers: [registry],
  });

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      const end = latency.startTimer();
      return {
        async willSendResponse(rc) {
          // Anonymous or unparseable operations are bucketed rather than labelled by client-chosen strings.
          const operation = rc.operationName ?? (rc.operation ? 'anonymous' : 'invalid');
          requests.inc({ operation, type: rc.operation?.operation ?? 'unknown' });
          for (const e of rc.errors ?? []) errors.inc({ operation, code: String(e.extensions?.code ?? 'INTERNAL') });
          end({ operation });
        },
      };
    },
  };
  return {
    registry,
    plugin,
    observeRateLimit(bucket, allowed, cost) {
      const outcome = allowed ? 'allowed' : 'limited';
      rateDecisions.inc({ bucket, outcome });
      rateTokens.inc({ bucket, outcome }, cost);
    },
  };
}
