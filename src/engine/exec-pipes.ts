// The stdio of an exec run on pipes berthd holds: its output as log entries in arrival order, its stdin from a client.
import { finished, type Readable, type Writable } from 'node:stream';
import type { LogEntry } from './logs';

/** How long output may still come once the process has exited (what it wrote before is in the pipe already). */
export const OUTPUT_GRACE_MS = 200;
/** Entries read ahead of the consumer before the pipes are paused (the process then waits, as on a full pipe). */
const READ_AHEAD = 32;

/**
 * The process's stdout and stderr as log entries, until both pipes end, or `exited` settled and the grace went by:
 * a process that leaves a child holding its output (`sh -c 'sleep 600 &'`) ends with its exit, as under conmon.
 * A consumer that stops early (the client went away) leaves the pipes drained to the end, so the process never
 * blocks on a pipe nobody reads: Docker keeps such an exec running.
 */
export function pipeOutput(streams: { stdout: Readable | null; stderr: Readable | null }, exited: Promise<unknown>, o: { signal?: AbortSignal; graceMs?: number } = {}): AsyncGenerator<LogEntry> {
  const sources = ([['stdout', streams.stdout], ['stderr', streams.stderr]] as const).filter((s): s is readonly ['stdout' | 'stderr', Readable] => s[1] !== null);
  const queue: LogEntry[] = [];
  let open = sources.length;
  let discard = false;
  let wake: (() => void) | undefined;
  const notify = () => { const w = wake; wake = undefined; w?.(); };
  const setFlowing = (on: boolean) => { for (const [, r] of sources) if (on) r.resume(); else r.pause(); };
  for (const [stream, r] of sources) {
    r.on('data', (data: Buffer) => {
      if (discard) return;
      const timeNano = BigInt(Date.now()) * 1_000_000n;
      queue.push({ stream, data, timeNano, time: new Date(Number(timeNano / 1_000_000n)).toISOString() });
      if (queue.length >= READ_AHEAD) setFlowing(false);
      notify();
    });
    // finished() also answers for a pipe that already ended (a fast process's, before its output was asked for).
    finished(r, () => {
      if (--open === 0) clearTimeout(timer);
      notify();
    });
  }
  let timer: NodeJS.Timeout | undefined;
  void exited.then(() => {
    if (open === 0) return;
    timer = setTimeout(() => { for (const [, r] of sources) r.destroy(); }, o.graceMs ?? OUTPUT_GRACE_MS);
  });
  const onAbort = () => notify();
  o.signal?.addEventListener('abort', onAbort);
  return (async function* () {
    try {
      for (;;) {
        if (o.signal?.aborted) return;
        const e = queue.shift();
        if (e) {
          if (queue.length < READ_AHEAD / 2) setFlowing(true);
          yield e;
          continue;
        }
        if (open === 0) {
          // The output's end is the exec's end for its client: the docker CLI reads the exit code from exec inspect
          // as soon as the stream ends, so the pipes closing (the process's last write) must not come before it.
          await exited.catch(() => undefined);
          return;
        }
        await new Promise<void>((resolve) => { wake = resolve; });
      }
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      discard = true;
      queue.length = 0;
      setFlowing(true);
    }
  })();
}

/**
 * Copies a client's input to the process's stdin; the input's end (or the client going away) closes it, which the
 * process reads as end of file. What the process no longer reads is dropped.
 */
export function feedStdin(input: Readable, stdin: Writable): Promise<void> {
  return new Promise((resolve) => {
    stdin.once('close', () => {
      input.unpipe(stdin);
      input.resume();
      resolve();
    });
    stdin.on('error', () => stdin.destroy());
    const close = () => { if (!stdin.writableEnded && !stdin.destroyed) stdin.end(() => stdin.destroy()); };
    input.once('end', close);
    input.once('close', close);
    input.once('error', close);
    input.pipe(stdin, { end: false });
  });
}
