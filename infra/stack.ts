import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { createTrainerBatch, type TrainerBatch } from './batch';
import { createDatabase, type Database } from './database';
import { createGateway, type Gateway } from './gateway';
import { createNetwork, type Network } from './network';
import { createProcessingBatch, type ProcessingBatch } from './processing';
import { createRegistries, type Registries } from './registries';
import { createStorage, type Storage } from './storage';
import { createWorkerTick, type WorkerTick } from './worker';

export interface PretextStackProps extends StackProps {
  /** Gateway Lambda bundle (see gateway.ts); app.ts builds it from the repository's build output. */
  gatewayCode: lambda.Code;
  gatewayHandler?: string;
  trainerImageTag?: string;
  /** Tag of the gateway image the dataset processing jobs run (default latest). */
  gatewayImageTag?: string;
  gpuInstanceTypes?: string[];
  maxTrainerVcpus?: number;
  abortIncompleteMultipartUploadDays?: number;
  tmpExpirationDays?: number;
  corsAllowedOrigins?: string[];
  /** DESTROY for throwaway (dev/test) stacks; data stores are kept otherwise. */
  removalPolicy?: RemovalPolicy;
}

/**
 * The whole Pretext deployment. Each resource group is built by one function and receives what it depends on
 * explicitly, so the wiring is visible here in one place.
 */
export class PretextStack extends Stack {
  readonly network: Network;
  readonly storage: Storage;
  readonly registries: Registries;
  readonly database: Database;
  readonly batch: TrainerBatch;
  readonly processing: ProcessingBatch;
  readonly gateway: Gateway;
  readonly worker: WorkerTick;

  constructor(scope: Construct, id: string, props: PretextStackProps) {
    super(scope, id, props);
    this.network = createNetwork(this);
    this.storage = createStorage(this, {
      ...(props.abortIncompleteMultipartUploadDays !== undefined ? { abortIncompleteMultipartUploadDays: props.abortIncompleteMultipartUploadDays } : {}),
      ...(props.tmpExpirationDays !== undefined ? { tmpExpirationDays: props.tmpExpirationDays } : {}),
      ...(props.corsAllowedOrigins ? { corsAllowedOrigins: props.corsAllowedOrigins } : {}),
      ...(props.removalPolicy ? { removalPolicy: props.removalPolicy } : {}),
    });
    this.registries = createRegistries(this);
    this.database = createDatabase(this, {
      vpc: this.network.vpc,
      ...(props.removalPolicy ? { removalPolicy: props.removalPolicy } : {}),
    });
    this.batch = createTrainerBatch(this, {
      vpc: this.network.vpc,
      trainerRepository: this.registries.trainer,
      ...(props.trainerImageTag ? { trainerImageTag: props.trainerImageTag } : {}),
      ...(props.gpuInstanceTypes ? { instanceTypes: props.gpuInstanceTypes } : {}),
      ...(props.maxTrainerVcpus ? { maxvCpus: props.maxTrainerVcpus } : {}),
    });
    this.processing = createProcessingBatch(this, {
      vpc: this.network.vpc,
      repository: this.registries.gateway,
      bucket: this.storage.bucket,
      ...(props.gatewayImageTag ? { imageTag: props.gatewayImageTag } : {}),
    });
    const backend = {
      vpc: this.network.vpc,
      bucket: this.storage.bucket,
      database: this.database,
      batch: { jobQueue: this.batch.jobQueue, jobDefinition: this.batch.jobDefinition },
      processing: { jobQueue: this.processing.jobQueue, jobDefinition: this.processing.jobDefinition },
      code: props.gatewayCode,
    };
    this.gateway = createGateway(this, { ...backend, ...(props.gatewayHandler ? { handler: props.gatewayHandler } : {}) });
    // No long-lived process in this deployment: the worker's timers become a scheduled function.
    this.worker = createWorkerTick(this, { ...backend, publicUrl: this.gateway.api.apiEndpoint });

    new CfnOutput(this, 'ApiUrl', { value: this.gateway.api.apiEndpoint, description: 'GraphQL gateway base URL' });
    new CfnOutput(this, 'BucketName', { value: this.storage.bucket.bucketName });
    new CfnOutput(this, 'GatewayRepositoryUri', { value: this.registries.gateway.repositoryUri });
    new CfnOutput(this, 'TrainerRepositoryUri', { value: this.registries.trainer.repositoryUri });
    new CfnOutput(this, 'JobQueueArn', { value: this.batch.jobQueue.jobQueueArn });
    new CfnOutput(this, 'DatabaseSecretArn', { value: this.database.secret.secretArn });
  }
}
