// The only file that imports @aws-sdk/client-ecs.
import {
  DescribeTasksCommand,
  ECSClient,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { DispatchError, fromAwsError, invalidRequest } from './errors';
import type { Dispatcher, DispatchRequest, DispatchStatus, EcsDispatcherOptions } from './types';
import { awsClientConfig, executionName, validateRequest } from './validate';

const TIMEOUT_TAG = 'pretext:timeout-seconds';

/**
 * Runs each attempt as one ECS task on a GPU capacity provider (an Auto Scaling group of GPU instances), with
 * container overrides for command, environment, cpu/memory and the GPU resource requirement.
 *
 * ECS has no per-task time limit. The timeout travels as a task tag and describe() enforces it: a task still
 * running past startedAt + timeout is stopped there and reported FAILED. The supervisor polls describe() anyway,
 * so the limit holds to within one poll interval.
 */
export class EcsDispatcher implements Dispatcher {
  readonly name = 'ecs' as const;
  private readonly client: ECSClient;

  constructor(private readonly opts: EcsDispatcherOptions, private readonly now: () => number = Date.now) {
    const config = awsClientConfig('ecs', opts, [
      ['cluster', 'name or ARN'],
      ['taskDefinition', 'family[:revision] or ARN'],
      ['containerName', 'the trainer container in the task definition'],
    ]);
    if (!opts.capacityProviders?.length) {
      throw new Error('ecs dispatcher: capacityProviders needs at least one GPU capacity provider (e.g. [{ name: "gpu-spot" }]).');
    }
    this.client = new ECSClient(config);
  }

  async submit(req: DispatchRequest): Promise<{ externalId: string }> {
    validateRequest('ecs', req);
    if (req.image !== undefined && req.image !== this.opts.image) {
      throw invalidRequest('ecs', `ECS cannot override the image per task (asked for "${req.image}", task definition ${this.opts.taskDefinition} runs ${this.opts.image ?? 'its registered image'}). Register a task definition revision for that image, or leave image unset.`);
    }
    const { gpus, cpus, memoryMb } = req.resources;
    const net = this.opts.network;
    try {
      const out = await this.client.send(
        new RunTaskCommand({
          cluster: this.opts.cluster,
          taskDefinition: this.opts.taskDefinition,
          count: 1,
          // A capacity provider strategy (not launchType) so ECS can scale the GPU Auto Scaling group out for us.
          capacityProviderStrategy: this.opts.capacityProviders.map((p) => ({
            capacityProvider: p.name,
            weight: p.weight ?? 1,
            ...(p.base !== undefined ? { base: p.base } : {}),
          })),
          overrides: {
            containerOverrides: [
              {
                name: this.opts.containerName,
                command: req.command,
                environment: Object.entries(req.env).map(([name, value]) => ({ name, value })),
                cpu: Math.round(cpus * 1024),
                memory: memoryMb,
                ...(gpus > 0 ? { resourceRequirements: [{ type: 'GPU' as const, value: String(gpus) }] } : {}),
              },
            ],
          },
          ...(net
            ? {
                networkConfiguration: {
                  awsvpcConfiguration: {
                    subnets: net.subnets,
                    ...(net.securityGroups ? { securityGroups: net.securityGroups } : {}),
                    assignPublicIp: net.assignPublicIp ? ('ENABLED' as const) : ('DISABLED' as const),
                  },
                },
              }
            : {}),
          // Same token for the same attempt: a retried RunTask whose first answer was lost starts no second task.
          clientToken: executionName(req, 64),
          startedBy: 'pretext',
          tags: [
            { key: 'pretext:run-id', value: req.runId },
            { key: 'pretext:tenant-id', value: req.tenantId },
            { key: 'pretext:attempt', value: String(req.attempt) },
            { key: TIMEOUT_TAG, value: String(req.timeoutSeconds) },
          ],
          propagateTags: 'TASK_DEFINITION',
          enableECSManagedTags: true,
        }),
      );
      const arn = out.tasks?.[0]?.taskArn;
      if (!arn) {
        // RunTask answers 200 with `failures` when nothing could be placed (no capacity yet, bad constraint).
        const f = out.failures?.[0];
        const reason = f ? `${f.reason ?? 'unknown'}${f.detail ? `: ${f.detail}` : ''}` : 'no task and no failure given';
        throw new DispatchError('ecs', `ecs RunTask placed no task: ${reason}`, {
          // Capacity shortfalls clear up as the capacity provider scales out; a bad definition does not.
          retryable: /RESOURCE|capacity|AGENT/i.test(reason),
          code: f?.reason ?? 'NoTask',
        });
      }
      return { externalId: arn };
    } catch (err) {
      throw fromAwsError('ecs', 'RunTask', err);
    }
  }

  async cancel(externalId: string): Promise<void> {
    await this.stop(externalId, 'Cancelled by Pretext');
  }

  async describe(externalId: string): Promise<DispatchStatus> {
    let task: Task | undefined;
    let missing: string | undefined;
    try {
      const out = await this.client.send(
        new DescribeTasksCommand({ cluster: this.opts.cluster, tasks: [externalId], include: ['TAGS'] }),
      );
      task = out.tasks?.find((t) => t.taskArn === externalId) ?? out.tasks?.[0];
      missing = out.failures?.[0]?.reason;
    } catch (err) {
      throw fromAwsError('ecs', 'DescribeTasks', err);
    }
    if (!task) return { state: 'UNKNOWN', reason: `ECS has no task ${externalId}${missing ? ` (${missing})` : ''}` };
    const status = ecsTaskStatus(task, this.opts.containerName);
    if (status.state === 'RUNNING' && task.startedAt) {
      const limit = Number(task.tags?.find((t) => t.key === TIMEOUT_TAG)?.value);
      const elapsed = (this.now() - task.startedAt.getTime()) / 1000;
      if (limit > 0 && elapsed > limit) {
        const reason = `timed out after ${limit} s`;
        await this.stop(externalId, `Pretext: ${reason}`);
        return { state: 'FAILED', reason };
      }
    }
    return status;
  }

  private async stop(taskArn: string, reason: string): Promise<void> {
    try {
      await this.client.send(new StopTaskCommand({ cluster: this.opts.cluster, task: taskArn, reason }));
    } catch (err) {
      const e = fromAwsError('ecs', 'StopTask', err);
      // Stopping a task ECS no longer knows is the outcome we wanted.
      if (!e.retryable && /not found|MISSING/i.test(e.message)) return;
      throw e;
    }
  }
}

/**
 * ECS task → dispatcher state. Until STOPPED a task is PENDING (provisioning, pulling) or RUNNING (including the
 * stopping phases); once STOPPED the trainer container's exit code decides between SUCCEEDED and FAILED.
 */
export function ecsTaskStatus(task: Task, containerName: string): DispatchStatus {
  const container = task.containers?.find((c) => c.name === containerName) ?? task.containers?.[0];
  switch (task.lastStatus) {
    case 'PROVISIONING':
    case 'PENDING':
    case 'ACTIVATING':
      return { state: 'PENDING' };
    case 'RUNNING':
    case 'DEACTIVATING':
    case 'STOPPING':
    case 'DEPROVISIONING':
      return { state: 'RUNNING' };
    case 'STOPPED': {
      const exitCode = container?.exitCode;
      if (exitCode === 0 && task.stopCode === 'EssentialContainerExited') return { state: 'SUCCEEDED', exitCode };
      const reason = [task.stopCode, task.stoppedReason, container?.reason].filter(Boolean).join(': ');
      return {
        state: 'FAILED',
        reason: reason || 'task stopped without a reason',
        ...(exitCode !== undefined ? { exitCode } : {}),
      };
    }
    default:
      return { state: 'UNKNOWN', reason: `unrecognised ECS task status "${String(task.lastStatus)}"` };
  }
}
