import type { DispatcherName } from './types';

/**
 * A failure talking to an execution backend. `retryable` tells the supervisor whether the same call may succeed
 * later (throttling, 5xx, connection trouble) or will fail again until something is changed (validation, 4xx).
 */
export class DispatchError extends Error {
  override readonly name = 'DispatchError';
  readonly dispatcher: DispatcherName;
  readonly retryable: boolean;
  /** The backend's error code (e.g. ClientException, ThrottlingException, Conflict) when it gave one. */
  readonly code: string | undefined;
  readonly statusCode: number | undefined;

  constructor(
    dispatcher: DispatcherName,
    message: string,
    opts: { retryable: boolean; code?: string; statusCode?: number; cause?: unknown },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.dispatcher = dispatcher;
    this.retryable = opts.retryable;
    this.code = opts.code;
    this.statusCode = opts.statusCode;
  }
}

// Codes AWS services use for "slow down"; they arrive as 400 (JSON 1.1 services such as ECS) or 429 (Batch).
const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'ProvisionedThroughputExceededException',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);

// Transport failures: the request may never have reached the service.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Whether an HTTP status (if any) and error code describe a transient failure. */
export function isRetryable(statusCode: number | undefined, code: string | undefined): boolean {
  if (code !== undefined && (THROTTLING_CODES.has(code) || NETWORK_CODES.has(code))) return true;
  // No HTTP answer and no known transport code: most likely a client-side bug (serialization, bad parameter),
  // which a retry would only repeat.
  if (statusCode === undefined) return false;
  return statusCode === 429 || statusCode === 408 || statusCode >= 500;
}

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
}

/** Maps an AWS SDK v3 error (ServiceException or transport error) to a DispatchError. */
export function fromAwsError(dispatcher: DispatcherName, action: string, err: unknown): DispatchError {
  if (err instanceof DispatchError) return err;
  const e = (err ?? {}) as AwsLikeError;
  const statusCode = e.$metadata?.httpStatusCode;
  // Transport errors from another realm (Jest's sandbox) reach us wrapped as a plain Error whose message still
  // carries the errno code ("AWS SDK error wrapper for Error: connect ECONNREFUSED ...").
  const named = e.code ?? (e.name && e.name !== 'Error' ? e.name : undefined);
  const code = named ?? (statusCode === undefined ? /\b(E[A-Z]{3,}|UND_ERR_[A-Z_]+)\b/.exec(e.message ?? '')?.[1] : undefined);
  const retryable =
    e.$retryable !== undefined || e.$fault === 'server' || isRetryable(statusCode, code);
  const message = `${dispatcher} ${action} failed${statusCode ? ` (HTTP ${statusCode})` : ''}: ${code ?? 'Error'}: ${e.message ?? String(err)}`;
  return new DispatchError(dispatcher, message, {
    retryable,
    ...(code !== undefined ? { code } : {}),
    ...(statusCode !== undefined ? { statusCode } : {}),
    cause: err,
  });
}

/** A request this dispatcher can never run as given (caller error, never retryable). */
export function invalidRequest(dispatcher: DispatcherName, message: string): DispatchError {
  return new DispatchError(dispatcher, message, { retryable: false, code: 'InvalidRequest' });
}
