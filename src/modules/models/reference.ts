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

/** An evaluation report's headline score (higher is better), used to gate alias promotion. */
export function headlineScore(evaluation: unknown): { metric: string; value: number } | null {
  if (!evaluation || typeof evaluation !== 'object') return null;
  const e = evaluation as Record<string, unknown>;
  for (const metric of ['accuracy', 'linearProbeAccuracy', 'knnAccuracy', 'macroF1', 'r2']) {
    const v = e[metric];
    if (typeof v === 'number' && Number.isFinite(v)) return { metric, value: v };
  }
  if (typeof e.rmse === 'number' && Number.isFinite(e.rmse)) return { metric: 'rmse', value: -e.rmse };
  return null;
}
