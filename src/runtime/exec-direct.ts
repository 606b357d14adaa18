// Runs a process without a TTY inside a running container as berthd's own child: `<runtime> exec` on pipes berthd holds.
import { spawn, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import type { Socket } from 'node:net';
import { SystemError } from '../errdefs';
import { cleanRuntimeMessage, type RuntimeBinaries } from './oci-runtime';
import { ExecStartError, type ExecPipes, type ExecProcess, type ExecProcessOptions } from './exec-process';
import { inputPipe, outputPipe, type FifoStock } from './fifo-stock';
import { onMemoryFilesystem } from '../host/memory-filesystem';
import { readNow } from '../host/procfs';

/**
 * Without conmon in between (its start, its double fork, the k8s-file log berthd then reads back) an exec costs one
 * spawn: the runtime's foreground `exec` gives the process its own stdio and exits with its status (128 + signal
 * when it was killed, as when its container stops). What is given up: the process does not report back to a berthd
 * restarted meanwhile (docs/decisions/0022-exec-without-conmon.md).
 *
 * Started means the runtime wrote the pid file: crun and runc write it once the process is set up and about to
 * exec its command, and not at all when it cannot start (missing command, bad working directory); their own
 * message is then in the runtime log, never mixed with the process's output.
 */
export async function startDirectExec(bin: RuntimeBinaries, fifos: FifoStock, o: ExecProcessOptions): Promise<ExecProcess> {
  const runtimePath = bin.runtimes[o.runtime];
  if (!runtimePath) throw new SystemError(`unknown runtime ${o.runtime}`);
  const specFile = path.join(o.dir, 'process.json');
  const pidFile = path.join(o.dir, 'pid');
  const logFile = path.join(o.dir, 'runtime.log');
  const spec = JSON.stringify(o.process);
  const wanted = (o.output ? 2 : 0) + (o.stdin ? 1 : 0);
  let names: string[];
  if (onMemoryFilesystem(path.dirname(o.dir))) {
    // A tmpfs (the exec root under /run): written synchronously, where asynchronously it was four thread-pool round
    // trips on the exec's path, about 1 ms (decision 29).
    fs.mkdirSync(o.dir, { recursive: true });
    fs.writeFileSync(specFile, spec);
    names = await fifos.take(wanted);
  } else {
    [names] = await Promise.all([fifos.take(wanted), fsp.mkdir(o.dir, { recursive: true }).then(() => fsp.writeFile(specFile, spec))]);
  }
  const { pipes, childStdio, childEnds } = openPipes(names, o);
  const pidWritten = watchPidFile(pidFile);
  const runtimeArgs = [
    `--root=${path.join(bin.stateRoot, o.runtime)}`, `--log=${logFile}`, '--log-format=json',
    'exec', '--process', specFile, '--pid-file', pidFile, o.containerId,
  ];
  const child = o.stdin
    // A FIFO reopened by name (`cat /dev/stdin`, `psql -f /dev/stdin`) blocks once its writer has closed, where a
    // pipe's reopened end reads end of file: the process's stdin is a pipe that cat fills from berthd's FIFO (fd 3).
    // cat runs in the background so that the shell ends with the runtime, not when the client closes its input.
    ? spawn('sh', ['-c', '{ cat <&3 3<&- 2>/dev/null & } | exec "$0" "$@" 3<&-', runtimePath, ...runtimeArgs], { stdio: childStdio, cwd: o.dir })
    : spawn(runtimePath, runtimeArgs, { stdio: childStdio, cwd: o.dir });
  for (const fd of childEnds) fs.close(fd, () => undefined);
  let spawnError: Error | undefined;
  const exit = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? osConstants.signals[signal] : 0)));
    child.on('error', (e) => { spawnError = e; resolve(-1); });
  });

  let pid: number | undefined;
  try {
    pid = await Promise.race([pidWritten.pid, exit.then(() => readPidNow(pidFile))]);
  } finally {
    pidWritten.close();
  }
  if (pid === undefined) {
    for (const p of [pipes.stdin, pipes.stdout, pipes.stderr]) p?.destroy();
    const code = await exit;
    if (spawnError) throw new SystemError(`cannot run ${runtimePath}: ${spawnError.message}`);
    throw new ExecStartError(cleanRuntimeMessage(runtimeErrors(await fsp.readFile(logFile, 'utf8').catch(() => '')) || `the OCI runtime failed to start the process (exit status ${code})`));
  }
  let running = true;
  const exited = exit.then((code) => { running = false; return code; });
  const started = pid;
  const kill = (signal: NodeJS.Signals) => {
    // The runtime reaps the process: until it has exited itself the PID cannot have been reused.
    if (!running) return;
    try { process.kill(started, signal); } catch { /* gone meanwhile */ }
  };
  return { pid: started, exited, kill, pipes };
}

/** The FIFOs taken for the process, opened: berthd's ends as streams, the child's as descriptors for spawn. */
function openPipes(names: string[], o: ExecProcessOptions): { pipes: ExecPipes; childStdio: StdioOptions; childEnds: number[] } {
  const next = () => names.shift()!;
  const childEnds: number[] = [];
  const child = <T extends { childEnd: number }>(end: T): T => { childEnds.push(end.childEnd); return end; };
  const stdin = o.stdin ? child(inputPipe(next())) : undefined;
  const stdout = o.output ? child(outputPipe(next())) : undefined;
  const stderr = o.output ? child(outputPipe(next())) : undefined;
  for (const s of [stdin?.writer, stdout?.reader, stderr?.reader]) (s as Socket | undefined)?.on('error', () => undefined);
  return {
    pipes: { stdin: stdin?.writer ?? null, stdout: stdout?.reader ?? null, stderr: stderr?.reader ?? null },
    // The stdin FIFO goes in as fd 3 (see the shell above): a background command's stdin is /dev/null.
    childStdio: ['ignore', stdout?.childEnd ?? 'ignore', stderr?.childEnd ?? 'ignore', ...(stdin ? [stdin.childEnd] : [])],
    childEnds,
  };
}

/** Settles with the PID once the runtime has written it (crun writes in place, runc renames a finished file in). */
function watchPidFile(file: string): { pid: Promise<number>; close(): void } {
  let found!: (pid: number) => void;
  const pid = new Promise<number>((resolve) => { found = resolve; });
  const watcher = fs.watch(path.dirname(file), (_event, name) => {
    if (name !== path.basename(file)) return;
    const p = readPidNow(file);
    if (p !== undefined) found(p);
  });
  watcher.on('error', () => undefined);
  return { pid, close: () => watcher.close() };
}

/** The pid file's number, read synchronously: a few bytes the runtime has just written, in the page cache. */
function readPidNow(file: string): number | undefined {
  const n = Number((readNow(file) ?? '').trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** The error lines of a runtime's JSON log (warnings are not why a process could not start). */
export function runtimeErrors(log: string): string {
  return log.split('\n').filter((line) => {
    try {
      const level = (JSON.parse(line) as { level?: string }).level;
      return level === undefined || level === 'error' || level === 'fatal';
    } catch {
      return line.trim() !== '';
    }
  }).join('\n');
}
