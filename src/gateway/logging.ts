// One log line per GraphQL operation with request id, tenant and operation name; unexpected errors logged with
// their stack (which never reaches clients outside development).
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from './context';

export function loggingPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart(rc) {
      const started = process.hrtime.bigint();
      return {
        async didEncounterErrors(erc) {
          for (const err of erc.errors) {
            const code = err.extensions?.code;
            if (code === undefined || code === 'INTERNAL' || code === 'INTERNAL_SERVER_ERROR') {
              erc.contextValue.log.error({ err: err.originalError ?? err, path: err.path }, 'unexpected error');
            }
          }
        },
        async willSendResponse(wrc) {
          const ctx = rc.contextValue;
          const p = ctx.principal;
          ctx.log.info(
            {
              operation: wrc.operationName ?? null,
              tenantId: p.kind === 'tenant' ? p.tenantId : null,
              apiKeyId: p.kind === 'tenant' ? p.apiKeyId : null,
              durationMs: Number(process.hrtime.bigint() - started) / 1e6,
              errors: wrc.errors?.map((e) => e.extensions?.code ?? 'INTERNAL'),
            },
            'graphql',
          );
        },
      };
    },
  };
}
