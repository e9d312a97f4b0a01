// The embedding map: up to 50 000 points on one 2-D canvas, colored by label, with wheel zoom, drag pan, hover
// (nearest point through a uniform grid, so a pointer move costs a few cells, not a scan) and click.
// Points are batched by color (one fillStyle per label), which keeps a full redraw of 50 000 points to a few ms.
import { useEffect, useMemo, useRef, useState } from 'react';
import { PALETTE } from './LineChart';

export interface MapPoints {
  /** Interleaved x, y. */
  xy: Float32Array;
  /** Index into labels per point, -1 for none. */
  labelIds: number[];
  labels: string[];
}

const GRID = 96;
const HOVER_PX = 8;
const UNLABELED = '#94a3b8';

export function colorOf(labelId: number): string {
  return labelId < 0 ? UNLABELED : PALETTE[labelId % PALETTE.length]!;
}

interface View {
  scale: number;
  dx: number;
  dy: number;
}

/** Points normalized into [0, 1]² (aspect kept), and a grid of point indices over that square. */
function layout(xy: Float32Array) {
  const n = xy.length / 2;
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i]!, y = xy[2 * i + 1]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const span = Math.max(maxX - minX, maxY - minY) || 1;
  const ox = (span - (maxX - minX)) / 2, oy = (span - (maxY - minY)) / 2;
  const norm = new Float32Array(n * 2);
  const grid: number[][] = Array.from({ length: GRID * GRID }, () => []);
  for (let i = 0; i < n; i++) {
    const u = (xy[2 * i]! - minX + ox) / span;
    const v = 1 - (xy[2 * i + 1]! - minY + oy) / span;
    norm[2 * i] = u;
    norm[2 * i + 1] = v;
    grid[Math.min(GRID - 1, Math.floor(v * GRID)) * GRID + Math.min(GRID - 1, Math.floor(u * GRID))]!.push(i);
  }
  return { norm, grid };
}

export function ScatterMap(props: {
  points: MapPoints;
  highlight?: ReadonlySet<number>;
  selected?: number | null;
  onHover?: (index: number | null, at: { x: number; y: number }) => void;
  onClick?: (index: number) => void;
  height?: number;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [view, setView] = useState<View>({ scale: 1, dx: 0, dy: 0 });
  const [size, setSize] = useState({ w: 800, h: props.height ?? 560 });
  const [drawn, setDrawn] = useState(0);
  /** Where point 0 is on the canvas (CSS px), so tests can hover and click a known point. */
  const [point0, setPoint0] = useState('');
  const drag = useRef<{ x: number; y: number; moved: boolean } | null>(null);
  const { norm, grid } = useMemo(() => layout(props.points.xy), [props.points.xy]);
  const n = norm.length / 2;
  const pad = 16;
  const side = Math.min(size.w, size.h) - 2 * pad;
  const offX = (size.w - side) / 2, offY = (size.h - side) / 2;
  const toScreen = (i: number) => ({ x: offX + (norm[2 * i]! * side) * view.scale + view.dx, y: offY + (norm[2 * i + 1]! * side) * view.scale + view.dy });

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const ro = new ResizeObserver(() => setSize({ w: c.clientWidth, h: props.height ?? 560 }));
    ro.observe(c);
    return () => ro.disconnect();
  }, [props.height]);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(size.w * dpr);
    c.height = Math.round(size.h * dpr);
    const ctx = c.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, size.w, size.h);
    const r = n > 20_000 ? 1.2 : n > 5_000 ? 1.8 : n > 500 ? 2.6 : 4;
    const dim = props.highlight && props.highlight.size > 0;
    // One pass per color: labels share a fillStyle.
    const byColor = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const id = props.points.labelIds[i] ?? -1;
      let list = byColor.get(id);
      if (!list) byColor.set(id, (list = []));
      list.push(i);
    }
    let count = 0;
    ctx.globalAlpha = dim ? 0.25 : 0.85;
    for (const [id, list] of byColor) {
      ctx.fillStyle = colorOf(id);
      for (const i of list) {
        const p = toScreen(i);
        ctx.fillRect(p.x - r, p.y - r, 2 * r, 2 * r);
        count++;
      }
    }
    ctx.globalAlpha = 1;
    if (props.highlight) {
      for (const i of props.highlight) {
        const p = toScreen(i);
        ctx.beginPath();
        ctx.arc(p.x, p.y, r + 3, 0, 2 * Math.PI);
        ctx.fillStyle = colorOf(props.points.labelIds[i] ?? -1);
        ctx.fill();
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = '#0f172a';
        ctx.stroke();
      }
    }
    if (props.selected != null && props.selected < n) {
      const p = toScreen(props.selected);
      ctx.beginPath();
      ctx.arc(p.x, p.y, r + 7, 0, 2 * Math.PI);
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = '#f59e0b';
      ctx.stroke();
    }
    setDrawn(count);
    if (n > 0) {
      const p0 = toScreen(0);
      setPoint0(`${p0.x.toFixed(1)},${p0.y.toFixed(1)}`);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [norm, view, size, props.highlight, props.selected, props.points.labelIds]);

  /** Nearest point within HOVER_PX of a canvas position. */
  const pick = (sx: number, sy: number): number | null => {
    const u = (sx - view.dx - offX) / (side * view.scale);
    const v = (sy - view.dy - offY) / (side * view.scale);
    const reach = Math.ceil((HOVER_PX / (side * view.scale)) * GRID) + 1;
    const gu = Math.floor(u * GRID), gv = Math.floor(v * GRID);
    let best: number | null = null;
    let bestD = HOVER_PX * HOVER_PX;
    for (let a = Math.max(0, gv - reach); a <= Math.min(GRID - 1, gv + reach); a++) {
      for (let b = Math.max(0, gu - reach); b <= Math.min(GRID - 1, gu + reach); b++) {
        for (const i of grid[a * GRID + b]!) {
          const p = toScreen(i);
          const d = (p.x - sx) ** 2 + (p.y - sy) ** 2;
          if (d < bestD) {
            bestD = d;
            best = i;
          }
        }
      }
    }
    return best;
  };

  const local = (e: React.MouseEvent | React.WheelEvent) => {
    const rect = canvas.current!.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  };

  return (
    <canvas
      ref={canvas}
      className="map-canvas"
      data-testid="map-canvas"
      data-drawn={drawn}
      data-points={n}
      data-point0={point0}
      data-highlighted={props.highlight?.size ?? 0}
      onWheel={(e) => {
        const at = local(e);
        const f = e.deltaY < 0 ? 1.2 : 1 / 1.2;
        setView((v) => {
          const scale = Math.min(200, Math.max(0.5, v.scale * f));
          const k = scale / v.scale;
          // Keep the point under the pointer where it is.
          return { scale, dx: at.x - offX - (at.x - offX - v.dx) * k, dy: at.y - offY - (at.y - offY - v.dy) * k };
        });
      }}
      onMouseDown={(e) => {
        drag.current = { ...local(e), moved: false };
      }}
      onMouseMove={(e) => {
        const at = local(e);
        if (drag.current && (e.buttons & 1) === 1) {
          const d = drag.current;
          if (Math.abs(at.x - d.x) + Math.abs(at.y - d.y) > 2) d.moved = true;
          if (d.moved) {
            setView((v) => ({ ...v, dx: v.dx + at.x - d.x, dy: v.dy + at.y - d.y }));
            drag.current = { ...at, moved: true };
            return;
          }
        }
        props.onHover?.(pick(at.x, at.y), at);
      }}
      onMouseLeave={(e) => {
        drag.current = null;
        props.onHover?.(null, local(e));
      }}
      onMouseUp={(e) => {
        const d = drag.current;
        drag.current = null;
        if (d?.moved) return;
        const at = local(e);
        const i = pick(at.x, at.y);
        if (i !== null) props.onClick?.(i);
      }}
      onDoubleClick={() => setView({ scale: 1, dx: 0, dy: 0 })}
    />
  );
}
