// Interoperability with independent peers from Debian: skopeo copies to and from Berth's registry; Berth's engine
// pushes to and pulls from Debian's docker-registry (the reference distribution 2.8, basic auth); podman pushes to
// and pulls from Berth's registry, and what podman pushed runs on Berth.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { TestDaemon, busyboxRootfs, type RunOpts } from '../helpers/daemon';
import { TestRegistry, htpasswd } from '../helpers/registry';
import { tempDir } from '../helpers/tmp';
import type { Index, Manifest } from '../../src/wire/oci';

/** What `skopeo inspect` says of an image (the fields read here). */
interface SkopeoInspect {
  Digest: string;
  RepoTags: string[];
}

const work = tempDir('berth-reg-interop-');
const berthReg = new TestRegistry(['--htpasswd', htpasswd(path.join(work, 'htpasswd'), 'ann', 'secret'), '--token-key', path.join(work, 'token.pem')]);
const a = new TestDaemon('interopa');
const b = new TestDaemon('interopb');
let refReg: ChildProcess | undefined; // Debian's docker-registry
let refHost: string;
let R: string;
const podmanBase = tempDir('berth-reg-interop-podman-');
const podmanRun = `/run/podman-interop-${process.pid}`;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function startReferenceRegistry() {
  const port = await freePort();
  const dir = path.join(work, 'docker-registry');
  fs.mkdirSync(dir);
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(config, [
    'version: 0.1',
    'log:',
    '  level: info',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${path.join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    'auth:',
    '  htpasswd:',
    '    realm: interop',
    `    path: ${htpasswd(path.join(dir, 'htpasswd'), 'rick', 'reference')}`,
    '',
  ].join('\n'));
  const log = fs.openSync(path.join(dir, 'log'), 'a');
  refReg = spawn('docker-registry', ['serve', config], { stdio: ['ignore', log, log] });
  refHost = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://${refHost}/v2/`).then((r) => r.status === 401, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not start: ${fs.readFileSync(path.join(dir, 'log'), 'utf8')}`);
}

function podman(args: string[], opts: RunOpts = {}) {
  const r = spawnSync('podman', ['--root', path.join(podmanBase, 'root'), '--runroot', `${podmanRun}/run`, '--tmpdir', `${podmanRun}/tmp`,
    '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--storage-driver', 'overlay', ...args], { encoding: 'utf8', timeout: 180_000, ...opts });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const PODMAN_RUN = ['--rm', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

before(async () => {
  await Promise.all([berthReg.start(), startReferenceRegistry(), a.startWithBusybox(), b.start()]);
  R = berthReg.host;
});

after(async () => {
  podman(['rm', '-af']);
  for (const m of fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m && (m.startsWith(podmanBase) || m.startsWith(podmanRun))).reverse()) spawnSync('umount', ['-l', m]);
  fs.rmSync(podmanRun, { recursive: true, force: true });
  const reg = refReg;
  if (reg && reg.exitCode === null) {
    const exited = new Promise((r) => reg.once('exit', r));
    reg.kill('SIGTERM');
    await exited;
  }
  await Promise.all([a.cleanup(), b.cleanup(), berthReg.cleanup()]);
});

test('skopeo copies into Berth\'s registry and back out of it (skopeo verifies every digest)', async () => {
  a.dockerOk(['run', '--name', 'sk', 'busybox', 'sh', '-c', 'echo from-skopeo > /msg']);
  a.dockerOk(['commit', '--change', 'CMD ["cat", "/msg"]', 'sk', 'skopeo/src:1']);
  a.dockerOk(['rm', 'sk']);
  const archive = path.join(work, 'src.tar');
  fs.writeFileSync(archive, a.dockerOk(['save', 'skopeo/src:1'], { encoding: 'buffer' }));
  const creds = ['--dest-creds', 'ann:secret', '--dest-tls-verify=false'];
  execFileSync('skopeo', ['copy', ...creds, `docker-archive:${archive}`, `docker://${R}/skopeo/img:1`], { stdio: 'pipe' });
  execFileSync('skopeo', ['copy', ...creds, '--format', 'oci', `docker-archive:${archive}`, `docker://${R}/skopeo/img:oci`], { stdio: 'pipe' });
  const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--creds', 'ann:secret', '--tls-verify=false', `docker://${R}/skopeo/img:1`], { encoding: 'utf8' })) as SkopeoInspect;
  assert.match(inspect.Digest, /^sha256:[a-f0-9]{64}$/);
  assert.deepEqual(inspect.RepoTags.sort(), ['1', 'oci']);
  const raw = execFileSync('skopeo', ['inspect', '--raw', '--creds', 'ann:secret', '--tls-verify=false', `docker://${R}/skopeo/img:oci`], { encoding: 'utf8' });
  assert.equal((JSON.parse(raw) as Manifest).mediaType, 'application/vnd.oci.image.manifest.v1+json');
  // And back out: skopeo verifies every digest on the way.
  const out = path.join(work, 'oci-out');
  execFileSync('skopeo', ['copy', '--src-creds', 'ann:secret', '--src-tls-verify=false', `docker://${R}/skopeo/img:1`, `oci:${out}:copied`], { stdio: 'pipe' });
  const index = JSON.parse(fs.readFileSync(path.join(out, 'index.json'), 'utf8')) as Index;
  assert.equal(index.manifests[0].annotations!['org.opencontainers.image.ref.name'], 'copied');
  // What skopeo put there runs on Berth.
  b.dockerOk(['login', '-u', 'ann', '--password-stdin', R], { input: 'secret' });
  b.dockerOk(['pull', `${R}/skopeo/img:oci`]);
  assert.equal(b.dockerOk(['run', '--rm', `${R}/skopeo/img:oci`]), 'from-skopeo\n');
});

test('Berth\'s engine pushes to and pulls from Debian\'s docker-registry (distribution 2.8, basic auth)', async () => {
  a.dockerOk(['run', '--name', 'ref', 'busybox', 'sh', '-c', 'echo via-distribution > /msg && dd if=/dev/urandom of=/blob bs=1k count=512 2>/dev/null']);
  const id = a.dockerOk(['commit', '--change', 'CMD ["cat", "/msg"]', 'ref', `${refHost}/interop/app:1`]).trim();
  a.dockerOk(['rm', 'ref']);
  assert.notEqual(a.docker(['push', `${refHost}/interop/app:1`]).code, 0, 'the reference registry wants a login');
  a.dockerOk(['login', '-u', 'rick', '--password-stdin', refHost], { input: 'reference' });
  const push = a.dockerOk(['push', `${refHost}/interop/app:1`]);
  const digest = /1: digest: (sha256:[a-f0-9]{64})/.exec(push)![1];
  assert.match(a.dockerOk(['push', `${refHost}/interop/app:1`]), /Layer already exists/);
  a.dockerOk(['tag', `${refHost}/interop/app:1`, `${refHost}/interop/mounted:1`]);
  assert.match(a.dockerOk(['push', `${refHost}/interop/mounted:1`]), /Mounted from interop\/app/);
  // The reference registry serves what Berth pushed to an independent reader too.
  const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--creds', 'rick:reference', '--tls-verify=false', `docker://${refHost}/interop/app:1`], { encoding: 'utf8' })) as SkopeoInspect;
  assert.equal(inspect.Digest, digest);
  b.dockerOk(['login', '-u', 'rick', '--password-stdin', refHost], { input: 'reference' });
  b.dockerOk(['pull', `${refHost}/interop/app:1`]);
  assert.equal(b.dockerOk(['image', 'inspect', '--format', '{{.Id}}', `${refHost}/interop/app:1`]).trim(), id);
  assert.equal(b.dockerOk(['run', '--rm', `${refHost}/interop/app:1`]), 'via-distribution\n');
  b.dockerOk(['rmi', `${refHost}/interop/app:1`]);
  b.dockerOk(['pull', `${refHost}/interop/app@${digest}`]);
  assert.match(b.dockerOk(['search', `${refHost}/interop`]), /interop\/app/);
});

test('podman pushes to Berth\'s registry and pulls from it; Berth runs what podman pushed', async () => {
  const imp = podman(['import', '--change', 'CMD ["sh"]', busyboxRootfs(), 'localhost/bb:1']);
  assert.equal(imp.code, 0, imp.stderr);
  const creds = ['--tls-verify=false', '--creds', 'ann:secret'];
  b.dockerOk(['login', '-u', 'ann', '--password-stdin', R], { input: 'secret' });
  const push = podman(['push', ...creds, 'localhost/bb:1', `docker://${R}/podman/bb:1`]);
  assert.equal(push.code, 0, push.stderr);
  const pushV2 = podman(['push', ...creds, '--format', 'v2s2', 'localhost/bb:1', `docker://${R}/podman/bb:v2s2`]);
  assert.equal(pushV2.code, 0, pushV2.stderr);
  // zstd layers (OCI only): Berth unpacks them with Debian's zstd, and pushes the layer back as gzip.
  // (A layer of its own: podman would reuse the gzip blob it already pushed for the busybox layer.)
  assert.equal(podman(['run', '--name', 'z', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', 'localhost/bb:1', 'sh', '-c', 'echo zstd-layer > /z']).code, 0);
  assert.equal(podman(['commit', 'z', 'localhost/bbz:1']).code, 0);
  podman(['rm', 'z']);
  const pushZstd = podman(['push', ...creds, '--format', 'oci', '--compression-format', 'zstd', 'localhost/bbz:1', `docker://${R}/podman/bb:zstd`]);
  assert.equal(pushZstd.code, 0, pushZstd.stderr);
  podman(['rmi', '-f', 'localhost/bb:1']);
  const pull = podman(['pull', ...creds, `${R}/podman/bb:1`]);
  assert.equal(pull.code, 0, pull.stderr);
  const run = podman(['run', ...PODMAN_RUN, `${R}/podman/bb:1`, 'echo', 'podman-ran']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'podman-ran\n');
  const zraw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--creds', 'ann:secret', '--tls-verify=false', `docker://${R}/podman/bb:zstd`], { encoding: 'utf8' })) as Manifest;
  assert.equal(zraw.layers[zraw.layers.length - 1].mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
  for (const tag of ['1', 'v2s2', 'zstd']) {
    b.dockerOk(['pull', `${R}/podman/bb:${tag}`]);
    assert.equal(b.dockerOk(['run', '--rm', `${R}/podman/bb:${tag}`, 'echo', 'berth-ran']), 'berth-ran\n');
  }
  b.dockerOk(['tag', `${R}/podman/bb:zstd`, `${R}/podman/bb:regzipped`]);
  assert.match(b.dockerOk(['push', `${R}/podman/bb:regzipped`]), /regzipped: digest: /);
  const regz = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--creds', 'ann:secret', '--tls-verify=false', `docker://${R}/podman/bb:regzipped`], { encoding: 'utf8' })) as Manifest;
  assert.ok(regz.layers.every((l) => l.mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip'), JSON.stringify(regz.layers));
  assert.equal(b.dockerOk(['run', '--rm', `${R}/podman/bb:zstd`, 'cat', '/z']), 'zstd-layer\n');
  // And the other way: Berth pushes, podman pulls and runs it.
  b.dockerOk(['tag', `${R}/podman/bb:1`, `${R}/berth/bb:1`]);
  b.dockerOk(['push', `${R}/berth/bb:1`]);
  const back = podman(['pull', ...creds, `${R}/berth/bb:1`]);
  assert.equal(back.code, 0, back.stderr);
  assert.equal(podman(['run', ...PODMAN_RUN, `${R}/berth/bb:1`, 'echo', 'round-trip']).stdout, 'round-trip\n');
});
