// Host facts from /proc and procps for `docker stats` and `docker top`: system CPU time, a process's network counters, ps.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import { InvalidParameterError } from '../errdefs';

const CLOCK_TICKS = 100; // USER_HZ: what Docker's getSystemCPUUsage assumes too.

/**
 * A small file read synchronously, undefined when it cannot be read: for what the kernel makes from memory at the
 * read (/proc, /sys) or a few bytes just written (a pid file), where each asynchronous step would be a thread-pool
 * round trip, five for one read, and the read itself never waits (decision 29).
 */
export function readNow(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The host's total CPU time in nanoseconds (the first line of /proc/stat), as Docker's system_cpu_usage. */
export async function systemCpuNanos(): Promise<number> {
  const text = await fsp.readFile('/proc/stat', 'utf8');
  const line = text.slice(0, text.indexOf('\n'));
  const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((a, v) => a + Number(v), 0);
  return (ticks * 1e9) / CLOCK_TICKS;
}

let cpus: { at: number; n: number } | undefined;

/** The online CPUs, looked up at most once a second: os.cpus() parses /proc/cpuinfo, and every stats sample asks. */
export function onlineCpus(): number {
  const now = Date.now();
  if (!cpus || now - cpus.at > 1000) cpus = { at: now, n: os.cpus().length || 1 };
  return cpus.n;
}

let totalMemory: number | undefined;

/** The host's memory (asked once: it does not change while berthd runs, and stats ask it per sample). */
export function hostMemory(): number {
  totalMemory ??= os.totalmem();
  return totalMemory;
}

export interface NetDevCounters {
  rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number;
  tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number;
}

/** /proc/<pid>/net/dev parsed, loopback left out as Docker leaves it out. */
export function parseNetDev(text: string): Record<string, NetDevCounters> {
  const out: Record<string, NetDevCounters> = {};
  for (const line of text.split('\n').slice(2)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    if (name === 'lo') continue;
    const v = line.slice(i + 1).trim().split(/\s+/).map(Number);
    out[name] = {
      rx_bytes: v[0] ?? 0, rx_packets: v[1] ?? 0, rx_errors: v[2] ?? 0, rx_dropped: v[3] ?? 0,
      tx_bytes: v[8] ?? 0, tx_packets: v[9] ?? 0, tx_errors: v[10] ?? 0, tx_dropped: v[11] ?? 0,
    };
  }
  return out;
}

export async function netDev(pid: number): Promise<Record<string, NetDevCounters> | undefined> {
  // One synchronous read of a small procfs file (see CgroupFiles.read); a process gone gives undefined.
  const text = readNow(`/proc/${pid}/net/dev`);
  return text === undefined ? undefined : parseNetDev(text);
}

/** Runs the host's ps with the user's arguments (as moby does) and returns its output. */
export function runPs(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ps', args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new InvalidParameterError(`ps: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

/**
 * moby's parsePSOutput: the header gives the titles and the PID column; rows whose PID is in `pids` are
 * kept, split into as many fields as there are titles (the last takes the rest of the line).
 */
export function parsePsOutput(output: string, pids: number[]): { Titles: string[]; Processes: string[][] } {
  const lines = output.split('\n');
  const titles = (lines[0] ?? '').trim().split(/\s+/).filter(Boolean);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new InvalidParameterError(`Couldn't find PID field in ps output`);
  const want = new Set(pids);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    const fields = line.trim().split(/\s+/);
    const pid = Number(fields[pidIndex]);
    if (!want.has(pid)) continue;
    const row = fields.slice(0, titles.length - 1);
    row.push(fields.slice(titles.length - 1).join(' '));
    processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}
