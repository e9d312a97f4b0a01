// Thin GraphQL resolvers for the embedding map: the space list, 2-D projections and dataset rows by index.
import type { Resolvers } from '../../gateway/generated/resolvers';

export const projectionResolvers: Resolvers = {
  Query: {
    embeddingSpaces: (_p, args, ctx) => ctx.services.projections.listSpaces(ctx.principal, { modelVersionId: args.modelVersionId ?? null, datasetVersionId: args.datasetVersionId ?? null }),
    embeddingProjection: (_p, args, ctx) => ctx.services.projections.projection(ctx.principal, args.spaceId, args.method ?? 'PCA', args.limit ?? 50_000),
    datasetRows: (_p, args, ctx) => ctx.services.datasetRows.rows(ctx.principal, args.versionId, args.rows) as never,
  },
};
