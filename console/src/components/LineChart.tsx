// Metric curves with uPlot: one or more series over training steps (runs compared on one chart share the x axis).
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  name: string;
  points: Array<{ step: number; value: number }>;
}

export const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#9333ea', '#ea580c'];

/** Aligns series on the union of their steps (uPlot's data layout); a missing step is a gap. */
export function alignSeries(series: Series[]): uPlot.AlignedData {
  const steps = [...new Set(series.flatMap((s) => s.points.map((p) => p.step)))].sort((a, b) => a - b);
  const at = new Map(steps.map((s, i) => [s, i]));
  const ys = series.map((s) => {
    const y: Array<number | null> = new Array(steps.length).fill(null);
    for (const p of s.points) y[at.get(p.step)!] = p.value;
    return y;
  });
  return [steps, ...ys] as uPlot.AlignedData;
}

export function LineChart(props: { series: Series[]; height?: number; testId?: string; yLabel?: string }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.name).join('|');

  useEffect(() => {
    const node = el.current;
    if (!node) return;
    const opts: uPlot.Options = {
      width: Math.max(200, node.clientWidth),
      height: props.height ?? 240,
      scales: { x: { time: false } },
      axes: [{ label: 'step' }, { label: props.yLabel ?? '', size: 60 }],
      series: [{ label: 'step' }, ...props.series.map((s, i) => ({ label: s.name, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: true, points: { show: s.points.length < 60 } }))],
      legend: { show: true },
    };
    plot.current = new uPlot(opts, alignSeries(props.series), node);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, node.clientWidth), height: props.height ?? 240 }));
    ro.observe(node);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt only when the set of series changes; new points go through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, props.height]);

  useEffect(() => {
    plot.current?.setData(alignSeries(props.series));
  }, [props.series]);

  return (
    <div
      className="chart"
      ref={el}
      data-testid={props.testId}
      data-points={props.series.reduce((n, s) => n + s.points.length, 0)}
      data-series-points={JSON.stringify(props.series.map((s) => s.points.length))}
    />
  );
}
