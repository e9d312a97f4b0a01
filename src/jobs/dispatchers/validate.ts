import { JOB_COUNT_ENV, JOB_INDEX_ENV } from '../array-index';
import { MAX_ARRAY_SIZE } from './array';
import { invalidRequest } from './errors';
import type { AwsClientOptions, DispatcherName, DispatchRequest } from './types';

/** Rejects requests no backend could run, before any process or API call is made. */
export function validateRequest(dispatcher: DispatcherName, req: DispatchRequest): void {
  const fail = (msg: string): never => {
    throw invalidRequest(dispatcher, msg);
  };
  if (typeof req.runId !== 'string' || req.runId.length === 0) fail('runId must be a non-empty string.');
  if (typeof req.tenantId !== 'string' || req.tenantId.length === 0) fail('tenantId must be a non-empty string.');
  if (!Number.isInteger(req.attempt) || req.attempt < 1) fail(`attempt must be an integer >= 1, got ${req.attempt}.`);
  if (!Array.isArray(req.command) || req.command.length === 0 || req.command.some((c) => typeof c !== 'string')) {
    fail('command must be a non-empty array of strings (executable first).');
  }
  for (const [k, v] of Object.entries(req.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) fail(`env name "${k}" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*).`);
    if (typeof v !== 'string') fail(`env "${k}" must be a string.`);
  }
  const r = req.resources;
  if (!r) return fail('resources { gpus, cpus, memoryMb } is required.');
  if (!Number.isInteger(r.gpus) || r.gpus < 0) fail(`resources.gpus must be an integer >= 0, got ${r.gpus}.`);
  if (!(r.cpus > 0)) fail(`resources.cpus must be > 0, got ${r.cpus}.`);
  if (!Number.isInteger(r.memoryMb) || r.memoryMb < 1) fail(`resources.memoryMb must be an integer >= 1, got ${r.memoryMb}.`);
  if (!Number.isInteger(req.timeoutSeconds) || req.timeoutSeconds < 1) {
    fail(`timeoutSeconds must be an integer >= 1, got ${req.timeoutSeconds}.`);
  }
  if (req.arraySize !== undefined) {
    if (!Number.isInteger(req.arraySize) || req.arraySize < 1 || req.arraySize > MAX_ARRAY_SIZE) {
      fail(`arraySize must be an integer from 1 to ${MAX_ARRAY_SIZE}, got ${req.arraySize}.`);
    }
    // The dispatcher owns these in an array job; a caller's value would silently disagree with the real set.
    for (const name of [JOB_INDEX_ENV, JOB_COUNT_ENV]) {
      if (req.arraySize > 1 && req.env?.[name] !== undefined) fail(`env "${name}" is set by the dispatcher for array jobs; leave it out.`);
    }
  }
}

/**
 * A backend-safe execution name `pretext-<runId>-<attempt>`: lower-case letters, digits and '-', at most `maxLength`
 * characters (Kubernetes DNS-1123 labels allow 63, Batch job names 128). A long run id is shortened with a hash so
 * two runs never share a name.
 */
export function executionName(req: Pick<DispatchRequest, 'runId' | 'attempt'>, maxLength: number): string {
  const id = req.runId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  const suffix = `-${req.attempt}`;
  const full = `pretext-${id}${suffix}`;
  if (full.length <= maxLength && id.length > 0 && id === req.runId) return full;
  // Lossy sanitisation or truncation: append a short hash of the exact run id to keep names unique.
  const hash = fnv1a(req.runId).toString(36);
  const room = maxLength - 'pretext-'.length - suffix.length - hash.length - 1;
  return `pretext-${id.slice(0, Math.max(0, room)).replace(/-+$/, '')}-${hash}${suffix}`.replace(/--+/g, '-');
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The SDK client config of an AWS adapter (Batch, ECS), after checking its options: region, then each of `required`
 * in order, each missing one refused with what to set (`hint`).
 */
export function awsClientConfig<O extends AwsClientOptions>(
  dispatcher: DispatcherName,
  opts: O,
  required: ReadonlyArray<readonly [keyof O & string, string]>,
): AwsClientOptions {
  for (const [key, hint] of [['region', 'e.g. "us-east-1"'] as const, ...required]) {
    if (!opts[key as keyof O]) throw new Error(`${dispatcher} dispatcher: ${key} is required (${hint}).`);
  }
  return {
    region: opts.region,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}),
  };
}
