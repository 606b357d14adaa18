// An interactive shell in a container: xterm.js over the dashboard's WebSocket (/ws/exec/<id>), raw bytes both ways
// in binary frames, resizes as text frames, the exit code shown when the shell ends.
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';

export function TerminalView({ id }: { id: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const term = new Terminal({ cursorBlink: true, fontSize: 13, convertEol: false, theme: { background: '#10131a' } });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box.current!);
    fit.fit();
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws/exec/${encodeURIComponent(id)}?cols=${term.cols}&rows=${term.rows}`);
    ws.binaryType = 'arraybuffer';
    const encoder = new TextEncoder();
    ws.onmessage = (m: MessageEvent) => {
      if (typeof m.data !== 'string') { term.write(new Uint8Array(m.data as ArrayBuffer)); return; }
      try {
        const msg = JSON.parse(m.data) as { type?: string; code?: number };
        if (msg.type === 'exit') term.write(`\r\n[the shell exited with code ${msg.code}]\r\n`);
      } catch { /* only the exit message is text */ }
    };
    ws.onclose = () => term.write('\r\n[disconnected]\r\n');
    ws.onerror = () => term.write('\r\n[the terminal connection failed]\r\n');
    const input = term.onData((d) => { if (ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(d)); });
    const resize = term.onResize(({ cols, rows }) => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resize', cols, rows })); });
    const ro = new ResizeObserver(() => { try { fit.fit(); } catch { /* hidden: nothing to fit */ } });
    ro.observe(box.current!);
    term.focus();
    return () => { ro.disconnect(); input.dispose(); resize.dispose(); ws.close(); term.dispose(); };
  }, [id]);
  return html`<div class="terminal" data-testid="terminal" ref=${box}></div>`;
}
