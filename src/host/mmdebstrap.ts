// Debian's mmdebstrap, the one place that runs it: a Debian root filesystem from a mirror, written as a tarball.
import { spawn } from 'node:child_process';
import { BerthError, SystemError } from '../errdefs';

export interface MmdebstrapOptions {
  suite: string;
  /** mmdebstrap's --variant (minbase: Essential:yes packages plus apt). */
  variant: string;
  /** apt source lines ("deb URL SUITE COMPONENTS"); they become the image's sources.list too. */
  sources: string[];
  /** The tarball to write (mmdebstrap picks the format from the name: ".tar" is an uncompressed tar). */
  output: string;
  /** SOURCE_DATE_EPOCH: with it mmdebstrap's output is the same for the same options and mirror content. */
  epoch: number;
  /** dpkg options written into the root filesystem too (--dpkgopt), such as path-exclude for slim images. */
  dpkgOptions: string[];
  /** Where mmdebstrap unpacks before packing (TMPDIR): on disk, beside the output. */
  tmpDir: string;
  signal: AbortSignal;
  /** Each line mmdebstrap prints ("I: downloading packages with apt..."). */
  onLine(line: string): void;
}

/** mmdebstrap failed: its last lines say why. */
export class MmdebstrapError extends BerthError {}

export function mmdebstrapArgs(o: Pick<MmdebstrapOptions, 'suite' | 'variant' | 'sources' | 'output' | 'dpkgOptions'>): string[] {
  return [
    '--mode=root', `--variant=${o.variant}`, '--format=tar',
    // No translations: smaller lists, nothing that depends on the host's locale.
    '--aptopt=Acquire::Languages "none"',
    // merged-/usr the way debootstrap (and so Docker's official images) sets it up, without the usrmerge package
    // and the perl it pulls in; suites before usr-is-merged existed stay unmerged, as their official images are.
    '--hook-dir=/usr/share/mmdebstrap/hooks/maybe-merged-usr',
    ...o.dpkgOptions.map((d) => `--dpkgopt=${d}`),
    // The host's resolv.conf and hostname would be copied in: leave neither, so every host makes the same tarball.
    '--customize-hook=rm -f "$1/etc/resolv.conf" "$1/etc/hostname"',
    // apt's partial directories belong to _apt, as apt's own postinst leaves them, whether or not apt could drop
    // to _apt while mmdebstrap downloaded (it cannot when the output's directory is private to root).
    '--customize-hook=if chroot "$1" getent passwd _apt >/dev/null; then chroot "$1" chown _apt:root /var/cache/apt/archives/partial /var/lib/apt/lists/partial; fi',
    o.suite, o.output, ...o.sources,
  ];
}

export function runMmdebstrap(o: MmdebstrapOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8',
      TMPDIR: o.tmpDir, SOURCE_DATE_EPOCH: String(o.epoch), DEBIAN_FRONTEND: 'noninteractive',
    };
    let child;
    try {
      child = spawn('mmdebstrap', mmdebstrapArgs(o), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (err) {
      reject(err);
      return;
    }
    const tail: string[] = [];
    let buf = '';
    const onData = (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trimEnd();
        buf = buf.slice(i + 1);
        if (!line) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        o.onLine(line);
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    // mmdebstrap runs apt and dpkg below it: a cancel stops the whole process group.
    const onAbort = () => { try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* gone */ } };
    o.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err: NodeJS.ErrnoException) => {
      o.signal.removeEventListener('abort', onAbort);
      reject(err.code === 'ENOENT' ? new SystemError('mmdebstrap is not installed (Debian package mmdebstrap; make deps installs it)') : err);
    });
    child.on('close', (code, sig) => {
      o.signal.removeEventListener('abort', onAbort);
      if (code === 0) resolve();
      else if (o.signal.aborted) reject(new MmdebstrapError('bootstrap cancelled'));
      else reject(new MmdebstrapError(`mmdebstrap ${o.suite} failed (${sig ?? `exit status ${code}`}): ${tail.slice(-5).join(' | ')}`));
    });
  });
}
