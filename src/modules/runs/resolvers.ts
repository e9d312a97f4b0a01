// Thin GraphQL resolvers for experiments and runs.
import type { Run } from '../../db/client';
import type { Resolvers } from '../../gateway/generated/resolvers';
import { z } from 'zod';
import { DeviceReportSchema } from '../../contracts/accelerator';
import { acceleratorOf } from './run-config';

const StoredDevice = DeviceReportSchema.extend({ attempt: z.number().int().min(0) });

/** The device report stored on the run, as GraphQL shows it (null when absent or unreadable). */
function deviceOf(run: Run) {
  const parsed = StoredDevice.safeParse(run.device);
  if (!parsed.success) return null;
  const d = parsed.data;
  const big = (n: number | null) => (n === null ? null : BigInt(n));
  return { ...d, memoryBytes: big(d.memoryBytes), maxBufferBytes: big(d.maxBufferBytes), tried: d.tried.map((t) => ({ ...t, reason: t.reason ?? null })) };
}

/** The public part of a run's stored config (never the manifest key or trainer internals). */
interface PublicConfig { datasetVersionId?: string; baseModelVersionId?: string; finetune?: unknown; evaluation?: { datasetVersionId: string } }
function configOf(run: Run): PublicConfig {
  return (run.config ?? {}) as PublicConfig;
}

export const runResolvers: Resolvers = {
  Query: {
    experiment: (_p, { id }, ctx) => ctx.services.experiments.get(ctx.principal, id),
    experiments: (_p, args, ctx) => ctx.services.experiments.list(ctx.principal, args.first ?? 20, args.after),
    run: (_p, { id }, ctx) => ctx.services.runs.get(ctx.principal, id),
    runs: (_p, args, ctx) => ctx.services.runs.list(ctx.principal, { status: args.status ?? null, first: args.first ?? 20, after: args.after }),
  },
  Mutation: {
    createExperiment: (_p, { input }, ctx) => ctx.services.experiments.create(ctx.principal, input),
    cancelRun: (_p, { id }, ctx) => ctx.services.runs.cancel(ctx.principal, id),
    retryRun: (_p, { id }, ctx) => ctx.services.runs.retry(ctx.principal, id),
  },
  Experiment: {
    encoder: (e) => e.encoderSpec,
    runs: (e, _a, ctx) => ctx.services.experiments.runsOf(e),
  },
  Run: {
    datasetVersionId: (run) => configOf(run).datasetVersionId ?? null,
    baseModelVersionId: (run) => configOf(run).baseModelVersionId ?? null,
    evaluationDatasetVersionId: (run) => configOf(run).evaluation?.datasetVersionId ?? null,
    finetune: (run) => configOf(run).finetune ?? null,
    accelerator: (run) => acceleratorOf(run.config as { accelerator?: 'CPU' | 'GPU' }),
    device: (run) => deviceOf(run),
    metrics: (run, args, ctx) => ctx.services.runs.metrics(run, args.name, args.last ?? 1000),
    logs: (run, args, ctx) => ctx.services.runs.logs(run, args.tail ?? 100),
    model: async (run, _a, ctx) => {
      const mv = await ctx.services.runs.model(run);
      return mv
        ? { modelId: mv.modelId, modelVersionId: mv.id, name: mv.model.name, version: mv.version, onnxKey: mv.onnxKey, embeddingDim: mv.embeddingDim, createdAt: mv.createdAt }
        : null;
    },
  },
  MetricPoint: { at: (m) => m.createdAt },
  RunLogLine: { at: (l) => l.createdAt },
};
