// aardvark-dns's per-network files in the DNS config dir (`<config>/aardvark-dns/<network name>`, the layout netavark
// used): edited one at a time per file, replaced by a rename so a reload never reads half a file, then aardvark-dns
// is sent SIGHUP (its reload). Shared by the bridge driver's container lines (bridge/dns-aardvark.ts) and the
// swarm's lines (overlay DNS), both in berthd, so an in-process lock orders them (no flock process per edit).
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { SystemError, errorMessage } from '../errdefs';
import { KeyedMutex } from '../util/mutex';

/** Every AardvarkFiles of the process edits under one lock per file. */
const fileLocks = new KeyedMutex();

/**
 * The file's format in aardvark-dns 1.4: a first line with the addresses it listens on (the gateways), then one line
 * per entry `<id> <ipv4s> <ipv6s> <names>[ <dns servers>]`, lists comma-separated. Every line whose names include
 * the asked name answers, so several lines with one name give all their addresses.
 */
export class AardvarkFiles {
  constructor(private readonly configDir: string) {}

  /** aardvark-dns's directory: its network files and its pid file. */
  get dir(): string { return path.join(this.configDir, 'aardvark-dns'); }

  /**
   * Replaces the network's lines with what `edit` returns (undefined: no change; no line at all: the file goes) and
   * reloads aardvark-dns when the text changed. A network with no file is left alone (false) unless `create` gives
   * its first line (the listen addresses): the file is then made.
   */
  async edit(networkName: string, edit: (lines: string[]) => string[] | undefined, create?: string): Promise<boolean> {
    const file = path.join(this.dir, networkName);
    const changed = await fileLocks.run(file, async () => {
      let text: string;
      try {
        text = await fsp.readFile(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        if (create === undefined) return false;
        text = `${create}\n`;
        await fsp.mkdir(this.dir, { recursive: true });
      }
      const lines = edit(text.split('\n'));
      if (!lines) return false;
      if (!lines.some((l) => l !== '')) {
        await fsp.rm(file, { force: true });
        return true;
      }
      if (lines.join('\n') === text) return false;
      // Written beside aardvark-dns's directory, not in it: it reads every file there as a network.
      const tmp = path.join(this.configDir, `.dns-${randomBytes(6).toString('hex')}`);
      await fsp.writeFile(tmp, lines.join('\n'));
      await fsp.rename(tmp, file);
      return true;
    });
    if (changed) await this.signal('SIGHUP');
    return changed;
  }

  /** The networks that have a file (aardvark-dns listens for each). */
  async networks(): Promise<string[]> {
    return (await fsp.readdir(this.dir).catch(() => [] as string[])).filter((n) => n !== PID_FILE);
  }

  /**
   * Signals this config dir's aardvark-dns (SIGHUP: reload; SIGTERM: stop), found by its pid file and checked against
   * its command line (a stale pid may be another process's by now). False when none runs.
   */
  async signal(sig: 'SIGHUP' | 'SIGTERM'): Promise<boolean> {
    const pid = await this.serverPid();
    if (pid === undefined) return false;
    try {
      process.kill(pid, sig);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
      throw new SystemError(`cannot signal aardvark-dns (pid ${pid}): ${errorMessage(e)}`);
    }
  }

  /** Whether this config dir's aardvark-dns runs. */
  async running(): Promise<boolean> {
    return (await this.serverPid()) !== undefined;
  }

  private async serverPid(): Promise<number | undefined> {
    const pid = Number((await fsp.readFile(path.join(this.dir, PID_FILE), 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const argv = (await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    return argv[0]?.endsWith('aardvark-dns') && argv.includes(this.dir) ? pid : undefined;
  }
}

/** Where aardvark-dns writes its pid (in its config dir, beside the network files). */
const PID_FILE = 'aardvark.pid';

/**
 * Whether aardvark-dns can hold a name: it keeps a network's names in one file of space- and comma-separated
 * fields, so a name with either would break every name on the network (and no resolver asks for one anyway).
 */
export function isDnsFileName(name: string): boolean {
  return /^[^\s,]+$/.test(name);
}
