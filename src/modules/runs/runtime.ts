// The in-process jobs runtime for one platform: the configured dispatcher, and the worker loop (queue +
// supervisor) over the run lifecycle. `pretext serve` starts the worker; tests start it with small intervals.
import type { Config } from '../../config';
import { createDispatcher, type Dispatcher, type DispatchStatus, LocalDispatcher } from '../../jobs/dispatchers';
import { JobWorker } from '../../jobs/worker';
import type { Logger } from '../../logger';
import type { RunLifecycle } from './lifecycle';

export interface JobsRuntime {
  dispatcher: Dispatcher;
  /** Where platform jobs (dataset processing) go: their own AWS Batch queue when configured, else `dispatcher`. */
  platformDispatcher: Dispatcher;
  /** Connects task exits and the worker loop to the lifecycle (called once the services exist). */
  attach(lifecycle: RunLifecycle): void;
  worker(): JobWorker;
  /** Stops the worker, then the local children; runs stay DISPATCHED/RUNNING in the database for the next start. */
  close(): Promise<void>;
}

export function createJobsRuntime(config: Config, log: Logger, override?: Dispatcher): JobsRuntime {
  let lifecycle: RunLifecycle | undefined;
  let worker: JobWorker | undefined;
  let closing = false;
  const settings = config.jobs.dispatcher;
  const onExit = (externalId: string, status: DispatchStatus) => {
    if (closing || !lifecycle) return;
    void lifecycle
      .onTaskExit(externalId, status)
      .catch((err: unknown) => log.warn({ err, externalId }, 'could not record a task exit'))
      .finally(() => worker?.poke());
  };
  // Cloud dispatchers report exits only through describe(), which the supervisor polls on every tick.
  const dispatcher =
    override ??
    (settings.kind === 'local'
      ? createDispatcher({
          kind: 'local',
          maxConcurrent: config.jobs.localMaxConcurrent,
          killGraceMs: 2000,
          // The trainer gets PATH/HOME to find node, nothing else of the gateway's environment (no DB or cloud secrets).
          baseEnv: Object.fromEntries(
            Object.entries({ PATH: config.jobs.trainerPath, HOME: config.jobs.trainerHome }).filter((e): e is [string, string] => typeof e[1] === 'string'),
          ),
          onOutput: (l) => log.debug({ externalId: l.externalId, stream: l.stream }, l.line),
          onExit,
        })
      : createDispatcher(settings));
  const platformSettings = config.datasets.job.dispatcher;
  const platformDispatcher = override ?? (platformSettings ? createDispatcher(platformSettings) : dispatcher);
  return {
    dispatcher,
    platformDispatcher,
    attach(l) {
      lifecycle = l;
    },
    worker() {
      if (!lifecycle) throw new Error('jobs runtime: attach(lifecycle) before starting the worker');
      const l = lifecycle;
      worker ??= new JobWorker(
        { dispatchDue: () => l.dispatchDue(), supervise: () => l.supervise() },
        { pollMs: config.jobs.pollMs, onError: (err) => log.warn({ err }, 'job worker tick failed') },
      );
      return worker;
    },
    async close() {
      closing = true;
      await worker?.stop();
      if (dispatcher instanceof LocalDispatcher) await dispatcher.close();
    },
  };
}
