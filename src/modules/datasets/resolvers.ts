// Thin GraphQL resolvers for datasets: arguments in, service call, result out.
import type { DatasetVersion } from '../../db/client';
import type { Manifest } from '../../ingest';
import type { Resolvers } from '../../gateway/generated/resolvers';

interface VersionError { message: string; problems: Array<Record<string, unknown>>; truncated: boolean }
type StoredStats = Omit<Manifest, 'shards' | 'sources'> & { shardCount: number };

function stats(v: DatasetVersion) {
  if (v.status !== 'READY' || !v.stats) return null;
  const s = v.stats as unknown as StoredStats;
  const shape = s.shape;
  return {
    rows: s.rows,
    bytes: BigInt(s.stats.bytes),
    splits: s.splits,
    labels: s.labels,
    labelHistogram: Object.entries(s.labelHistogram)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([label, count]) => ({ label, count })),
    shape,
    features: shape.modality === 'SEQUENCE' ? shape.features : shape.modality === 'IMAGE' ? shape.height * shape.width * shape.channels : null,
    characters: s.stats.characters !== undefined ? BigInt(s.stats.characters) : null,
    tokens: s.stats.tokens !== undefined ? BigInt(s.stats.tokens) : null,
    shards: s.shardCount,
  };
}

export const datasetResolvers: Resolvers = {
  Query: {
    datasets: async (_p, args, ctx) => {
      const page = await ctx.services.datasets.list(ctx.principal, args.first ?? 20, args.after);
      return { nodes: page.nodes, pageInfo: { endCursor: page.endCursor, hasNextPage: page.hasNextPage } };
    },
    dataset: (_p, { id }, ctx) => ctx.services.datasets.get(ctx.principal, id),
    datasetVersion: (_p, { id }, ctx) => ctx.services.datasets.getVersion(ctx.principal, id),
    multipartUpload: (_p, { fileId }, ctx) => ctx.services.datasets.multipartStatus(ctx.principal, fileId),
    storageUsage: (_p, _a, ctx) => ctx.services.datasets.storageUsage(ctx.principal),
  },
  Mutation: {
    createDataset: (_p, { input }, ctx) => ctx.services.datasets.create(ctx.principal, input),
    createDatasetVersion: (_p, { input }, ctx) => ctx.services.datasets.createVersion(ctx.principal, input),
    uploadDatasetFile: (_p, args, ctx) => ctx.services.datasets.uploadFile(ctx.principal, args.versionId, args.file, args.name),
    startMultipartUpload: (_p, { input }, ctx) => ctx.services.datasets.startMultipart(ctx.principal, input),
    completeMultipartUpload: (_p, args, ctx) => ctx.services.datasets.completeMultipart(ctx.principal, args.fileId, args.parts),
    abortMultipartUpload: (_p, { fileId }, ctx) => ctx.services.datasets.abortMultipart(ctx.principal, fileId),
    deleteDatasetFile: (_p, { fileId }, ctx) => ctx.services.datasets.deleteFile(ctx.principal, fileId),
    finalizeDatasetVersion: (_p, { id }, ctx) => ctx.services.datasets.finalize(ctx.principal, id),
    deleteDataset: (_p, { id }, ctx) => ctx.services.datasets.delete(ctx.principal, id),
  },
  Dataset: {
    versions: (d, _a, ctx) => ctx.services.datasets.versions(d),
    latestVersion: (d, _a, ctx) => ctx.services.datasets.latestVersion(d),
  },
  DatasetVersion: {
    shape: (v) => v.shape,
    files: (v, _a, ctx) => ctx.services.datasets.files(v),
    stats: (v) => stats(v),
    error: (v) => (v.status === 'FAILED' && v.error ? (v.error as unknown as VersionError) : null) as never,
    preview: (v, { limit }, ctx) => ctx.services.datasets.preview(v, limit ?? 5) as never,
  },
};
