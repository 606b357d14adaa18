// Writes to stdout a deterministic rootfs tar shaped like Docker's official busybox image, from the host's busybox-static.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';

const BUSYBOX = process.env.BUSYBOX ?? '/bin/busybox';
const MTIME = new Date(0);

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;

const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`;

type Entry = { name: string; type: 'directory' | 'file' | 'link'; mode: number; data?: Buffer | string; linkname?: string; path?: string };

function entries(): Entry[] {
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
    .split('\n').map((s) => s.trim()).filter((s) => s && s !== 'busybox' && !s.includes('/')).sort();
  const dir = (name: string, mode = 0o755): Entry => ({ name: name + '/', type: 'directory', mode });
  const file = (name: string, data: string, mode = 0o644): Entry => ({ name, type: 'file', mode, data });
  return [
    dir('bin'),
    { name: 'bin/busybox', type: 'file', mode: 0o755, path: BUSYBOX },
    ...applets.map((a): Entry => ({ name: `bin/${a}`, type: 'link', mode: 0o755, linkname: 'bin/busybox' })),
    dir('dev'),
    dir('etc'),
    file('etc/group', GROUP),
    file('etc/hostname', ''),
    file('etc/hosts', ''),
    file('etc/passwd', PASSWD),
    file('etc/resolv.conf', ''),
    dir('home'),
    dir('proc'),
    dir('root', 0o700),
    dir('sys'),
    dir('tmp', 0o1777),
    dir('usr'),
    dir('usr/sbin'),
    dir('var'),
    dir('var/spool'),
    dir('var/spool/mail'),
    dir('var/www'),
  ];
}

async function main(): Promise<void> {
  const pack = tar.pack();
  const out = pipeline(pack as unknown as NodeJS.ReadableStream, process.stdout);
  for (const e of entries()) {
    const header = { name: e.name, type: e.type, mode: e.mode, uid: 0, gid: 0, mtime: MTIME, linkname: e.linkname };
    if (e.path) {
      const data = fs.readFileSync(e.path);
      await new Promise<void>((resolve, reject) => pack.entry({ ...header, size: data.length }, data, (err) => (err ? reject(err) : resolve())));
    } else if (e.data !== undefined) {
      await new Promise<void>((resolve, reject) => pack.entry(header, e.data!, (err) => (err ? reject(err) : resolve())));
    } else {
      await new Promise<void>((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
    }
  }
  pack.finalize();
  await out;
}

main().catch((err: Error) => {
  process.stderr.write(`busybox-rootfs: ${err.message}\n`);
  process.exit(1);
});
