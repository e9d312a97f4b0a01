// Recognizes a database that cannot be reached right now (a restart, a failover, a network blip), as opposed to a
// bug: Prisma's connection errors (P1001 can't reach, P1002 timed out, P1008 operation timed out, P1017 server closed
// the connection, P2024 pool timeout), the pg driver adapter's connection kinds, Postgres' shutdown and
// connection-exception SQLSTATEs (57P01-57P03, class 08), and the socket errors and "Connection terminated" messages
// of the pg driver itself. The gateway answers these UNAVAILABLE (retryable, with a hint) instead of INTERNAL.
import { AppError, ErrorCode } from '../errors';

const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
const SQLSTATE = /^(57P0[123]|08\w{3}|53300)$/;
const MESSAGES = /Connection terminated|terminating connection due to administrator command|the database system is (starting up|shutting down|in recovery mode)|Can't reach database server|Server has closed the connection|Timed out fetching a new connection from the connection pool/i;

function matches(e: Record<string, any>): boolean {
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code && (PRISMA_CODES.has(code) || SOCKET_CODES.has(code) || SQLSTATE.test(code))) return true;
  if (typeof e.errorCode === 'string' && PRISMA_CODES.has(e.errorCode)) return true;
  if (e.name === 'PrismaClientInitializationError') return true;
  const adapter = e.meta?.driverAdapterError?.cause ?? (e.name === 'DriverAdapterError' ? e.cause : undefined);
  if (adapter && (ADAPTER_KINDS.has(adapter.kind) || (adapter.kind === 'postgres' && typeof adapter.code === 'string' && SQLSTATE.test(adapter.code)))) return true;
  return typeof e.message === 'string' && MESSAGES.test(e.message);
}

/** True when the error (or anything in its cause chain) says the database is unreachable, not that a query is wrong. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 8; depth++) {
    if (matches(e as Record<string, any>)) return true;
    const next = (e as { cause?: unknown; originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
    if (next === e) break;
    e = next;
  }
  return false;
}

/** What a client is told to wait before retrying: a restart or failover is over in seconds. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/** The typed, retryable answer to a database outage (503 UNAVAILABLE with `retryAfterSeconds`). */
export function databaseUnavailable(): AppError {
  return new AppError(ErrorCode.UNAVAILABLE, 'The database is unavailable right now; try again shortly', { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS, dependency: 'database' });
}
