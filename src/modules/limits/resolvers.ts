// Thin GraphQL resolvers for tenant rate limits.
import type { Resolvers } from '../../gateway/generated/resolvers';

export const limitResolvers: Resolvers = {
  Mutation: {
    setTenantLimits: (_p, { input }, ctx) => ctx.services.limits.setTenantLimits(ctx.principal, input),
  },
  Tenant: {
    limits: (tenant, _a, ctx) => ctx.services.limits.limitsOf(tenant),
  },
};
