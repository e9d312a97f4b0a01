// The request bucket, taken once per GraphQL operation of a tenant key (after parsing and validation, so malformed
// requests are refused without spending tokens). Inference inputs are taken by the model service, which knows the
// input count; the REST shim takes its request token itself.
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from './context';

export function rateLimitPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue }) {
          const p = contextValue.principal;
          if (p.kind === 'tenant') await contextValue.services.limits.consume(p.tenantId, 'requests', 1);
        },
        async willSendResponse({ errors, response }) {
          // Standard HTTP hint next to extensions.retryAfterSeconds, for clients and proxies that read only headers.
          const limited = errors?.find((e) => e.extensions?.code === 'RATE_LIMITED');
          const seconds = limited?.extensions?.retryAfterSeconds;
          if (typeof seconds === 'number') response.http.headers.set('retry-after', String(seconds));
        },
      };
    },
  };
}
