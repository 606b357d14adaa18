// What every writer of iptables-restore documents here shares (the swarm mesh, the bridge firewall): running a tool
// with a document on its stdin, the lines that declare or delete, and route_localnet through /proc/sys.
import { execFile, spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { SystemError } from '../errdefs';

export interface CommandResult { code: number; stdout: string; stderr: string }
/** Runs a tool with `input` on its stdin. */
export type CommandRunner = (file: string, args: string[], input?: string) => Promise<CommandResult>;

/** A chain declared in a --noflush restore is created, or flushed when it exists. */
export const declareChain = (chain: string): string => `:${chain} - [0:0]`;

/**
 * A chain created by a --noflush restore only if it does not exist: the whole restore fails otherwise (nothing of it
 * applied), so a writer that planned from an older reading retries instead of flushing what another wrote meanwhile.
 */
export const createChain = (chain: string): string => `-N ${chain}`;

/** The `-D` line deleting the rule an iptables-save `-A` line shows. */
export const deleteLine = (appendLine: string): string => `-D ${appendLine.slice(3)}`;

/** Sets net.ipv4.conf.<dev>.route_localnet=1 (a device not there yet is skipped: its owner sets it later). */
export async function writeRouteLocalnet(dev: string): Promise<void> {
  try {
    await fsp.writeFile(`/proc/sys/net/ipv4/conf/${dev}/route_localnet`, '1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new SystemError(`route_localnet on ${dev}: ${(err as Error).message}`);
  }
}

export const runCommand: CommandRunner = (file, args, input) => {
  if (input === undefined) {
    return new Promise((resolve) => {
      execFile(file, args, { encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 127) : 0, stdout, stderr: stderr || (err && typeof err.code !== 'number' ? err.message : '') });
      });
    });
  }
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', (err) => resolve({ code: 127, stdout, stderr: err.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => {}); // the tool may exit before reading everything; its exit code says why
    child.stdin.end(input);
  });
};
