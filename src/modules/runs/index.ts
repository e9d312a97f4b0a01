// Wires the experiments/runs domain: one lifecycle shared by the GraphQL services, the trainer API and the worker.
import type { JobsConfig } from '../../config';
import type { Db } from '../../db/client';
import type { Dispatcher } from '../../jobs/dispatchers';
import type { Logger } from '../../logger';
import type { ObjectStore } from '../../storage';
import { ExperimentService } from '../experiments/service';
import { RunLifecycle } from './lifecycle';
import { RunService } from './service';
import { TrainerService } from './trainer';
import { FineTuneService } from '../finetune/service';
import type { ModelVersion } from '../../db/client';
import type { TenantPrincipal } from '../auth/principal';

export interface JobsDeps {
  config: JobsConfig;
  dispatcher: Dispatcher;
  /** Base URL trainer tasks reach the gateway at. */
  gatewayUrl: () => string;
  /** Restrict this process's worker/supervisor to some tenants (see RunLifecycle). */
  tenantScope?: () => readonly string[] | null;
}

export interface RunServices {
  experiments: ExperimentService;
  runs: RunService;
  finetunes: FineTuneService;
  trainer: TrainerService;
  lifecycle: RunLifecycle;
}

export function createRunServices(deps: {
  db: Db;
  store: ObjectStore;
  log: Logger;
  jobs: JobsDeps;
  /** Model references (name@alias, ids…) within a tenant: the models module's resolver. */
  resolveModel: (t: TenantPrincipal, ref: string) => Promise<ModelVersion>;
}): RunServices {
  const lifecycle = new RunLifecycle({ db: deps.db, dispatcher: deps.jobs.dispatcher, jobs: deps.jobs.config, gatewayUrl: deps.jobs.gatewayUrl, log: deps.log, ...(deps.jobs.tenantScope ? { tenantScope: deps.jobs.tenantScope } : {}) });
  return {
    experiments: new ExperimentService(deps.db, deps.jobs.config),
    runs: new RunService(deps.db, lifecycle),
    finetunes: new FineTuneService(deps.db, deps.store, deps.jobs.config, deps.resolveModel),
    trainer: new TrainerService(deps.db, deps.store, lifecycle, deps.jobs.config),
    lifecycle,
  };
}
