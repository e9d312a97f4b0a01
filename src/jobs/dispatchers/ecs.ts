// The only file that imports @aws-sdk/client-ecs.
import {
  DescribeTasksCommand,
  ECSClient,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { aggregateArrayStatus, arrayEnv, arraySizeOf } from './array';
import { DispatchError, fromAwsError, invalidRequest } from './errors';
import type { Dispatcher, DispatchRequest, DispatchStatus, EcsDispatcherOptions } from './types';
import { awsClientConfig, executionName, validateRequest } from './validate';

const TIMEOUT_TAG = 'pretext:timeout-seconds';
/** Joins the task ARNs of an array job into one externalId (see parseExternalId). */
export const ARN_SEPARATOR = ',';
/** StopTask reason for the rest of a set once one task failed; describe() never names such a task as the cause. */
const KNOCK_ON_REASON = 'Pretext: another index of the array job failed';
// ECS allows 100 tasks per DescribeTasks; the concurrency limits stay well under the API's burst rates.
const DESCRIBE_BATCH = 100;
const DESCRIBE_CONCURRENCY = 4;
const RUN_TASK_CONCURRENCY = 8;
const STOP_CONCURRENCY = 8;

/**
 * Runs each attempt as one ECS task on a GPU capacity provider (an Auto Scaling group of GPU instances), with
 * container overrides for command, environment, cpu/memory and the GPU resource requirement.
 *
 * ECS has no per-task time limit. The timeout travels as a task tag and describe() enforces it: a task still
 * running past startedAt + timeout is stopped there and reported FAILED. The supervisor polls describe() anyway,
 * so the limit holds to within one poll interval.
 *
 * An array request (arraySize = N > 1) is N RunTask calls, task i with PRETEXT_JOB_INDEX=i and PRETEXT_JOB_COUNT=N
 * in its container env; the externalId is their ARNs in index order joined with ARN_SEPARATOR (","). describe()
 * folds the tasks' states (aggregateArrayStatus) and, once one failed, stops the rest; cancel stops them all. A
 * RunTask failing part way stops the tasks already started before the error is thrown.
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
    const size = arraySizeOf(req);
    if (size === 1) return { externalId: await this.runTask(req) };
    // RunTask has no per-task index (count > 1 starts identical tasks), so an array is N RunTask calls.
    const started: Array<string | undefined> = new Array(size);
    const failures: Array<{ index: number; err: DispatchError }> = [];
    await forEachLimited(size, RUN_TASK_CONCURRENCY, async (i) => {
      if (failures.length > 0) return; // start no more once one failed
      try {
        started[i] = await this.runTask(req, i);
      } catch (err) {
        failures.push({ index: i, err: fromAwsError('ecs', 'RunTask', err) });
      }
    });
    const failure = failures.sort((a, b) => a.index - b.index)[0];
    if (failure) {
      // Compensating cleanup: a half-started set would hold GPUs for a submission the caller sees as failed.
      const arns = started.filter((a): a is string => a !== undefined);
      const cleanup = await Promise.allSettled(arns.map((arn) => this.stop(arn, 'Pretext: the array submission failed')));
      const notStopped = cleanup.filter((r) => r.status === 'rejected').length;
      const { err, index } = failure;
      const tail = notStopped > 0 ? `; ${notStopped} of the ${arns.length} tasks already started could not be stopped` : `; stopped the ${arns.length} tasks already started`;
      throw new DispatchError('ecs', `ecs array submission failed at index ${index} of ${size}: ${err.message}${tail}`, {
        retryable: err.retryable,
        ...(err.code !== undefined ? { code: err.code } : {}),
        ...(err.statusCode !== undefined ? { statusCode: err.statusCode } : {}),
        cause: err,
      });
    }
    return { externalId: started.join(ARN_SEPARATOR) };
  }

  async cancel(externalId: string): Promise<void> {
    const arns = parseExternalId(externalId);
    const results = await mapLimited(arns, STOP_CONCURRENCY, (arn) => this.stop(arn, 'Cancelled by Pretext').then(() => undefined, (e: unknown) => e));
    // Every task was tried; report the first that could not be stopped (StopTask is idempotent: cancelling again is safe).
    const err = results.find((r) => r !== undefined);
    if (err !== undefined) throw err;
  }

  async describe(externalId: string): Promise<DispatchStatus> {
    const arns = parseExternalId(externalId);
    const found = await this.describeTasks(arns);
    // Bounded: each task past its timeout costs a StopTask here.
    const statuses = await mapLimited(arns, STOP_CONCURRENCY, (arn) => this.taskStatus(arn, found.get(arn)));
    if (arns.length === 1) return statuses[0]!;
    const members = statuses.map((st, i) => ({ ...st, knockOn: found.get(arns[i]!)?.task?.stoppedReason === KNOCK_ON_REASON }));
    const status = aggregateArrayStatus(members);
    if (status.state === 'FAILED') {
      // Fail fast like an Indexed Job: the rest of the set would only burn GPU time for an attempt already failed.
      // Best effort: a task that could not be stopped now is stopped on the next describe (the set stays FAILED).
      const live = arns.filter((_, i) => statuses[i]!.state === 'PENDING' || statuses[i]!.state === 'RUNNING');
      await mapLimited(live, STOP_CONCURRENCY, (arn) => this.stop(arn, KNOCK_ON_REASON).catch(() => undefined));
    }
    return status;
  }

  /** One task's status, enforcing its timeout tag (a task past it is stopped and reported FAILED). */
  private async taskStatus(arn: string, found: DescribedTask | undefined): Promise<DispatchStatus> {
    const task = found?.task;
    if (!task) {
      const missing = found?.missing;
      return { state: 'UNKNOWN', reason: `ECS has no task ${arn}${missing ? ` (${missing})` : ''}` };
    }
    const status = ecsTaskStatus(task, this.opts.containerName);
    if (status.state === 'RUNNING' && task.startedAt) {
      const limit = Number(task.tags?.find((t) => t.key === TIMEOUT_TAG)?.value);
      const elapsed = (this.now() - task.startedAt.getTime()) / 1000;
      if (limit > 0 && elapsed > limit) {
        const reason = `timed out after ${limit} s`;
        await this.stop(arn, `Pretext: ${reason}`);
        return { state: 'FAILED', reason };
      }
    }
    return status;
  }

  /** DescribeTasks for every ARN, 100 per call (the ECS limit); an ARN ECS does not know maps to its failure reason. */
  private async describeTasks(arns: readonly string[]): Promise<Map<string, DescribedTask>> {
    const batches: string[][] = [];
    for (let i = 0; i < arns.length; i += DESCRIBE_BATCH) batches.push(arns.slice(i, i + DESCRIBE_BATCH));
    const found = new Map<string, DescribedTask>();
    await mapLimited(batches, DESCRIBE_CONCURRENCY, async (tasks) => {
      let out;
      try {
        out = await this.client.send(new DescribeTasksCommand({ cluster: this.opts.cluster, tasks, include: ['TAGS'] }));
      } catch (err) {
        throw fromAwsError('ecs', 'DescribeTasks', err);
      }
      for (const f of out.failures ?? []) if (f.arn) found.set(f.arn, { missing: f.reason });
      for (const t of out.tasks ?? []) if (t.taskArn) found.set(t.taskArn, { task: t });
      if (tasks.length === 1 && !found.has(tasks[0]!)) {
        // One ARN asked for: whatever came back is about it (ECS may answer with another ARN form, e.g. short ids).
        const t = out.tasks?.[0];
        found.set(tasks[0]!, t ? { task: t } : { missing: out.failures?.[0]?.reason });
      }
    });
    return found;
  }

  /** One RunTask with count 1; `index` set for a copy of an array job (its env carries PRETEXT_JOB_INDEX). */
  private async runTask(req: DispatchRequest, index?: number): Promise<string> {
    const { gpus, cpus, memoryMb } = req.resources;
    const net = this.opts.network;
    // Same token for the same attempt (and index): a retried RunTask whose first answer was lost starts no second task.
    const suffix = index === undefined ? '' : `-i${index}`;
    const clientToken = `${executionName(req, 64 - suffix.length)}${suffix}`;
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
                environment: Object.entries(arrayEnv(req, index)).map(([name, value]) => ({ name, value })),
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
          clientToken,
          startedBy: 'pretext',
          tags: [
            { key: 'pretext:run-id', value: req.runId },
            { key: 'pretext:tenant-id', value: req.tenantId },
            { key: 'pretext:attempt', value: String(req.attempt) },
            { key: TIMEOUT_TAG, value: String(req.timeoutSeconds) },
            ...(index === undefined ? [] : [{ key: 'pretext:array-index', value: String(index) }]),
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
      return arn;
    } catch (err) {
      throw fromAwsError('ecs', 'RunTask', err);
    }
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

interface DescribedTask {
  task?: Task;
  /** DescribeTasks' failure reason for an ARN it does not know (e.g. MISSING). */
  missing?: string | undefined;
}

/**
 * The ARNs of an externalId: one task ARN for a plain execution, or the N task ARNs of an array job in index order
 * joined with ARN_SEPARATOR. ECS task ARNs are `arn:<partition>:ecs:<region>:<account>:task/<cluster>/<id>` with
 * cluster names of [A-Za-z0-9_-] and hex ids, so the separator never occurs inside one.
 */
function parseExternalId(externalId: string): string[] {
  const arns = externalId.split(ARN_SEPARATOR);
  if (arns.some((a) => a.length === 0)) {
    throw invalidRequest('ecs', `Malformed ECS externalId "${externalId.slice(0, 200)}". Should be a task ARN, or task ARNs joined with "${ARN_SEPARATOR}".`);
  }
  return arns;
}

/** Runs fn(0..n-1) with at most `limit` calls in flight. */
async function forEachLimited(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  await forEachLimited(items.length, limit, async (i) => {
    out[i] = await fn(items[i]!);
  });
  return out;
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
