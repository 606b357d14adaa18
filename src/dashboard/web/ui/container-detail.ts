// One container: its actions, live plots of CPU, memory (limit drawn), network and block I/O over the last minutes,
// live logs, a terminal on demand, and its inspect data (as text).
import { html } from 'htm/preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ContainerSummary, EventMessage } from '../../../wire/docker';
import { bytes, percent, rate } from '../model/format';
import { ActionButtons } from './actions';
import { getJson } from './api';
import { live, useEvents, useLive } from './live';
import { LogsView } from './logs-view';
import { Plot } from './plots';
import { TerminalView } from './terminal';

interface Inspect {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  Path: string;
  Args: string[];
  State: { Status: string; StartedAt?: string; Health?: { Status: string } };
  Config: { Image: string; Tty: boolean; Labels?: Record<string, string> };
}

/** Over this many times the peak usage, the memory limit (the host's memory, without --memory) is noted, not drawn. */
const LIMIT_DRAWN_WITHIN = 4;

function Plots({ id }: { id: string }) {
  const s = live.stats.series(id);
  const peak = Math.max(0, ...s.mem.map((v) => v ?? 0));
  const limit = s.memLimit.reduce<number | null>((last, v) => v ?? last, null);
  const limitOff = limit !== null && peak > 0 && limit > peak * LIMIT_DRAWN_WITHIN;
  const memCeiling = () => (limitOff ? peak * 1.2 : undefined);
  return html`<div class="plots">
    <${Plot} testid="plot-cpu" title="CPU" time=${s.time} format=${percent} lines=${[{ label: 'CPU', values: s.cpu, stroke: '#4a9eff' }]} />
    <${Plot} testid="plot-mem" title=${limitOff ? `Memory (limit ${bytes(limit!)}, far above)` : 'Memory'} time=${s.time} format=${bytes} ceiling=${memCeiling} lines=${[{ label: 'used', values: s.mem, stroke: '#b57bff' }, { label: 'limit', values: s.memLimit, stroke: '#e06c75', dash: [6, 4] }]} />
    <${Plot} testid="plot-net" title="Network" time=${s.time} format=${rate} lines=${[{ label: 'received', values: s.netRx, stroke: '#56b6c2' }, { label: 'sent', values: s.netTx, stroke: '#e5c07b' }]} />
    <${Plot} testid="plot-blk" title="Block I/O" time=${s.time} format=${rate} lines=${[{ label: 'read', values: s.blkRead, stroke: '#98c379' }, { label: 'written', values: s.blkWrite, stroke: '#d19a66' }]} />
  </div>`;
}

export function ContainerDetail({ id }: { id: string }) {
  useLive();
  const [inspect, setInspect] = useState<Inspect | undefined>();
  const [error, setError] = useState('');
  const [terminal, setTerminal] = useState(false);
  const load = useCallback(() => {
    getJson<Inspect>(`/containers/${encodeURIComponent(id)}/json`).then((i) => { setInspect(i); setError(''); }, (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  }, [id]);
  useEffect(load, [load]);
  useEvents(useCallback((ev: EventMessage) => { if (ev.Type === 'container' && ev.Actor?.ID === inspect?.Id && !ev.Action.startsWith('exec_')) load(); }, [inspect?.Id, load]));
  const summary: ContainerSummary | undefined = live.containers.find((c) => c.Id === id || c.Id === inspect?.Id || c.Names?.includes(`/${id}`));
  if (error && !inspect) return html`<section class="view"><p class="error">${error}</p><a href="#/containers">Back to the containers</a></section>`;
  if (!inspect) return html`<section class="view"><p class="muted">Loading…</p></section>`;
  const running = inspect.State.Status === 'running';
  return html`<section class="view detail">
    <div class="detail-head">
      <a href="#/containers">← containers</a>
      <h2>${inspect.Name.replace(/^\//, '')}</h2>
      <span class=${`dot ${inspect.State.Status}`}></span><span data-testid="detail-state">${inspect.State.Status}</span>
      ${inspect.State.Health && html`<span class="health">${inspect.State.Health.Status}</span>`}
      <span class="muted">${inspect.Config.Image}</span>
      ${summary && html`<${ActionButtons} container=${summary} after=${load} />`}
    </div>
    ${error && html`<p class="error">${error}</p>`}
    <${Plots} id=${inspect.Id} />
    <h3>Logs</h3>
    <${LogsView} id=${inspect.Id} tty=${inspect.Config.Tty} />
    <h3>Terminal</h3>
    ${terminal ? html`<${TerminalView} id=${inspect.Id} />` : html`<button data-testid="open-terminal" disabled=${!running} onClick=${() => setTerminal(true)}>Open a shell (/bin/sh)</button>`}
    <h3>Inspect</h3>
    <pre class="inspect" data-testid="inspect">${JSON.stringify(inspect, null, 2)}</pre>
  </section>`;
}
