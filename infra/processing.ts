import { Duration, Size } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

export interface ProcessingBatchProps {
  vpc: ec2.IVpc;
  /** The gateway image: it holds dist/src/jobs/platform-main.js and the CPU build of every native addon. */
  repository: ecr.IRepository;
  imageTag?: string;
  bucket: s3.IBucket;
  /** Ceiling of the CPU compute environment (0 instances while the queue is empty). */
  maxvCpus?: number;
  logRetention?: logs.RetentionDays;
}

export interface ProcessingBatch {
  jobQueue: batch.JobQueue;
  jobDefinition: batch.EcsJobDefinition;
  compute: batch.ManagedEc2EcsComputeEnvironment;
  /** What a copy may do: read tenants' objects, write dataset versions' output and spaces' pieces. Nothing else. */
  jobRole: iam.Role;
}

/**
 * AWS Batch for platform jobs (DATASET_PROCESSING=job): dataset processing and embedding-space builds sharded into
 * array jobs, one copy per slice of a version's files or shards (src/jobs/platform-main.ts). CPU spot instances, apart from the GPU trainers, and
 * apart from the trainer's role as well: that one has no permissions (presigned URLs only), while a processing copy
 * reads the uploaded files and writes shards itself. It never gets the database: the gateway's worker merges.
 */
export function createProcessingBatch(scope: Construct, props: ProcessingBatchProps): ProcessingBatch {
  const securityGroup = new ec2.SecurityGroup(scope, 'ProcessingSecurityGroup', {
    vpc: props.vpc,
    description: 'Pretext dataset processing jobs: egress only (S3, ECR, logs)',
    allowAllOutbound: true,
  });
  const compute = new batch.ManagedEc2EcsComputeEnvironment(scope, 'ProcessingSpotCompute', {
    vpc: props.vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    securityGroups: [securityGroup],
    spot: true,
    allocationStrategy: batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED,
    // "optimal": current C/M/R families, CPU only.
    useOptimalInstanceClasses: true,
    minvCpus: 0,
    maxvCpus: props.maxvCpus ?? 64,
    replaceComputeEnvironment: false,
  });
  const jobQueue = new batch.JobQueue(scope, 'ProcessingJobQueue', { priority: 1, computeEnvironments: [{ computeEnvironment: compute, order: 1 }] });

  const jobRole = new iam.Role(scope, 'ProcessingJobRole', {
    assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    description: 'Pretext dataset processing copies: read uploads, write dataset version output',
  });
  // Reads uploads, manifests, shards and model files by key; writes only dataset versions' output and embedding
  // spaces' pieces (a processing copy deletes its part's shards when its data is rejected).
  props.bucket.grantRead(jobRole, 'tenants/*');
  for (const prefix of ['tenants/*/datasets/*', 'tenants/*/spaces/*']) {
    props.bucket.grantPut(jobRole, prefix);
    props.bucket.grantDelete(jobRole, prefix);
  }

  const logGroup = new logs.LogGroup(scope, 'ProcessingLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
  const jobDefinition = new batch.EcsJobDefinition(scope, 'ProcessingJobDefinition', {
    container: new batch.EcsEc2ContainerDefinition(scope, 'ProcessingContainer', {
      image: ecs.ContainerImage.fromEcrRepository(props.repository, props.imageTag ?? 'latest'),
      cpu: 2,
      memory: Size.mebibytes(4096),
      command: ['node', 'dist/src/jobs/platform-main.js'],
      jobRole,
      logging: ecs.LogDriver.awsLogs({ logGroup, streamPrefix: 'processing' }),
    }),
    // The worker's pass owns retries (it clears a failed attempt's output first).
    retryAttempts: 1,
    timeout: Duration.hours(2),
    propagateTags: true,
  });
  return { jobQueue, jobDefinition, compute, jobRole };
}
