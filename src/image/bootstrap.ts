// Debian base images without a registry: `debian:<suite>[-slim]` made from Debian's mirror with mmdebstrap
// (minbase), reproducibly (SOURCE_DATE_EPOCH, no host files, a fixed config), once: the tarball is kept in a cache
// directory and imported as an ordinary image, tagged as asked.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidParameterError } from '../errdefs';
import { parseNormalizedNamed } from '../wire/reference';
import { KeyedMutex } from '../util/mutex';
import type { JsonMessage } from '../wire/docker';
import { runMmdebstrap } from '../host/mmdebstrap';

/** Debian's codenames and the numbers and tags Docker's official image uses for them. */
const SUITES: Record<string, string> = {
  buster: 'buster', '10': 'buster', bullseye: 'bullseye', '11': 'bullseye', bookworm: 'bookworm', '12': 'bookworm',
  trixie: 'trixie', '13': 'trixie', forky: 'forky', '14': 'forky', sid: 'sid', unstable: 'sid',
  // Docker's "latest", "stable-slim"...: the stable release when this table was written, so that a tag always
  // names the same suite (the mirror's "stable" moves at each release).
  latest: 'trixie', stable: 'trixie', oldstable: 'bookworm', testing: 'forky',
};

/** Docker's debian:*-slim: dpkg leaves out documentation, manuals and translations, now and in later installs. */
const SLIM_DPKG_OPTIONS = [
  'path-exclude=/usr/share/doc/*', 'path-include=/usr/share/doc/*/copyright', 'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/groff/*', 'path-exclude=/usr/share/info/*', 'path-exclude=/usr/share/lintian/*',
  'path-exclude=/usr/share/linda/*', 'path-exclude=/usr/share/locale/*', 'path-include=/usr/share/locale/locale.alias',
];

/** Bumped when the mmdebstrap options change: a tarball made with other options is not reused. */
const RECIPE = 5;

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface DebianTarget {
  /** The reference as tagged: docker.io/library/debian:<tag>. */
  ref: string;
  /** The tag as written (bookworm-slim, 12, latest...). */
  tag: string;
  suite: string;
  slim: boolean;
}

/** The Debian suite a reference names, or undefined when it is not an official debian image Berth can make. */
export function debianTarget(refString: string): DebianTarget | undefined {
  let ref;
  try {
    ref = parseNormalizedNamed(refString).withDefaultTag();
  } catch {
    return undefined;
  }
  if (ref.domain !== 'docker.io' || ref.path !== 'library/debian' || ref.digest !== undefined || !ref.tag) return undefined;
  const tag = ref.tag;
  const slim = tag === 'slim' || tag.endsWith('-slim');
  const base = tag === 'slim' ? 'latest' : slim ? tag.slice(0, -'-slim'.length) : tag;
  const suite = SUITES[base];
  return suite ? { ref: ref.toString(), tag, suite, slim } : undefined;
}

/** What the bootstrapper needs of the image service. */
export interface BootstrapImageStore {
  has(refOrId: string): boolean;
  resolveId(refOrId: string): string;
  importImage(body: fs.ReadStream, opts: { repo: string; tag: string; message: string; changes: string[]; created: string }): Promise<string>;
}

export interface DebianBootstrapOptions {
  images: BootstrapImageStore;
  /** Where tarballs are kept (they outlive the images made from them; tests share one directory). */
  cacheDir: string;
  mirror: string;
  /** Where `<suite>-security` is (Debian's security archive is not on every mirror). */
  securityMirror: string;
  /** SOURCE_DATE_EPOCH of the tarball and the image's `created`. */
  epoch: number;
  architecture: string;
  /** The tool; replaced in unit tests. */
  mmdebstrap?: typeof runMmdebstrap;
}

export class DebianBootstrap {
  private readonly once = new KeyedMutex();

  constructor(private readonly o: DebianBootstrapOptions) {}

  /**
   * Makes `ref` (debian:<suite>[-slim]) unless it exists; resolves to the image ID. Two builds asking at once
   * share one bootstrap.
   */
  async bootstrap(refString: string, progress: (msg: JsonMessage) => void, signal: AbortSignal): Promise<string> {
    const target = debianTarget(refString);
    if (!target) {
      throw new InvalidParameterError(`cannot bootstrap ${refString}: only Debian's official images (debian:<suite> or debian:<suite>-slim, e.g. debian:bookworm-slim) can be made from Debian's mirror`);
    }
    return this.once.run(target.ref, async () => {
      if (this.o.images.has(target.ref)) return this.o.images.resolveId(target.ref);
      const tarball = await this.tarball(target, progress, signal);
      progress({ status: `Importing ${path.basename(tarball)} as debian:${target.tag}` });
      const id = await this.o.images.importImage(fs.createReadStream(tarball), {
        repo: 'debian',
        tag: target.tag,
        message: `mmdebstrap --variant=minbase${target.slim ? ' (slim)' : ''} ${target.suite} ${this.o.mirror} (SOURCE_DATE_EPOCH=${this.o.epoch})`,
        changes: [`ENV ${DEFAULT_PATH}`, 'CMD ["bash"]'],
        created: new Date(this.o.epoch * 1000).toISOString().replace(/\.000Z$/, 'Z'),
      });
      progress({ status: `Bootstrapped debian:${target.tag} (${id.slice(7, 19)}) from ${this.o.mirror}` });
      return id;
    });
  }

  /** Tarballs made with older options are never read again: they go when a new one is made. */
  private async dropStaleTarballs(): Promise<void> {
    for (const n of await fsp.readdir(this.o.cacheDir).catch(() => [] as string[])) {
      const m = /^debian-.*-r(\d+)\.tar$/.exec(n);
      if (m && Number(m[1]) < RECIPE) await fsp.rm(path.join(this.o.cacheDir, n), { force: true });
    }
  }

  /**
   * The suite, its updates and its security archive, as Docker's images list them: the bootstrap installs the
   * fixes, and `apt-get` in a build sees them. Unstable has neither; before bullseye security was named otherwise.
   */
  private sources(suite: string): string[] {
    const main = [`deb ${this.o.mirror} ${suite} main`];
    if (suite === 'sid' || suite === 'buster') return main;
    return [...main, `deb ${this.o.mirror} ${suite}-updates main`, `deb ${this.o.securityMirror} ${suite}-security main`];
  }

  /** The cached tarball for the target, made by mmdebstrap when missing (written aside, then renamed). */
  private async tarball(t: DebianTarget, progress: (msg: JsonMessage) => void, signal: AbortSignal): Promise<string> {
    const name = `debian-${t.suite}${t.slim ? '-slim' : ''}-${this.o.architecture}-${this.o.epoch}-${mirrorTag(`${this.o.mirror} ${this.o.securityMirror}`)}-r${RECIPE}.tar`;
    const file = path.join(this.o.cacheDir, name);
    if (await fsp.stat(file).then((st) => st.isFile(), () => false)) {
      progress({ status: `Using the cached bootstrap ${name}` });
      return file;
    }
    await fsp.mkdir(this.o.cacheDir, { recursive: true, mode: 0o700 });
    const work = await fsp.mkdtemp(path.join(this.o.cacheDir, '.work-'));
    try {
      progress({ status: `Bootstrapping debian:${t.tag} (${t.suite}${t.slim ? ', slim' : ''}) from ${this.o.mirror} with mmdebstrap` });
      const partial = path.join(work, name);
      await (this.o.mmdebstrap ?? runMmdebstrap)({
        suite: t.suite, variant: 'minbase', sources: this.sources(t.suite), output: partial, epoch: this.o.epoch,
        dpkgOptions: t.slim ? SLIM_DPKG_OPTIONS : [], tmpDir: work, signal, onLine: (line) => progress({ status: line }),
      });
      await fsp.rename(partial, file);
      await this.dropStaleTarballs();
      return file;
    } finally {
      await fsp.rm(work, { recursive: true, force: true });
    }
  }
}

/** A short stable name for the mirrors, so tarballs from different mirrors do not mix: readable, then a hash. */
function mirrorTag(mirrors: string): string {
  const readable = mirrors.split(' ')[0]!.replace(/^[a-z]+:\/\//i, '').replace(/[^A-Za-z0-9.-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40);
  return `${readable}-${createHash('sha256').update(mirrors).digest('hex').slice(0, 8)}`;
}

/**
 * The bootstrap's settings from the daemon's environment: BERTH_DEBIAN_MIRROR, BERTH_DEBIAN_SECURITY_MIRROR,
 * BERTH_BOOTSTRAP_CACHE, SOURCE_DATE_EPOCH.
 */
export function bootstrapSettings(env: NodeJS.ProcessEnv, dataRoot: string): Pick<DebianBootstrapOptions, 'cacheDir' | 'mirror' | 'securityMirror' | 'epoch'> {
  const epoch = env.SOURCE_DATE_EPOCH && /^\d+$/.test(env.SOURCE_DATE_EPOCH) ? Number(env.SOURCE_DATE_EPOCH) : 0;
  return {
    cacheDir: env.BERTH_BOOTSTRAP_CACHE || path.join(dataRoot, 'bootstrap'),
    mirror: env.BERTH_DEBIAN_MIRROR || 'http://deb.debian.org/debian',
    securityMirror: env.BERTH_DEBIAN_SECURITY_MIRROR || 'http://deb.debian.org/debian-security',
    epoch,
  };
}
