// Thin GraphQL resolvers for API keys.
import type { Resolvers } from '../../gateway/generated/resolvers';

export const apiKeyResolvers: Resolvers = {
  Query: {
    apiKeys: (_p, args, ctx) => ctx.services.apiKeys.list(ctx.principal, args.includeRevoked ?? false),
    apiKey: (_p, { id }, ctx) => ctx.services.apiKeys.get(ctx.principal, id),
  },
  Mutation: {
    createApiKey: (_p, { input }, ctx) =>
      ctx.services.apiKeys.create(ctx.principal, { name: input.name, role: input.role, expiresAt: input.expiresAt ?? null }),
    revokeApiKey: async (_p, { id }, ctx) => ({ apiKey: await ctx.services.apiKeys.revoke(ctx.principal, id) }),
  },
};
