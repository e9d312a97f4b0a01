// Opaque keyset cursors over (createdAt desc, id desc): stable under inserts, unlike offsets.
import { badInput } from '../../errors';

export interface Page<T> {
  nodes: T[];
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { at: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const at = new Date(iso ?? '');
  if (!id || Number.isNaN(at.getTime()) || !/^[0-9a-f-]{36}$/i.test(id)) throw badInput(`Invalid cursor "${cursor}": pass a pageInfo.endCursor from an earlier page`);
  return { at, id };
}
