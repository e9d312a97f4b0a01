// The one score an evaluation report is ranked by (alias promotion, `pretext models show`). Dependency-free: the
// CLI uses it too.
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
