// Parses how callers name a model: a model version id, a model id, or `name`, `name@alias`, `name@v3`.
import { isUuid } from '../../db/errors';

export type ModelRef =
  | { kind: 'id'; id: string }
  | { kind: 'name'; name: string; alias: string | null; version: number | null };

export function parseModelRef(ref: string): ModelRef | null {
  const s = ref.trim();
  if (isUuid(s)) return { kind: 'id', id: s.toLowerCase() };
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]{0,99})(?:@(?:v?(\d{1,9})|([a-z][a-z0-9_-]{0,39})))?$/.exec(s);
  if (!m) return null;
  return { kind: 'name', name: m[1]!, version: m[2] ? Number(m[2]) : null, alias: m[3] ?? null };
}

export { headlineScore } from '../../models/headline';
