// Holding a hijacked attach/exec connection: output demultiplexed (or raw for a TTY) to stdout/stderr,
// stdin piped in (half-closing the socket at EOF), the terminal in raw mode, resizes, detach keys.
import type { ApiClient, HijackedStream } from './api-client';
import { StreamDemultiplexer } from './stdcopy';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../wire/detach-keys';

export { DEFAULT_DETACH_KEYS, parseDetachKeys };

export interface HijackOptions {
  tty: boolean;
  stdin?: NodeJS.ReadStream | null;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Client-side detach sequence (TTY only); the daemon also gets it as ?detachKeys. */
  detachKeys?: string;
}

export interface HijackResult {
  /** The user typed the detach sequence: the container keeps running. */
  detached: boolean;
}

/** Pumps a hijacked connection until the daemon closes its side (or the user detaches). */
export function holdHijackedConnection(conn: HijackedStream, opts: HijackOptions): Promise<HijackResult> {
  const { socket } = conn;
  const stdin = opts.stdin ?? null;
  const restoreTerminal = opts.tty && stdin && stdin.isTTY ? setRawMode(stdin) : () => { /* not a terminal */ };
  return new Promise<HijackResult>((resolve, reject) => {
    let detached = false;
    let finished = false;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      if (stdin) {
        stdin.removeListener('data', onData);
        stdin.removeListener('end', onEnd);
        stdin.pause();
      }
      restoreTerminal();
      if (err) reject(err);
      else resolve({ detached });
    };

    // Output: raw for a TTY, framed otherwise (trust the daemon's content type when it gives one).
    const multiplexed = conn.multiplexed ?? !opts.tty;
    if (multiplexed) {
      const demux = new StreamDemultiplexer(opts.stdout, opts.stderr);
      demux.on('error', (e) => { socket.destroy(); finish(e); });
      socket.pipe(demux);
      demux.on('finish', () => finish());
    } else {
      socket.on('data', (chunk: Buffer) => opts.stdout.write(chunk));
      socket.on('end', () => finish());
    }
    socket.on('close', () => setImmediate(() => finish()));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') finish();
      else finish(e);
    });

    // Input: watch for the detach sequence on a TTY; half-close at EOF so output keeps flowing.
    const keys = opts.tty && opts.detachKeys !== '' ? parseDetachKeys(opts.detachKeys ?? DEFAULT_DETACH_KEYS) : Buffer.alloc(0);
    let matched = 0;
    const onData = (chunk: Buffer) => {
      if (keys.length) {
        for (const byte of chunk) {
          if (byte === keys[matched]) {
            matched++;
            if (matched === keys.length) {
              detached = true;
              socket.destroy();
              finish();
              return;
            }
          } else matched = byte === keys[0] ? 1 : 0;
        }
      }
      if (!socket.destroyed) socket.write(chunk);
    };
    const onEnd = () => { if (!socket.destroyed) socket.end(); };
    if (stdin) {
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdin.resume();
    }
  });
}

function setRawMode(stdin: NodeJS.ReadStream): () => void {
  if (typeof stdin.setRawMode !== 'function') return () => { /* no tty */ };
  const was = stdin.isRaw;
  stdin.setRawMode(true);
  return () => { try { stdin.setRawMode(was); } catch { /* terminal gone */ } };
}

/**
 * Keeps the container's (or exec's) TTY the size of ours: once now, then on every SIGWINCH.
 * `path` is "/containers/<id>" or "/exec/<id>". Returns the function that stops watching.
 */
export function monitorTtySize(api: ApiClient, path: string, stdout: NodeJS.WriteStream): () => void {
  if (!stdout.isTTY) return () => { /* no terminal to follow */ };
  const resize = () => {
    const { columns, rows } = stdout;
    if (!columns || !rows) return;
    api.call('POST', `${path}/resize`, { query: { h: rows, w: columns } }).catch(() => { /* the process may be gone */ });
  };
  resize();
  stdout.on('resize', resize);
  return () => { stdout.removeListener('resize', resize); };
}
