import { Duration, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

export interface GatewayProps {
  vpc: ec2.IVpc;
  bucket: s3.IBucket;
  database: { cluster: rds.DatabaseCluster; secret: secretsmanager.ISecret; runtimeSecret: secretsmanager.ISecret };
  batch: { jobQueue: batch.IJobQueue; jobDefinition: batch.IJobDefinition };
  /** Where dataset processing jobs go (infra/processing.ts). */
  processing: { jobQueue: batch.IJobQueue; jobDefinition: batch.IJobDefinition };
  /**
   * The gateway bundle (built dist/ + production node_modules). Injected so synthesis (and its tests) never need a
   * build: app.ts passes Code.fromAsset(<bundle dir>), tests pass Code.fromInline.
   */
  code: lambda.Code;
  /** Module path inside the bundle + exported function. */
  handler?: string;
  memorySize?: number;
  /** Extra environment (e.g. LOG_LEVEL); the wiring variables below always win. */
  environment?: Record<string, string>;
}

export interface Gateway {
  fn: lambda.Function;
  api: apigwv2.HttpApi;
}

/**
 * Environment the gateway's config module reads when it runs in this stack. DATABASE_URL is deliberately absent:
 * the function resolves DATABASE_SECRET_ARN (the runtime role, which owns nothing) and DATABASE_MIGRATION_SECRET_ARN
 * (the owner: migrations, and creating the runtime role) at cold start, so no password sits in the Lambda
 * configuration (src/secrets/database-url.ts).
 */
export const GATEWAY_ENV = {
  dispatcher: 'DISPATCHER',
  // The names src/config.ts reads (the stack once set AWS_BATCH_JOB_*, which no code read: every cold start failed).
  jobQueue: 'BATCH_JOB_QUEUE',
  jobDefinition: 'BATCH_JOB_DEFINITION',
  publicUrl: 'PRETEXT_PUBLIC_URL',
  workerTick: 'PRETEXT_WORKER_TICK',
  processingJobQueue: 'DATASET_JOB_QUEUE',
  processingJobDefinition: 'DATASET_JOB_DEFINITION',
  bucket: 'S3_BUCKET',
  bucketRegion: 'S3_REGION',
  databaseSecretArn: 'DATABASE_SECRET_ARN',
  databaseMigrationSecretArn: 'DATABASE_MIGRATION_SECRET_ARN',
  ensureRuntimeRole: 'DATABASE_ENSURE_RUNTIME_ROLE',
  datasetProcessing: 'DATASET_PROCESSING',
} as const;

// Batch actions the gateway needs. DescribeJobs has no resource-level permissions in IAM, so it is the one
// statement with Resource "*".
const BATCH_UNSCOPED_READ = ['batch:DescribeJobs'];

/** What shapes one of the two backend functions (the request gateway and the scheduled worker tick). */
export interface BackendFunctionOptions {
  id: string;
  logGroupId: string;
  handler: string;
  /** Seconds the function may run. */
  timeoutSeconds: number;
  memorySize: number;
  /** Concurrent executions reserved (and capped); the worker tick uses 1 so ticks never overlap. */
  reservedConcurrentExecutions?: number;
  /** Extra wiring variables of this function (the worker tick: the gateway's URL it hands to trainers). */
  environment?: Record<string, string>;
}

/**
 * A backend Lambda of this stack (same bundle, same environment, same least-privilege grants): the gateway and the
 * worker tick run the same code and reach the same database, bucket and job queue.
 */
export function createBackendFunction(scope: Construct, props: GatewayProps, opts: BackendFunctionOptions): lambda.Function {
  const stack = Stack.of(scope);
  const logGroup = new logs.LogGroup(scope, opts.logGroupId, { retention: logs.RetentionDays.ONE_MONTH });
  const fn = new lambda.Function(scope, opts.id, {
    // The project targets Node 20 (tfjs/onnxruntime pins); the Lambda runtime matches what CI tests.
    runtime: lambda.Runtime.NODEJS_22_X,
    // x86_64: the bundle carries native addons (sharp, onnxruntime-node, hnswlib-node) built on x86_64 CI.
    architecture: lambda.Architecture.X86_64,
    code: props.code,
    handler: opts.handler,
    memorySize: opts.memorySize,
    timeout: Duration.seconds(opts.timeoutSeconds),
    ...(opts.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: opts.reservedConcurrentExecutions } : {}),
    vpc: props.vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    logGroup,
    environment: {
      ...props.environment,
      NODE_ENV: 'production',
      NODE_OPTIONS: '--enable-source-maps',
      // A request Lambda freezes once it answers, and a tick has 15 minutes: finalize leaves versions PROCESSING and
      // the tick submits each as a sharded processing job on its own queue, then merges the parts.
      [GATEWAY_ENV.datasetProcessing]: 'job',
      [GATEWAY_ENV.processingJobQueue]: props.processing.jobQueue.jobQueueArn,
      [GATEWAY_ENV.processingJobDefinition]: props.processing.jobDefinition.jobDefinitionArn,
      [GATEWAY_ENV.dispatcher]: 'aws-batch',
      [GATEWAY_ENV.jobQueue]: props.batch.jobQueue.jobQueueArn,
      [GATEWAY_ENV.jobDefinition]: props.batch.jobDefinition.jobDefinitionArn,
      [GATEWAY_ENV.bucket]: props.bucket.bucketName,
      [GATEWAY_ENV.bucketRegion]: stack.region,
      [GATEWAY_ENV.databaseSecretArn]: props.database.runtimeSecret.secretArn,
      [GATEWAY_ENV.databaseMigrationSecretArn]: props.database.secret.secretArn,
      [GATEWAY_ENV.ensureRuntimeRole]: 'true',
      ...opts.environment,
    },
  });
  // Data: read/write the bucket (it issues the presigned URLs trainers and clients use); read the DB secret.
  props.bucket.grantReadWrite(fn);
  props.database.secret.grantRead(fn);
  props.database.runtimeSecret.grantRead(fn);
  props.database.cluster.connections.allowDefaultPortFrom(fn, `${opts.id} to Aurora`);

  // Jobs: submit only to this queue with this job definition; terminate jobs (job ARNs are minted per job, so the
  // narrowest IAM can express is job/* in this account and region); describe (unscopable, see above).
  const jobArns = stack.formatArn({ service: 'batch', resource: 'job', resourceName: '*' });
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'SubmitTrainerJobs',
      actions: ['batch:SubmitJob'],
      resources: [props.batch.jobQueue.jobQueueArn, props.batch.jobDefinition.jobDefinitionArn],
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'SubmitProcessingJobs',
      actions: ['batch:SubmitJob'],
      resources: [props.processing.jobQueue.jobQueueArn, props.processing.jobDefinition.jobDefinitionArn],
    }),
  );
  // The dispatcher tags jobs with run/tenant ids at submission; tagging is allowed only as part of SubmitJob.
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'TagTrainerJobsOnSubmit',
      actions: ['batch:TagResource'],
      resources: [jobArns],
      conditions: { StringEquals: { 'batch:CreateAction': 'SubmitJob' } },
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'TerminateTrainerJobs',
      actions: ['batch:TerminateJob'],
      resources: [jobArns],
    }),
  );
  fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'DescribeTrainerJobs', actions: BATCH_UNSCOPED_READ, resources: ['*'] }));

  return fn;
}

/** The GraphQL gateway as a Lambda (Node.js 22.x: nodejs20.x was deprecated in April 2026; the code itself still runs on 20) behind an API Gateway HTTP API, with least-privilege grants. */
export function createGateway(scope: Construct, props: GatewayProps): Gateway {
  // HTTP APIs cut integrations at 30 s; the function must give up first so the client sees our error.
  const fn = createBackendFunction(scope, props, {
    id: 'GatewayFunction', logGroupId: 'GatewayLogs', handler: props.handler ?? 'dist/src/gateway/lambda.handler', timeoutSeconds: 29, memorySize: props.memorySize ?? 2048,
  });
  const api = new apigwv2.HttpApi(scope, 'GatewayApi', {
    description: 'Pretext GraphQL gateway',
    defaultIntegration: new HttpLambdaIntegration('GatewayIntegration', fn, {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
    }),
  });
  return { fn, api };
}
