// Thin GraphQL resolver for the calling tenant's metering.
import type { Resolvers } from '../../gateway/generated/resolvers';

export const usageResolvers: Resolvers = {
  Query: {
    usage: (_p, { since }, ctx) => ctx.services.usage.usage(ctx.principal, since ?? null),
  },
};
