// The only file that imports @aws-sdk/client-batch.
import {
  BatchClient,
  DescribeJobsCommand,
  SubmitJobCommand,
  TerminateJobCommand,
  type JobDetail,
} from '@aws-sdk/client-batch';
import { arrayEnv, arraySizeOf } from './array';
import { fromAwsError, invalidRequest } from './errors';
import type { AwsBatchDispatcherOptions, Dispatcher, DispatchRequest, DispatchStatus } from './types';
import { awsClientConfig, executionName, validateRequest } from './validate';

// Batch refuses attempt timeouts below 60 s.
const MIN_ATTEMPT_SECONDS = 60;

/**
 * Submits each attempt as one AWS Batch job on the GPU job queue (spot compute environment first, on-demand
 * fallback — ordering lives in the queue, see infra/batch.ts). The job definition fixes image, roles and logging;
 * a submission overrides only command, environment, GPU/VCPU/MEMORY and the attempt timeout. Batch retries are
 * switched off (attempts: 1): the run supervisor owns retries, so each attempt has its own externalId (the job id).
 *
 * An array request (arraySize > 1) is one Batch array job: the externalId is the parent's id, Batch starts `size`
 * children with AWS_BATCH_JOB_ARRAY_INDEX set, and the parent's status is the set's (SUCCEEDED only when every
 * child succeeded, FAILED when any failed). Terminating the parent terminates its children. Batch does not stop
 * the other children when one fails; they run to their end unless the set is cancelled.
 */
export class AwsBatchDispatcher implements Dispatcher {
  readonly name = 'aws-batch' as const;
  private readonly client: BatchClient;

  constructor(private readonly opts: AwsBatchDispatcherOptions) {
    this.client = new BatchClient(
      awsClientConfig('aws-batch', opts, [
        ['jobQueue', 'name or ARN of the GPU job queue'],
        ['jobDefinition', 'name[:revision] or ARN'],
      ]),
    );
  }

  async submit(req: DispatchRequest): Promise<{ externalId: string }> {
    validateRequest('aws-batch', req);
    if (req.image !== undefined && req.image !== this.opts.image) {
      throw invalidRequest('aws-batch', `AWS Batch cannot override the image per job (asked for "${req.image}", job definition ${this.opts.jobDefinition} runs ${this.opts.image ?? 'its registered image'}). Register a job definition revision for that image, or leave image unset.`);
    }
    const { gpus, cpus, memoryMb } = req.resources;
    if (!Number.isInteger(cpus)) {
      throw invalidRequest('aws-batch', `AWS Batch on EC2 needs whole vCPUs, got cpus=${cpus}; round up.`);
    }
    const resourceRequirements = [
      { type: 'VCPU' as const, value: String(cpus) },
      { type: 'MEMORY' as const, value: String(memoryMb) },
      ...(gpus > 0 ? [{ type: 'GPU' as const, value: String(gpus) }] : []),
    ];
    const size = arraySizeOf(req);
    try {
      const out = await this.client.send(
        new SubmitJobCommand({
          jobName: executionName(req, 128),
          // Batch refuses size 1 (arrays are 2..10 000), and a plain job must stay exactly what it was.
          ...(size > 1 ? { arrayProperties: { size } } : {}),
          jobQueue: this.opts.jobQueue,
          jobDefinition: this.opts.jobDefinition,
          containerOverrides: {
            command: req.command,
            environment: Object.entries(arrayEnv(req)).map(([name, value]) => ({ name, value })),
            resourceRequirements,
          },
          timeout: { attemptDurationSeconds: Math.max(MIN_ATTEMPT_SECONDS, req.timeoutSeconds) },
          retryStrategy: { attempts: 1 },
          // Tags make jobs findable per run/tenant in the console and cost reports; propagated to the ECS task.
          tags: { 'pretext:run-id': req.runId, 'pretext:tenant-id': req.tenantId, 'pretext:attempt': String(req.attempt) },
          propagateTags: true,
        }),
      );
      if (!out.jobId) throw invalidRequest('aws-batch', 'SubmitJob answered without a jobId.');
      return { externalId: out.jobId };
    } catch (err) {
      throw fromAwsError('aws-batch', 'SubmitJob', err);
    }
  }

  async cancel(externalId: string): Promise<void> {
    try {
      // TerminateJob also ends jobs that have not started yet (SUBMITTED/PENDING/RUNNABLE), unlike CancelJob.
      await this.client.send(new TerminateJobCommand({ jobId: externalId, reason: 'Cancelled by Pretext' }));
    } catch (err) {
      throw fromAwsError('aws-batch', 'TerminateJob', err);
    }
  }

  async describe(externalId: string): Promise<DispatchStatus> {
    let job: JobDetail | undefined;
    try {
      const out = await this.client.send(new DescribeJobsCommand({ jobs: [externalId] }));
      job = out.jobs?.find((j) => j.jobId === externalId);
    } catch (err) {
      throw fromAwsError('aws-batch', 'DescribeJobs', err);
    }
    // Batch forgets jobs some days after they finish; an unknown id is not an error.
    if (!job) return { state: 'UNKNOWN', reason: `AWS Batch has no job ${externalId}` };
    return batchJobStatus(job);
  }
}

/**
 * Batch job status → dispatcher state. STARTING (image pull, container start) still counts as PENDING.
 * An array parent (it carries arrayProperties.statusSummary) has no container of its own; its FAILED and RUNNING
 * states get the children's counts as the reason, e.g. "3 of 8 children failed".
 */
export function batchJobStatus(job: JobDetail): DispatchStatus {
  const summary = arraySummary(job);
  if (summary !== undefined && (job.status === 'FAILED' || job.status === 'RUNNING')) {
    const own = job.status === 'FAILED' ? job.statusReason : undefined;
    return { state: job.status, reason: own ? `${summary} (${own})` : summary };
  }
  const exitCode = job.container?.exitCode ?? job.attempts?.at(-1)?.container?.exitCode;
  const withCode = exitCode === undefined ? {} : { exitCode };
  const reason = job.statusReason ?? job.attempts?.at(-1)?.statusReason ?? job.container?.reason;
  const withReason = reason ? { reason } : {};
  switch (job.status) {
    case 'SUBMITTED':
    case 'PENDING':
    case 'RUNNABLE':
    case 'STARTING':
      return { state: 'PENDING', ...withReason };
    case 'RUNNING':
      return { state: 'RUNNING' };
    case 'SUCCEEDED':
      return { state: 'SUCCEEDED', ...withCode };
    case 'FAILED':
      return { state: 'FAILED', reason: reason ?? 'AWS Batch reported FAILED without a reason', ...withCode };
    default:
      return { state: 'UNKNOWN', reason: `unrecognised AWS Batch status "${String(job.status)}"` };
  }
}

/** "3 of 8 children failed" (plus how many succeeded / are unfinished), or undefined for a job that is no array parent. */
function arraySummary(job: JobDetail): string | undefined {
  const counts = job.arrayProperties?.statusSummary;
  if (!counts) return undefined;
  const of = (k: string) => counts[k] ?? 0;
  const size = job.arrayProperties?.size ?? Object.values(counts).reduce((a, b) => a + b, 0);
  const unfinished = of('SUBMITTED') + of('PENDING') + of('RUNNABLE') + of('STARTING');
  const parts = [
    ...(of('FAILED') > 0 ? [`${of('FAILED')} of ${size} children failed`] : []),
    `${of('SUCCEEDED')} of ${size} succeeded`,
    ...(of('RUNNING') > 0 ? [`${of('RUNNING')} running`] : []),
    ...(unfinished > 0 ? [`${unfinished} waiting`] : []),
  ];
  return parts.join(', ');
}
