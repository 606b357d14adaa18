// The containers table: grouped by Compose project and cluster service, live CPU and memory sparklines from the
// shared stats stream, rendered as a window over the rows so 1,000 containers stay responsive.
import { html } from 'htm/preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ContainerSummary } from '../../../wire/docker';
import { containerName, matchesFilter, tableRows, type TableRow } from '../model/grouping';
import { bytes, healthOf, percent, portLinks } from '../model/format';
import { visibleRange } from '../model/window';
import { ActionButtons } from './actions';
import { live, useLive } from './live';
import { Sparkline } from './plots';

const ROW_HEIGHT = 34;
const SPARK_POINTS = 60;

function Ports({ c }: { c: ContainerSummary }) {
  return html`<span class="ports">${portLinks(c.Ports, location.hostname).map((p) =>
    p.href ? html`<a href=${p.href} target="_blank" rel="noopener noreferrer">${p.label}</a>` : html`<span>${p.label}</span>`)}</span>`;
}

function ContainerRow({ c, grouped, top }: { c: ContainerSummary; grouped: boolean; top: number }) {
  const s = live.stats.series(c.Id, SPARK_POINTS);
  const latest = live.stats.latest(c.Id);
  const health = healthOf(c.Status);
  return html`<div class=${`row crow state-${c.State}`} style=${`top:${top}px`} data-testid="container-row" data-id=${c.Id} data-name=${containerName(c)} data-state=${c.State}>
    <span class=${grouped ? 'name grouped' : 'name'}><a href=${`#/containers/${c.Id}`}>${containerName(c)}</a></span>
    <span class="image" title=${c.Image}>${c.Image}</span>
    <span class="state"><span class=${`dot ${c.State}`}></span>${c.State}</span>
    <span class=${`health ${health}`}>${health}</span>
    <${Ports} c=${c} />
    <span class="uptime" title=${c.Status}>${c.Status}</span>
    <span class="metric"><${Sparkline} testid="spark-cpu" values=${s.cpu} stroke="#4a9eff" max=${1} /><span>${latest ? percent(latest.CPUPercent) : ''}</span></span>
    <span class="metric"><${Sparkline} testid="spark-mem" values=${s.mem} stroke="#b57bff" /><span>${latest ? bytes(latest.MemoryUsage) : ''}</span></span>
    <${ActionButtons} container=${c} />
  </div>`;
}

function GroupRow({ row, top }: { row: Extract<TableRow, { type: 'group' }>; top: number }) {
  return html`<div class="row grow" style=${`top:${top}px`} data-testid="group" data-group=${row.name} data-kind=${row.kind}>
    <span class="group-kind">${row.kind === 'compose' ? 'Compose project' : 'Service'}</span>
    <strong>${row.name}</strong><span class="muted">${row.running}/${row.count} running</span></div>`;
}

export function ContainersView() {
  useLive();
  const [filter, setFilter] = useState('');
  const [scroll, setScroll] = useState({ top: 0, height: 800 });
  const viewport = useRef<HTMLDivElement>(null);
  const containers = live.containers;
  const rows = useMemo(() => tableRows(containers.filter((c) => matchesFilter(c, filter))), [containers, filter]);
  useEffect(() => {
    const el = viewport.current!;
    const measure = () => setScroll({ top: el.scrollTop, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const { start, end } = visibleRange(scroll.top, scroll.height, ROW_HEIGHT, rows.length);
  const running = containers.filter((c) => c.State === 'running').length;
  return html`<section class="view containers">
    <div class="toolbar">
      <input type="search" placeholder="Filter by name, image, label…" value=${filter} onInput=${(e: Event) => setFilter((e.target as HTMLInputElement).value)} data-testid="containers-filter" />
      <span class="muted" data-testid="container-count" data-count=${containers.length} data-loaded=${String(live.containersLoaded)}>${containers.length} containers, ${running} running</span>
    </div>
    <div class="row header"><span>Name</span><span>Image</span><span>State</span><span>Health</span><span>Ports</span><span>Status</span><span>CPU</span><span>Memory</span><span>Actions</span></div>
    <div class="table-viewport" ref=${viewport} onScroll=${(e: Event) => { const el = e.currentTarget as HTMLElement; setScroll({ top: el.scrollTop, height: el.clientHeight }); }}>
      <div class="table-body" style=${`height:${rows.length * ROW_HEIGHT}px`}>
        ${rows.slice(start, end).map((row, i) => {
          const top = (start + i) * ROW_HEIGHT;
          return row.type === 'group'
            ? html`<${GroupRow} key=${`g:${row.kind}:${row.name}`} row=${row} top=${top} />`
            : html`<${ContainerRow} key=${row.container.Id} c=${row.container} grouped=${row.grouped} top=${top} />`;
        })}
      </div>
    </div>
  </section>`;
}
