// Admission rules every new run passes, whatever its kind (PRETRAIN from createExperiment, FINETUNE from
// createFineTune): resource requests within bounds, and the tenant's run and GPU-minute quotas.
import type { Dataset, DatasetVersion, Db } from '../../db/client';
import { isUuid } from '../../db/errors';
import type { JobsConfig } from '../../config';
import { badInput, notFound, quotaExceeded, type InputProblem } from '../../errors';
import type { Accelerator } from '../../contracts/accelerator';
import type { RunResources } from './run-config';
import { ACTIVE } from './state';

export interface ResourcesInput {
  gpus?: number | null;
  cpus?: number | null;
  memoryMb?: number | null;
  timeoutSeconds?: number | null;
  maxAttempts?: number | null;
}

/**
 * The caller's READY dataset version a run will read. Another tenant's version (or a missing or deleted one) is
 * NOT_FOUND, never a hint that the id exists; one still processing is BAD_USER_INPUT naming `path`.
 */
export async function readyDatasetVersion(
  db: Db,
  tenantId: string,
  id: string,
  path: string,
  use: string,
): Promise<DatasetVersion & { dataset: Dataset; manifestKey: string }> {
  const version = isUuid(id) ? await db.datasetVersion.findFirst({ where: { id, tenantId }, include: { dataset: true } }) : null;
  if (!version || version.dataset.deletedAt) throw notFound('Dataset version', id);
  if (version.status !== 'READY' || !version.manifestKey) {
    throw badInput(`Dataset version ${version.id} is ${version.status}; only READY versions can be ${use}. Wait for processing to finish.`, [
      { path, message: `status is ${version.status}, must be READY` },
    ]);
  }
  return version as DatasetVersion & { dataset: Dataset; manifestKey: string };
}

export interface ResolvedResources {
  resources: RunResources;
  timeoutSeconds: number;
  maxAttempts: number;
}

/** Defaults filled in; every out-of-range value becomes a problem under `path`. */
export function resolveResources(r: ResourcesInput | null | undefined, jobs: JobsConfig, problems: InputProblem[], path = 'input.resources'): ResolvedResources {
  const given = r ?? {};
  const resources = { gpus: given.gpus ?? 0, cpus: given.cpus ?? 1, memoryMb: given.memoryMb ?? 2048 };
  const timeoutSeconds = given.timeoutSeconds ?? jobs.defaultTimeoutSeconds;
  const maxAttempts = given.maxAttempts ?? jobs.maxAttempts;
  if (!Number.isInteger(resources.gpus) || resources.gpus < 0 || resources.gpus > 8) problems.push({ path: `${path}.gpus`, message: 'must be an integer 0-8' });
  if (!(resources.cpus > 0) || resources.cpus > 64) problems.push({ path: `${path}.cpus`, message: 'must be > 0 and ≤ 64' });
  if (!Number.isInteger(resources.memoryMb) || resources.memoryMb < 256 || resources.memoryMb > 512_000) problems.push({ path: `${path}.memoryMb`, message: 'must be an integer 256-512000' });
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 7 * 24 * 3600) problems.push({ path: `${path}.timeoutSeconds`, message: 'must be an integer from 1 s to 7 days' });
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 20) problems.push({ path: `${path}.maxAttempts`, message: 'must be an integer 1-20' });
  return { resources, timeoutSeconds, maxAttempts };
}

/**
 * The run's accelerator, with the GPU count of `resources` made to follow it (in place): GPU asks the dispatcher
 * for resources.gpus (default 1) GPUs, CPU for none. Left out, it is GPU when the caller asked for GPUs (the way a
 * GPU was requested before accelerators existed), else CPU. A GPU run is refused here when this deployment's
 * dispatcher cannot give one (the local dispatcher without LOCAL_GPUS) rather than queued for a GPU that never
 * comes; the trainer still proves the device at start and fails the run if it has no GPU engine.
 */
export function resolveAccelerator(
  requested: Accelerator | null | undefined,
  given: ResourcesInput | null | undefined,
  resources: RunResources,
  jobs: JobsConfig,
  problems: InputProblem[],
  path = 'input',
): Accelerator {
  const accelerator: Accelerator = requested ?? (resources.gpus > 0 ? 'GPU' : 'CPU');
  if (accelerator === 'CPU') {
    if (resources.gpus > 0) problems.push({ path: `${path}.resources.gpus`, message: `must be 0 for accelerator CPU (got ${resources.gpus}); ask for accelerator GPU to get GPUs` });
    return accelerator;
  }
  if (given?.gpus == null) resources.gpus = 1;
  if (resources.gpus < 1) problems.push({ path: `${path}.resources.gpus`, message: 'must be at least 1 for accelerator GPU' });
  else if (resources.gpus > jobs.maxRunGpus) {
    const kind = jobs.dispatcher.kind;
    problems.push({
      path: `${path}.accelerator`,
      message:
        jobs.maxRunGpus === 0
          ? `this deployment cannot run GPU trainers: its ${kind} dispatcher has no GPU (set LOCAL_GPUS on a GPU host, or use DISPATCHER=aws-batch | ecs | kubernetes); use accelerator CPU`
          : `the ${kind} dispatcher offers at most ${jobs.maxRunGpus} GPU(s) per run; asked for ${resources.gpus}`,
    });
  }
  return accelerator;
}

const GPU_WINDOW_MS = 30 * 24 * 3600 * 1000;

/** GPU-minutes a tenant's runs used in the last 30 days (running runs count up to now). */
export async function gpuMinutesUsed(db: Db, tenantId: string, now = new Date()): Promise<number> {
  const runs = await db.run.findMany({
    where: { tenantId, startedAt: { not: null }, OR: [{ finishedAt: null }, { finishedAt: { gte: new Date(now.getTime() - GPU_WINDOW_MS) } }] },
    select: { startedAt: true, finishedAt: true, config: true },
  });
  let minutes = 0;
  for (const r of runs) {
    const gpus = Number((r.config as { resources?: { gpus?: number } } | null)?.resources?.gpus ?? 0);
    const end = (r.finishedAt ?? now).getTime();
    minutes += (gpus * Math.max(0, end - r.startedAt!.getTime())) / 60_000;
  }
  return minutes;
}

/**
 * Quotas, checked before the insert. Two simultaneous creations may both pass, which overshoots by at most one run
 * per concurrent request — acceptable for a soft limit, and it avoids a tenant-wide lock on every create.
 */
export async function checkRunQuotas(db: Db, tenantId: string, jobs: JobsConfig, gpus: number, now = new Date()): Promise<void> {
  const active = await db.run.count({ where: { tenantId, status: { in: [...ACTIVE] } } });
  if (active >= jobs.tenantMaxConcurrentRuns) {
    throw quotaExceeded(`This tenant already has ${active} unfinished runs (limit ${jobs.tenantMaxConcurrentRuns}); wait for one to finish or cancel one.`, {
      limit: jobs.tenantMaxConcurrentRuns,
      used: active,
    });
  }
  if (gpus > 0) {
    const used = await gpuMinutesUsed(db, tenantId, now);
    if (used >= jobs.tenantMaxGpuMinutes) {
      throw quotaExceeded(`GPU-minute quota used up: ${used.toFixed(1)} of ${jobs.tenantMaxGpuMinutes} in the last 30 days.`, { limit: jobs.tenantMaxGpuMinutes, used });
    }
  }
}
