// A sequence row as a tiny line per feature (SVG), for dataset previews.
import { PALETTE } from './LineChart';

export function Sparkline({ sequence, width = 160, height = 36 }: { sequence: number[][]; width?: number; height?: number }) {
  const steps = sequence.length;
  const features = sequence[0]?.length ?? 0;
  const flat = sequence.flat();
  const lo = Math.min(...flat);
  const hi = Math.max(...flat);
  const span = hi - lo || 1;
  const lines = Array.from({ length: features }, (_, f) =>
    sequence.map((step, t) => `${((t / Math.max(1, steps - 1)) * (width - 2) + 1).toFixed(1)},${(height - 1 - ((step[f]! - lo) / span) * (height - 2)).toFixed(1)}`).join(' '),
  );
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${steps} steps × ${features} features`}>
      {lines.map((pts, f) => (
        <polyline key={f} points={pts} fill="none" stroke={PALETTE[f % PALETTE.length]} strokeWidth="1.5" />
      ))}
    </svg>
  );
}
