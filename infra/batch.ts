import { Duration, Size } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * g5 = NVIDIA A10G, the cheapest family with enough memory. The trainer's GPU engine is WebGPU on Dawn over the
 * NVIDIA Vulkan driver (README "GPU training"), which has no CUDA-architecture limit, so g6 (L4) or p5 (H100) can
 * be passed as instanceTypes too; none of these has been run yet (see the README's unverified list).
 */
export const DEFAULT_GPU_INSTANCE_TYPES = ['g5.xlarge', 'g5.2xlarge', 'g5.4xlarge', 'g5.8xlarge'];

export interface TrainerBatchProps {
  vpc: ec2.IVpc;
  trainerRepository: ecr.IRepository;
  /** Image tag the job definition runs (immutable tags: a new release registers a new revision). */
  trainerImageTag?: string;
  instanceTypes?: string[];
  /** Ceiling of each compute environment; 0 instances run while the queue is empty (minvCpus 0). */
  maxvCpus?: number;
  /** Defaults for a job; the dispatcher overrides GPU/VCPU/MEMORY per run. Must fit the smallest instance type. */
  defaultJob?: { gpus?: number; vcpus?: number; memoryMiB?: number; timeout?: Duration };
  logRetention?: logs.RetentionDays;
}

export interface TrainerBatch {
  jobQueue: batch.JobQueue;
  jobDefinition: batch.EcsJobDefinition;
  spot: batch.ManagedEc2EcsComputeEnvironment;
  onDemand: batch.ManagedEc2EcsComputeEnvironment;
  /** The role the trainer container runs as. Deliberately without permissions (see below). */
  jobRole: iam.Role;
  securityGroup: ec2.SecurityGroup;
}

/**
 * AWS Batch for GPU training: a spot compute environment first and an on-demand one second in the same job queue
 * (Batch places a job in the first environment with room, so spot is used while it is available and on-demand
 * takes over when spot capacity is short), plus the trainer job definition.
 */
export function createTrainerBatch(scope: Construct, props: TrainerBatchProps): TrainerBatch {
  const instanceTypes = (props.instanceTypes ?? DEFAULT_GPU_INSTANCE_TYPES).map((t) => new ec2.InstanceType(t));
  const maxvCpus = props.maxvCpus ?? 64;

  // Trainers call out (gateway API, S3, ECR) and accept nothing in.
  const securityGroup = new ec2.SecurityGroup(scope, 'TrainerSecurityGroup', {
    vpc: props.vpc,
    description: 'Pretext GPU trainers: egress only',
    allowAllOutbound: true,
  });

  const common = {
    vpc: props.vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    securityGroups: [securityGroup],
    instanceTypes,
    // Without this Batch would add "optimal" (CPU) instance classes next to the GPU list.
    useOptimalInstanceClasses: false,
    minvCpus: 0,
    maxvCpus,
    // ECS-optimized Amazon Linux 2 GPU AMI: NVIDIA driver + container toolkit preinstalled.
    images: [{ imageType: batch.EcsMachineImageType.ECS_AL2_NVIDIA }],
    replaceComputeEnvironment: false,
  };
  const spot = new batch.ManagedEc2EcsComputeEnvironment(scope, 'GpuSpotCompute', {
    ...common,
    spot: true,
    // Picks pools least likely to be interrupted at a low price; the supervisor resumes interrupted runs from
    // their last checkpoint.
    allocationStrategy: batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED,
  });
  const onDemand = new batch.ManagedEc2EcsComputeEnvironment(scope, 'GpuOnDemandCompute', {
    ...common,
    spot: false,
    allocationStrategy: batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
  });

  const jobQueue = new batch.JobQueue(scope, 'GpuJobQueue', {
    priority: 1,
    computeEnvironments: [
      { computeEnvironment: spot, order: 1 },
      { computeEnvironment: onDemand, order: 2 },
    ],
  });

  // The trainer holds no AWS permissions at all: it reads shards and writes checkpoints/ONNX through presigned
  // URLs the gateway hands out for its job token, so a compromised trainer cannot reach another tenant's data.
  const jobRole = new iam.Role(scope, 'TrainerJobRole', {
    assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    description: 'Pretext trainer container role: intentionally no permissions (presigned URLs only)',
  });

  const logGroup = new logs.LogGroup(scope, 'TrainerLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
  const d = props.defaultJob ?? {};
  const jobDefinition = new batch.EcsJobDefinition(scope, 'TrainerJobDefinition', {
    container: new batch.EcsEc2ContainerDefinition(scope, 'TrainerContainer', {
      image: ecs.ContainerImage.fromEcrRepository(props.trainerRepository, props.trainerImageTag ?? 'latest'),
      gpu: d.gpus ?? 1,
      cpu: d.vcpus ?? 4,
      // g5.xlarge has 16 GiB; the ECS agent keeps some back, so the default asks for less than all of it.
      memory: Size.mebibytes(d.memoryMiB ?? 14_336),
      command: ['node', 'dist/src/training/main.js'],
      jobRole,
      logging: ecs.LogDriver.awsLogs({ logGroup, streamPrefix: 'trainer' }),
    }),
    // The run supervisor owns retries (and resumes from checkpoints); Batch must not retry behind its back.
    retryAttempts: 1,
    timeout: d.timeout ?? Duration.hours(12),
    propagateTags: true,
  });

  return { jobQueue, jobDefinition, spot, onDemand, jobRole, securityGroup };
}
