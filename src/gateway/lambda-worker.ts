// AWS Lambda entry for the worker's scheduled tick (an EventBridge rule invokes it every minute; the CDK app sets
// reserved concurrency 1 so two ticks never overlap). A serverless deployment has no long-lived process whose
// timers drive the queue worker, and a request Lambda freezes once it has answered, so the background work of
// `pretext serve` happens here, one bounded pass per invocation:
//   1. the queue worker's tick: supervise running jobs, dispatch due runs (the dispatchers submit container tasks);
//   2. dataset processing: every version finalize left PROCESSING (DATASET_PROCESSING=worker in the stack) — or, with
//      DATASET_PROCESSING=job, one pass that submits, watches and merges the sharded processing jobs — then every
//      embedding space createSpace left BUILDING;
//   3. the dataset reconciler, at most once per reconcile interval per warm container.
import type { Context, ScheduledEvent } from 'aws-lambda';
import { coldStart } from './lambda-cold-start';
import type { Platform } from '../platform';

export interface WorkerTickResult {
  /** Dataset versions that were PROCESSING when the pass started (each is READY, FAILED or retried next tick). */
  datasetVersions: number;
  /** Embedding spaces that were BUILDING (each is READY or FAILED). */
  embeddingSpaces: number;
  reconciled: boolean;
  ms: number;
}

export type WorkerTickHandler = (event: ScheduledEvent, context: Context) => Promise<WorkerTickResult>;

export function createWorkerTickHandler(platform: Platform): WorkerTickHandler {
  let lastReconcile = -Infinity;
  const reconcileEveryMs = Math.min(platform.config.datasets.abandonedUploadMs, 3_600_000);
  return async () => {
    const started = Date.now();
    const { services, log } = platform;
    // The worker's own tick reports its failures through onError and never throws; the steps below are
    // independent, so one failing does not skip the others.
    await platform.jobs.worker().tick();
    let datasetVersions = 0;
    try {
      // DATASET_PROCESSING=job: the versions are processed by dispatched jobs; this pass submits and merges them.
      datasetVersions = services.processingJobs
        ? await services.processingJobs.pass().then((r) => r.submitted + r.running + r.ready + r.failed + r.retried)
        : await services.datasets.processor.drain();
    } catch (err) {
      log.error({ err }, 'worker tick: dataset processing pass failed');
    }
    let embeddingSpaces = 0;
    try {
      embeddingSpaces = services.spaceJobs
        ? await services.spaceJobs.pass().then((r) => r.submitted + r.running + r.ready + r.failed + r.retried)
        : await services.spaces.drain();
    } catch (err) {
      log.error({ err }, 'worker tick: embedding space pass failed');
    }
    let reconciled = false;
    if (Date.now() - lastReconcile >= reconcileEveryMs) {
      lastReconcile = Date.now();
      try {
        await services.datasets.reconciler.run();
        reconciled = true;
      } catch (err) {
        log.error({ err }, 'worker tick: reconciler pass failed');
      }
    }
    const result = { datasetVersions, embeddingSpaces, reconciled, ms: Date.now() - started };
    log.info(result, 'worker tick');
    return result;
  };
}

const deployed = coldStart(createWorkerTickHandler);

/** The deployed handler: configuration from the Lambda environment (and the database secret it names). */
export const handler: WorkerTickHandler = async (event, context) => (await deployed())(event, context);
