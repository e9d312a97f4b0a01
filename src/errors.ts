// Typed errors that reach API clients. Each carries one code from ErrorCode in `extensions.code`; the gateway
// hides everything else behind INTERNAL. Expected failures (bad input, missing rows) are thrown as these.
import { GraphQLError } from 'graphql';

export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  /** A dependency (the object store, the database) is down for a while; `retryAfterSeconds` says when to try again. */
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const HTTP_STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 200,
  BAD_USER_INPUT: 200,
  QUOTA_EXCEEDED: 200,
  CONFLICT: 200,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export interface InputProblem { path: string; message: string }

export class AppError extends GraphQLError {
  constructor(readonly code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extra, http: { status: HTTP_STATUS[code] } } });
    this.name = 'AppError';
  }
}

export const unauthenticated = (message = 'A valid API key is required: send "Authorization: Bearer <key>"') =>
  new AppError(ErrorCode.UNAUTHENTICATED, message);
export const forbidden = (message: string) => new AppError(ErrorCode.FORBIDDEN, message);
export const notFound = (what: string, id: string) => new AppError(ErrorCode.NOT_FOUND, `${what} ${id} not found`);
export const badInput = (message: string, problems: InputProblem[] = []) =>
  new AppError(ErrorCode.BAD_USER_INPUT, message, problems.length ? { problems } : {});
export const conflict = (message: string) => new AppError(ErrorCode.CONFLICT, message);
export const quotaExceeded = (message: string, extra: Record<string, unknown> = {}) => new AppError(ErrorCode.QUOTA_EXCEEDED, message, extra);

/** A token bucket is empty; `retryAfterSeconds` says when the request would pass. */
export const rateLimited = (message: string, retryAfterSeconds: number, extra: Record<string, unknown> = {}) =>
  new AppError(ErrorCode.RATE_LIMITED, message, { retryAfterSeconds, ...extra });

/** Exhaustiveness guard for discriminated unions. */
export class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`Unreachable case: ${JSON.stringify(value)}`);
  }
}
