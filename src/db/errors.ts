// Recognizes the database errors that map to user-facing outcomes.
import { Prisma } from './generated/client';

/** Unique constraint violation (Prisma P2002, or Postgres 23505 surfacing through the driver adapter). */
export function isUniqueViolation(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientKnownRequestError) return err.code === 'P2002';
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUID columns; anything else cannot exist, and must not reach Postgres as a cast error. */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
