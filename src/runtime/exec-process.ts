// Runs a process inside a running container (`docker exec`) with the runtime's `exec`, under its own conmon in exec
// mode: the way for a TTY, whose pty master conmon receives on a console socket (Node cannot receive a descriptor).
import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { RuntimeSpec } from '../wire/oci';
import { SystemError } from '../errdefs';
import { cleanRuntimeMessage, type RuntimeBinaries } from './oci-runtime';

export type ProcessSpec = NonNullable<RuntimeSpec['process']>;

export interface ExecProcessOptions {
  /** The container the process joins. */
  containerId: string;
  execId: string;
  runtime: string;
  /**
   * The session's own directory: conmon keeps the attach socket and the ctl/winsz fifos here, writes the
   * process's k8s-file log to `exec.log` and its exit code to `exit`.
   */
  dir: string;
  process: ProcessSpec;
  stdin: boolean;
  terminal: boolean;
  /** Someone reads the output (false for a detached exec: a process run on pipes then writes to /dev/null). */
  output: boolean;
}

/** The stdio of a process run on pipes berthd holds (exec-direct.ts); null where it is /dev/null. */
export interface ExecPipes {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
}

export interface ExecProcess {
  pid: number;
  /** Settles with the exit code once conmon has recorded it (and written the rest of the log). */
  exited: Promise<number>;
  /** Signals the process while it runs (a no-op once it has exited, so a reused PID is never hit). */
  kill(signal: NodeJS.Signals): void;
  /** The process's stdio when berthd holds it; absent under conmon (output in `exec.log`, stdin through `attach`). */
  pipes?: ExecPipes;
}

/** The runtime could not start the process (missing executable, bad working directory...). */
export class ExecStartError extends SystemError {
  constructor(readonly detail: string) {
    super(`OCI runtime exec failed: exec failed: unable to start container process: ${detail}: unknown`);
  }
}

export function execLogPath(dir: string): string { return path.join(dir, 'exec.log'); }
export function execAttachPath(dir: string): string { return path.join(dir, 'attach'); }

/**
 * conmon in exec mode (as podman drives it): `--exec --exec-process-spec <file>` makes it run
 * `<runtime> exec --process <file> --detach <container>` and supervise that process as it does a container.
 * Without `--exec-attach` it does not wait for an attach: output goes to the session's own log, which is
 * read from its beginning, so nothing is lost however fast the process runs.
 */
export async function startExecProcess(bin: RuntimeBinaries, o: ExecProcessOptions): Promise<ExecProcess> {
  const runtimePath = bin.runtimes[o.runtime];
  if (!runtimePath) throw new SystemError(`unknown runtime ${o.runtime}`);
  await fsp.mkdir(o.dir, { recursive: true });
  const specFile = path.join(o.dir, 'process.json');
  await fsp.writeFile(specFile, JSON.stringify(o.process));
  const args = [
    '--api-version', '1',
    '--exec', '--exec-process-spec', specFile,
    '-c', o.containerId, '-u', o.execId,
    '-r', runtimePath,
    '-b', o.dir,
    '-p', path.join(o.dir, 'pid'),
    '--persist-dir', o.dir,
    '--full-attach', '--socket-dir-path', o.dir,
    '-l', `k8s-file:${execLogPath(o.dir)}`,
    '--log-level', 'error',
    '--no-sync-log',
    '--runtime-arg', `--root=${path.join(bin.stateRoot, o.runtime)}`,
  ];
  if (o.stdin) args.push('-i');
  if (o.terminal) {
    args.push('-t');
    // As Docker does for a TTY, the process keeps its input when a client detaches or goes away.
    args.push('--leave-stdin-open');
  }
  const child = spawn(bin.conmon, args, {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, _OCI_SYNCPIPE: '3' },
    // conmon may write files (`oom`) into its working directory: keep them in the exec session's directory.
    cwd: o.dir,
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stderr!.on('error', () => undefined);
  // With --api-version 1 in exec mode conmon writes two messages on the sync pipe: {"data": pid} once the
  // process runs (or a negative value and a message), then {"data": exit status} when it ends.
  const pipe = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
  const messages: { data?: number; message?: string }[] = [];
  let waiters: (() => void)[] = [];
  let ended = false;
  let buf = '';
  const wake = () => { const w = waiters; waiters = []; for (const f of w) f(); };
  pipe.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      try { messages.push(JSON.parse(line) as { data?: number; message?: string }); } catch { /* not conmon's */ }
    }
    wake();
  });
  const onEnd = () => { ended = true; wake(); };
  pipe.on('end', onEnd);
  pipe.on('close', onEnd);
  pipe.on('error', onEnd);
  child.on('error', (e) => { stderr += e.message; onEnd(); });
  const nextMessage = async (index: number) => {
    while (messages.length <= index && !ended) await new Promise<void>((r) => waiters.push(r));
    return messages[index];
  };
  child.unref();

  const first = await nextMessage(0);
  if (!first || first.data === undefined || first.data <= 0) {
    pipe.destroy();
    const msg = cleanRuntimeMessage(first?.message || stderr || 'the OCI runtime failed to start the process');
    throw new ExecStartError(msg);
  }
  const readExitFile = async () => {
    const text = await fsp.readFile(path.join(o.dir, 'exit'), 'utf8').catch(() => '');
    return text.trim() === '' ? undefined : Number(text.trim());
  };
  let running = true;
  const exited = (async () => {
    const last = await nextMessage(1);
    running = false;
    pipe.destroy();
    const fromFile = await readExitFile();
    if (fromFile !== undefined && Number.isFinite(fromFile)) return fromFile;
    if (last?.data !== undefined && last.data >= 0) return last.data;
    // conmon went away without a word: the process went with it.
    return 255;
  })();
  const pid = first.data;
  const kill = (signal: NodeJS.Signals) => {
    if (!running) return;
    try { process.kill(pid, signal); } catch { /* gone meanwhile */ }
  };
  return { pid, exited, kill };
}
