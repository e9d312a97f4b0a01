// Thin GraphQL resolvers for fine-tuning: createFineTune queues a FINETUNE run (read back through Query.run).
import type { Resolvers } from '../../gateway/generated/resolvers';

export const fineTuneResolvers: Resolvers = {
  Mutation: {
    createFineTune: (_p, { input }, ctx) => ctx.services.finetunes.create(ctx.principal, input),
  },
};
