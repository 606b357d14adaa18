// Time-series drawings with uPlot: the detail view's plots (CPU, memory with its limit, network, block I/O) and the
// table's sparklines. One uPlot per drawing, made on mount and fed with setData on each stats tick.
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { pointsIn } from '../model/stats-history';

export interface Line {
  label: string;
  values: (number | null)[];
  stroke: string;
  dash?: number[];
}

function useUplot(make: (el: HTMLElement) => uPlot, data: uPlot.AlignedData, deps: unknown[]) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  useEffect(() => {
    chart.current = make(box.current!);
    return () => { chart.current?.destroy(); chart.current = null; };
  }, deps);
  useEffect(() => { chart.current?.setData(data); });
  return box;
}

/**
 * A plot over time; data-points on its element counts the points its first line draws (the tests' hook). `ceiling`,
 * when given, caps the y axis (a memory limit far above the usage would flatten the usage into the axis).
 */
export function Plot({ testid, title, time, lines, format, ceiling }: { testid: string; title: string; time: number[]; lines: Line[]; format: (v: number) => string; ceiling?: () => number | undefined }) {
  const data = [time, ...lines.map((l) => l.values)] as uPlot.AlignedData;
  // uPlot keeps the range function it was made with: it reads the newest ceiling through this ref.
  const ceil = useRef(ceiling);
  ceil.current = ceiling;
  const box = useUplot((el) => new uPlot({
    width: Math.max(280, el.clientWidth || 480),
    height: 170,
    legend: { show: true },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => { const top = Math.min(max, ceil.current?.() ?? Infinity); return [0, top > 0 ? top * 1.1 : 1]; } } },
    axes: [{ stroke: '#889' }, { stroke: '#889', size: 70, values: (_u, ticks) => ticks.map(format) }],
    series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.stroke, width: 1.5, dash: l.dash, value: (_u: uPlot, v: number | null) => (v === null ? '–' : format(v)) }))],
  }, data, el), data, [lines.length]);
  return html`<div class="plot" data-testid=${testid} data-points=${pointsIn(lines[0]?.values ?? [])}>
    <div class="plot-title">${title}</div><div ref=${box}></div></div>`;
}

/** A small line with no axes for a table cell. */
export function Sparkline({ testid, values, stroke, max }: { testid: string; values: (number | null)[]; stroke: string; max?: number }) {
  const data = [values.map((_, i) => i), values] as uPlot.AlignedData;
  const box = useUplot((el) => new uPlot({
    width: 80,
    height: 22,
    legend: { show: false },
    cursor: { show: false },
    pxAlign: 0,
    scales: { x: { time: false }, y: { range: (_u, _min, hi) => [0, Math.max(max ?? 0, hi, 1e-9)] } },
    axes: [{ show: false }, { show: false }],
    series: [{}, { stroke, width: 1, fill: `${stroke}33`, points: { show: false } }],
  }, data, el), data, []);
  return html`<div class="spark" data-testid=${testid} data-points=${pointsIn(values)} ref=${box}></div>`;
}
