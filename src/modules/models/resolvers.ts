// Thin GraphQL resolvers for the model registry, embeddings and similarity search.
import type { Resolvers } from '../../gateway/generated/resolvers';

export const modelResolvers: Resolvers = {
  Query: {
    models: (_p, _a, ctx) => ctx.services.models.list(ctx.principal),
    model: (_p, { id }, ctx) => ctx.services.models.get(ctx.principal, id),
    modelVersion: (_p, { id }, ctx) => ctx.services.models.getVersion(ctx.principal, id),
    embed: (_p, args, ctx) => ctx.services.serving.embed(ctx.principal, { model: args.model, inputs: args.inputs, options: args.options ?? null }) as never,
    embeddingSpace: (_p, { id }, ctx) => ctx.services.spaces.getSpace(ctx.principal, id),
    similar: (_p, { input }, ctx) => ctx.services.spaces.similar(ctx.principal, input),
    predict: (_p, args, ctx) => ctx.services.serving.predict(ctx.principal, { model: args.model, inputs: args.inputs, topK: args.topK ?? null, truncate: args.truncate ?? null }),
  },
  Mutation: {
    setModelAlias: async (_p, { input }, ctx) => {
      const a = await ctx.services.models.setAlias(ctx.principal, input);
      return { alias: a.alias, version: a.modelVersion, updatedAt: a.updatedAt };
    },
    createEmbeddingSpace: (_p, { input }, ctx) => ctx.services.spaces.createSpace(ctx.principal, input),
  },
  Model: {
    versions: (m, _a, ctx) => ctx.services.models.versions(m),
    aliases: async (m, _a, ctx) => (await ctx.services.models.aliases(m)).map((a) => ({ alias: a.alias, version: a.modelVersion, updatedAt: a.updatedAt })),
  },
  ModelVersion: {
    model: (v, _a, ctx) => ctx.services.models.modelOf(v),
    aliases: (v, _a, ctx) => ctx.services.models.versionAliases(v),
    inputSpec: (v) => v.inputSpec,
    evaluation: (v) => v.evaluation,
    head: (v) => v.head,
    fineTunable: (v) => v.weightsKey !== null,
  },
};
