// Runs iproute2's `ip` and `bridge` (and writes sysctls) in berthd's own network namespace or in a named one, with
// whole change sets fed on stdin through `-batch -`: the overlay adapters run on every task change, one spawn per tool.
import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { SystemError } from '../../errdefs';

export type IprouteTool = 'ip' | 'bridge';

export interface Iproute2 {
  /** Runs `tool args…`; stdout, or a SystemError with the tool's message. */
  run(tool: IprouteTool, args: string[]): Promise<string>;
  /** Runs `tool -batch -` with `lines` on stdin (nothing is spawned for no lines); stops at the first failing line. */
  batch(tool: IprouteTool, lines: string[]): Promise<void>;
  /** Writes a sysctl (dotted name) of the namespace. */
  sysctl(key: string, value: string): Promise<void>;
}

/**
 * iproute2 in this process's network namespace, or in `netns` (a name under /run/netns: `ip -n`/`bridge -n`, and
 * nsenter for sysctls, whose /proc/sys/net is the namespace of the process that opens it) — what tests use.
 */
export function iproute2(opts: { netns?: string } = {}): Iproute2 {
  const nsArgs = opts.netns ? ['-n', opts.netns] : [];
  return {
    run: (tool, args) => exec(tool, [...nsArgs, ...args]),
    async batch(tool, lines) {
      if (lines.length === 0) return;
      await exec(tool, [...nsArgs, '-batch', '-'], lines.join('\n') + '\n');
    },
    async sysctl(key, value) {
      if (!opts.netns) {
        await fsp.writeFile(`/proc/sys/${key.replace(/\./g, '/')}`, value).catch((e: Error) => {
          throw new SystemError(`cannot set ${key}=${value}: ${e.message}`);
        });
        return;
      }
      await exec('nsenter', [`--net=/run/netns/${opts.netns}`, 'sysctl', '-qw', `${key}=${value}`]);
    },
  };
}

/** Runs a tool with `input` on its stdin; stdout, or a SystemError with the tool's own message (stderr). */
export function exec(file: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new SystemError(`${file}: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new SystemError(`${file} ${args.join(' ')}: ${Buffer.concat(err).toString('utf8').trim() || `exited ${code}`}`));
    });
    if (input !== undefined) {
      // A tool that exits before reading all of stdin fails with its own message; the broken pipe says nothing more.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(input);
    }
  });
}
