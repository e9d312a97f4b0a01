// Thin GraphQL resolvers for tenants: arguments in, service call, result out.
import type { Resolvers } from '../../gateway/generated/resolvers';

export const tenantResolvers: Resolvers = {
  Query: {
    tenants: async (_p, args, ctx) => {
      const page = await ctx.services.tenants.list(ctx.principal, args.first ?? 50, args.after);
      return { nodes: page.nodes, pageInfo: { endCursor: page.endCursor, hasNextPage: page.hasNextPage } };
    },
  },
  Mutation: {
    createTenant: (_p, { input }, ctx) =>
      ctx.services.tenants.create(ctx.principal, { name: input.name, storageQuotaBytes: input.storageQuotaBytes ?? null }),
  },
};
