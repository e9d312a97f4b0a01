// Merges the per-domain resolver maps and the custom scalars into one map for Apollo.
import { apiKeyResolvers } from '../modules/apikeys/resolvers';
import { authResolvers } from '../modules/auth/resolvers';
import { tenantResolvers } from '../modules/tenants/resolvers';
import { datasetResolvers } from '../modules/datasets/resolvers';
import { modelResolvers } from '../modules/models/resolvers';
import { projectionResolvers } from '../modules/models/projection-resolvers';
import { GraphQLUpload } from 'graphql-upload-minimal';
import { runResolvers } from '../modules/runs/resolvers';
import { fineTuneResolvers } from '../modules/finetune/resolvers';
import { limitResolvers } from '../modules/limits/resolvers';
import { usageResolvers } from '../modules/usage/resolvers';
import type { Resolvers } from './generated/resolvers';
import { BigIntScalar, DateTimeScalar, JSONScalar } from './scalars';
import { VERSION } from '../version';

const modules: Resolvers[] = [authResolvers, tenantResolvers, apiKeyResolvers, datasetResolvers, modelResolvers, projectionResolvers, runResolvers, fineTuneResolvers, limitResolvers, usageResolvers];

export function mergeResolvers(): Resolvers {
  const merged: Record<string, Record<string, unknown>> = { Query: { version: () => VERSION } };
  for (const m of modules) {
    for (const [type, fields] of Object.entries(m)) {
      const target = (merged[type] ??= {});
      for (const [name, fn] of Object.entries(fields as Record<string, unknown>)) {
        if (name in target) throw new Error(`Resolver ${type}.${name} is defined twice`);
        target[name] = fn;
      }
    }
  }
  return { ...(merged as Resolvers), DateTime: DateTimeScalar, BigInt: BigIntScalar, JSON: JSONScalar, Upload: GraphQLUpload };
}
