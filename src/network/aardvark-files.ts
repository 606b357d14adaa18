// aardvark-dns's per-network files in netavark's config dir (`<config>/aardvark-dns/<network name>`): edited under
// netavark's own lock, replaced by a rename so a reload never reads half a file, then aardvark-dns is sent SIGHUP
// (its reload). Shared by the container names netavark wrote (netavark.ts) and the swarm's lines (overlay DNS).
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { SystemError, errorMessage } from '../errdefs';
import { withFileLock } from '../host/file-lock';

/**
 * The file's format in aardvark-dns 1.4: a first line with the addresses it listens on (the gateways), then one line
 * per entry `<id> <ipv4s> <ipv6s> <names>[ <dns servers>]`, lists comma-separated. Every line whose names include
 * the asked name answers, so several lines with one name give all their addresses.
 */
export class AardvarkFiles {
  constructor(private readonly configDir: string) {}

  /**
   * Replaces the network's lines with what `edit` returns (undefined: no change) and reloads aardvark-dns when the
   * text changed. netavark 1.4 takes `aardvark.lock` in its config dir to add lines; Berth takes it too. A network
   * with no file (no container on it here, so no listener) is left alone: false.
   */
  async edit(networkName: string, edit: (lines: string[]) => string[] | undefined): Promise<boolean> {
    const file = path.join(this.configDir, 'aardvark-dns', networkName);
    // No file yet (netavark never ran here, so neither its lock nor its directory may exist): nothing to edit.
    if (!(await fsp.stat(file).then(() => true, () => false))) return false;
    const changed = await withFileLock(path.join(this.configDir, 'aardvark.lock'), async () => {
      let text: string;
      try {
        text = await fsp.readFile(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw e;
      }
      const lines = edit(text.split('\n'));
      if (!lines || lines.join('\n') === text) return false;
      // Written beside aardvark-dns's directory, not in it: it reads every file there as a network.
      const tmp = path.join(this.configDir, `.dns-${randomBytes(6).toString('hex')}`);
      await fsp.writeFile(tmp, lines.join('\n'));
      await fsp.rename(tmp, file);
      return true;
    });
    if (changed) await this.reload();
    return changed;
  }

  /**
   * SIGHUP to this config dir's aardvark-dns, found by its pid file and checked against its command line (a stale
   * pid may be another process's by now); none running: nothing to do, it reads the files when netavark starts it.
   */
  private async reload(): Promise<void> {
    const dir = path.join(this.configDir, 'aardvark-dns');
    const pid = Number((await fsp.readFile(path.join(dir, 'aardvark.pid'), 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 0) return;
    const argv = (await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!argv[0]?.endsWith('aardvark-dns') || !argv.includes(dir)) return;
    try {
      process.kill(pid, 'SIGHUP');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw new SystemError(`cannot signal aardvark-dns (pid ${pid}) to reload: ${errorMessage(e)}`);
    }
  }
}

/**
 * Whether aardvark-dns can hold a name: it keeps a network's names in one file of space- and comma-separated
 * fields, so a name with either would break every name on the network (and no resolver asks for one anyway).
 */
export function isDnsFileName(name: string): boolean {
  return /^[^\s,]+$/.test(name);
}
