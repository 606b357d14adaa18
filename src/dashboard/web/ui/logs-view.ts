// A container's live logs: one follow stream (Docker's 8-byte frames demultiplexed, or raw for a TTY), lines kept
// bounded, stdout and stderr told apart, a search box and a timestamps toggle.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { LogLineAssembler, StdcopyDemuxer, type LogLine } from '../model/stdcopy';
import { stream } from './api';

const MAX_LINES = 5000;
const SHOWN_LINES = 1000;

export function LogsView({ id, tty }: { id: string; tty: boolean }) {
  const lines = useRef<LogLine[]>([]);
  const [, setVersion] = useState(0);
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState('');
  const [timestamps, setTimestamps] = useState(false);
  const [status, setStatus] = useState('');
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const ctl = new AbortController();
    lines.current = [];
    const demux = new StdcopyDemuxer();
    const assembler = new LogLineAssembler();
    let queued = false;
    const add = (more: LogLine[]) => {
      if (more.length === 0) return;
      lines.current.push(...more);
      if (lines.current.length > MAX_LINES) lines.current.splice(0, lines.current.length - MAX_LINES);
      if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; setVersion((v) => v + 1); }); }
    };
    const query = `follow=${follow ? 1 : 0}&stdout=1&stderr=1&timestamps=1&tail=${MAX_LINES}`;
    setStatus(follow ? 'following' : '');
    stream(`/containers/${encodeURIComponent(id)}/logs?${query}`, ctl.signal, (chunk) => {
      if (tty) add(assembler.push('stdout', chunk));
      else for (const f of demux.push(chunk)) add(assembler.push(f.stream, f.data));
    }).then(() => { add(assembler.flush()); setStatus(follow ? 'the log stream ended' : ''); },
      (err: unknown) => { if (!ctl.signal.aborted) setStatus(`logs: ${err instanceof Error ? err.message : String(err)}`); });
    return () => ctl.abort();
  }, [id, tty, follow]);

  // Stay at the bottom while following, unless the reader scrolled up.
  useEffect(() => {
    const el = box.current;
    if (el && follow && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  });

  const needle = search.toLowerCase();
  const shown = (needle ? lines.current.filter((l) => l.text.toLowerCase().includes(needle)) : lines.current).slice(-SHOWN_LINES);
  return html`<div class="logs-panel">
    <div class="toolbar">
      <label><input type="checkbox" checked=${follow} onChange=${(e: Event) => setFollow((e.target as HTMLInputElement).checked)} data-testid="logs-follow" /> follow</label>
      <label><input type="checkbox" checked=${timestamps} onChange=${(e: Event) => setTimestamps((e.target as HTMLInputElement).checked)} data-testid="logs-timestamps" /> timestamps</label>
      <input type="search" placeholder="Search the logs" value=${search} onInput=${(e: Event) => setSearch((e.target as HTMLInputElement).value)} data-testid="logs-search" />
      <span class="muted">${status} · ${shown.length} of ${lines.current.length} lines</span>
    </div>
    <div class="logs" ref=${box} data-testid="logs">
      ${shown.map((l) => html`<div class=${`log-line ${l.stream}`} data-testid="log-line" data-stream=${l.stream}>${timestamps && l.time ? html`<span class="ts">${l.time}</span>` : null}${l.text}</div>`)}
    </div>
  </div>`;
}
