import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { createBackendFunction, GATEWAY_ENV, type GatewayProps } from './gateway';

export interface WorkerTickProps extends GatewayProps {
  /** The gateway's public URL: the tick dispatches trainers, which call the trainer API there. */
  publicUrl: string;
  /** Minutes between ticks (EventBridge's finest rate is 1 minute). */
  everyMinutes?: number;
}

export interface WorkerTick {
  fn: lambda.Function;
  rule: events.Rule;
}

/**
 * The worker's scheduled tick (src/gateway/lambda-worker.ts): what `pretext serve`'s timers do on a server —
 * supervise and dispatch training jobs, submit and merge dataset processing and embedding-space jobs, reconcile the store — run once per
 * EventBridge invocation. Reserved concurrency 1: a tick that runs long delays the next instead of overlapping it.
 */
export function createWorkerTick(scope: Construct, props: WorkerTickProps): WorkerTick {
  const fn = createBackendFunction(scope, props, {
    id: 'WorkerTickFunction',
    logGroupId: 'WorkerTickLogs',
    handler: 'dist/src/gateway/lambda-worker.handler',
    // Lambda's maximum. Dataset processing and embedding-space builds run as Batch array jobs (infra/processing.ts);
    // the tick only submits them and merges their parts.
    timeoutSeconds: 900,
    memorySize: props.memorySize ?? 3008,
    reservedConcurrentExecutions: 1,
    // The request gateway cannot name its own API's URL (a cycle); only the tick dispatches, so only it needs it.
    environment: { [GATEWAY_ENV.publicUrl]: props.publicUrl, [GATEWAY_ENV.workerTick]: 'true' },
  });
  const minutes = props.everyMinutes ?? 1;
  const rule = new events.Rule(scope, 'WorkerTickSchedule', {
    description: 'Pretext worker tick: jobs, dataset processing, reconciler',
    schedule: events.Schedule.rate(Duration.minutes(minutes)),
    targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
  });
  return { fn, rule };
}
