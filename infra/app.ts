#!/usr/bin/env node
/**
 * CDK entry point: `npx cdk synth` / `npx cdk deploy` from infra/ (cdk.json runs the compiled dist/infra/app.js,
 * so run `npm run build` first). Settings come from CDK context (`-c key=value` or cdk.json), not process.env:
 *   gatewayAsset     directory holding the gateway Lambda bundle (dist/ + production node_modules); default ../dist-lambda
 *   trainerImageTag  tag of the trainer image in ECR (default: latest)
 *   gpuInstanceTypes comma-separated instance types (default: g5 family)
 *   stackName        (default: Pretext)
 * The account/region come from the CLI's resolved environment (CDK_DEFAULT_*), read only in the entry block below.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, type Environment } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { PretextStack, type PretextStackProps } from './stack';

export interface BuildAppOptions {
  app?: App;
  /** Injected in tests (Code.fromInline); otherwise built from the `gatewayAsset` context directory. */
  gatewayCode?: lambda.Code;
  /** Target account/region; omitted, the stack is environment-agnostic. */
  env?: Environment;
  stackProps?: Partial<PretextStackProps>;
}

export function buildApp(opts: BuildAppOptions = {}): { app: App; stack: PretextStack } {
  const app = opts.app ?? new App();
  const ctx = (k: string): string | undefined => app.node.tryGetContext(k) ?? undefined;
  const gatewayCode = opts.gatewayCode ?? gatewayAssetCode(ctx('gatewayAsset') ?? resolve(__dirname, '..', '..', 'dist-lambda'));
  const gpuTypes = ctx('gpuInstanceTypes')?.split(',').map((s) => s.trim()).filter(Boolean);
  const stack = new PretextStack(app, ctx('stackName') ?? 'Pretext', {
    description: 'Pretext: self-supervised learning as a service (gateway, Aurora, S3, Batch GPU trainers)',
    ...(opts.env ? { env: opts.env } : {}),
    gatewayCode,
    ...(ctx('trainerImageTag') ? { trainerImageTag: ctx('trainerImageTag')! } : {}),
    ...(gpuTypes?.length ? { gpuInstanceTypes: gpuTypes } : {}),
    ...opts.stackProps,
  });
  return { app, stack };
}

function gatewayAssetCode(dir: string): lambda.Code {
  if (!existsSync(dir)) {
    throw new Error(`Gateway Lambda bundle not found at ${dir}. Build it (npm run build, then copy dist/ and a production node_modules into one folder) and pass -c gatewayAsset=<folder>.`);
  }
  return lambda.Code.fromAsset(dir);
}

if (require.main === module) {
  // The CDK CLI resolves the target account/region from its profile and hands them over in these variables.
  const { CDK_DEFAULT_ACCOUNT: account, CDK_DEFAULT_REGION: region } = process.env;
  buildApp({ ...(account || region ? { env: { account, region } } : {}) }).app.synth();
}
