// /ws/exec/<container>: a terminal in the browser. An exec with a TTY is created and started hijacked on berthd;
// binary WebSocket frames carry its raw bytes both ways, text frames carry resizes in and the exit status out.
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ApiClient } from '../../cli/api-client';
import { errorMessage } from '../../errdefs';

/** What the page asked for in the WebSocket's URL. */
export interface ExecRequest { container: string; cols: number; rows: number; cmd?: string }

/** A terminal larger than this is a mistake, not a screen. */
const MAX_TERMINAL_SIDE = 1000;

/** The bytes of output held for a slow browser before the exec's output is paused. */
const HIGH_WATER_BYTES = 1 << 20;

/** Parses "/ws/exec/<container>?cols=N&rows=M[&cmd=...]", or says what is wrong with it. */
export function parseExecRequest(url: string): ExecRequest | string {
  const u = new URL(url, 'http://dashboard');
  const m = /^\/ws\/exec\/([^/]+)$/.exec(u.pathname);
  if (!m) return `no WebSocket at ${u.pathname}: the terminal is /ws/exec/<container>`;
  let container: string;
  try {
    container = decodeURIComponent(m[1]!);
  } catch {
    return 'malformed container name encoding';
  }
  const side = (name: 'cols' | 'rows'): number | string => {
    const v = u.searchParams.get(name);
    if (v === null || !/^\d{1,4}$/.test(v) || Number(v) < 1 || Number(v) > MAX_TERMINAL_SIDE) return `${name} must be a whole number from 1 to ${MAX_TERMINAL_SIDE} (got ${JSON.stringify(v)})`;
    return Number(v);
  };
  const cols = side('cols');
  const rows = side('rows');
  if (typeof cols === 'string') return cols;
  if (typeof rows === 'string') return rows;
  const cmd = u.searchParams.get('cmd');
  if (cmd !== null && cmd.trim() === '') return 'cmd is empty';
  return { container, cols, rows, ...(cmd !== null ? { cmd } : {}) };
}

/** A text frame from the page: a resize, or why it is not one. */
export function parseControlFrame(text: string): { type: 'resize'; cols: number; rows: number } | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'a text frame must be JSON: {"type":"resize","cols":N,"rows":M}';
  }
  const o = v as { type?: unknown; cols?: unknown; rows?: unknown };
  if (!o || typeof o !== 'object' || o.type !== 'resize') return `unknown control frame (want {"type":"resize","cols":N,"rows":M})`;
  const ok = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_TERMINAL_SIDE;
  if (!ok(o.cols) || !ok(o.rows)) return `resize: cols and rows must be whole numbers from 1 to ${MAX_TERMINAL_SIDE}`;
  return { type: 'resize', cols: o.cols, rows: o.rows };
}

/** berthd's exec calls the bridge makes (the CLI's client; a fake in unit tests). */
export interface ExecDaemon {
  create(container: string, body: object): Promise<string>;
  start(execId: string, body: object): Promise<Duplex>;
  resize(execId: string, cols: number, rows: number): Promise<void>;
  exitCode(execId: string): Promise<number | null>;
}

export function execDaemonOf(api: ApiClient): ExecDaemon {
  return {
    create: async (container, body) => (await api.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(container)}/exec`, { body })).Id,
    start: async (execId, body) => (await api.hijack('POST', `/exec/${execId}/start`, { body })).socket,
    resize: (execId, cols, rows) => api.call('POST', `/exec/${execId}/resize`, { query: { h: rows, w: cols } }),
    async exitCode(execId) {
      // berthd records the exit as the stream ends; a moment's wait covers a record written just after.
      for (let i = 0; i < 40; i++) {
        const s = await api.json<{ Running: boolean; ExitCode: number | null }>('GET', `/exec/${execId}/json`);
        if (!s.Running) return s.ExitCode;
        await new Promise((r) => setTimeout(r, 50));
      }
      return null;
    },
  };
}

/** Runs one terminal session on an accepted WebSocket until either side ends it. */
export async function bridgeExec(ws: WebSocket, daemon: ExecDaemon, request: ExecRequest): Promise<void> {
  const fail = (message: string) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(JSON.stringify({ type: 'error', message }));
    // A close reason is at most 123 bytes.
    ws.close(1011, Buffer.from(message).subarray(0, 120).toString('utf8').replace(/\uFFFD+$/, ''));
  };
  // The page may type or resize (xterm's first fit) as soon as the socket opens, before the exec has started:
  // those frames wait here and go to the exec, in order, once it runs.
  const early: { data: Buffer; isBinary: boolean }[] = [];
  const holdEarly = (data: Buffer, isBinary: boolean) => { early.push({ data, isBinary }); };
  ws.on('message', holdEarly);
  let stream: Duplex;
  let execId: string;
  try {
    const size = [request.rows, request.cols];
    execId = await daemon.create(request.container, {
      AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true,
      Cmd: request.cmd !== undefined ? ['/bin/sh', '-c', request.cmd] : ['/bin/sh'],
      Env: ['TERM=xterm-256color'], ConsoleSize: size,
    });
    stream = await daemon.start(execId, { Detach: false, Tty: true, ConsoleSize: size });
  } catch (e) {
    return fail(errorMessage(e));
  }
  if (ws.readyState !== ws.OPEN) return void stream.destroy();

  stream.on('data', (chunk: Buffer) => {
    ws.send(chunk, { binary: true });
    // The browser reads slower than the shell writes (a `cat` of a big file): hold the exec until it catches up.
    if (ws.bufferedAmount > HIGH_WATER_BYTES) {
      stream.pause();
      const poll = setInterval(() => {
        if (ws.readyState !== ws.OPEN || ws.bufferedAmount <= HIGH_WATER_BYTES / 2) { clearInterval(poll); stream.resume(); }
      }, 20);
    }
  });
  const onMessage = (data: Buffer, isBinary: boolean) => {
    if (isBinary) return void stream.write(data);
    const control = parseControlFrame(data.toString('utf8'));
    if (typeof control === 'string') return fail(control);
    daemon.resize(execId, control.cols, control.rows).catch((e: unknown) => fail(`resize: ${errorMessage(e)}`));
  };
  ws.off('message', holdEarly);
  for (const m of early) onMessage(m.data, m.isBinary);
  ws.on('message', onMessage);
  // The page closed the terminal: the exec's stream ends (its shell sees the hang-up).
  ws.on('close', () => stream.destroy());
  stream.on('error', () => stream.destroy());
  // The output ends when the process does (berthd closes its side): the exit status follows, then the close.
  let ended = false;
  const ending = () => {
    if (ended) return;
    ended = true;
    stream.destroy();
    if (ws.readyState !== ws.OPEN) return;
    daemon.exitCode(execId).then((code) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(JSON.stringify({ type: 'exit', code }));
      ws.close(1000, 'the process ended');
    }, (e: unknown) => fail(errorMessage(e)));
  };
  stream.on('end', ending);
  stream.on('close', ending);
}
