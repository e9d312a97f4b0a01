// `viewer`: who the caller is.
import type { Resolvers } from '../../gateway/generated/resolvers';

export const authResolvers: Resolvers = {
  Query: {
    viewer: async (_p, _a, ctx) => {
      const p = ctx.principal;
      if (p.kind !== 'tenant') return { tenant: null, apiKey: null, isOperator: p.kind === 'operator' };
      const [tenant, apiKey] = await Promise.all([ctx.services.tenants.get(p.tenantId), ctx.services.apiKeys.self(p)]);
      return { tenant, apiKey, isOperator: false };
    },
  },
};
