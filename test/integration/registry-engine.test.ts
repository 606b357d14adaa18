// docker push/pull/login/logout/search through berthd against Berth's registry: an image committed on one engine,
// pushed with token auth, pulled by a second engine (another data root and socket) and by podman, runs the same;
// by tag and digest, OCI and Docker manifests, a multi-platform index, shared layers skipped, the JSON progress
// stream and berth's own bars, a pull that resumes with Range after the connection drops, a corrupted blob refused,
// TLS and plain HTTP only for insecure registries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { TestDaemon, type RunOpts } from '../helpers/daemon';
import { TestRegistry, fetchOnceMore, sha256, selfSignedCert, htpasswd } from '../helpers/registry';
import { tempDir } from '../helpers/tmp';
import { repoRoot } from '../helpers/paths';
import type { ImageConfig, Manifest } from '../../src/wire/oci';
import type { ErrorBody, ImageInspect, JSONMessage } from '../helpers/api-types';

/** A GET to a registry, asked once more if the connection fails (writes are never repeated here). */
const getFrom = fetchOnceMore;

const work = tempDir('berth-reg-engine-');
const hostIp = execFileSync('hostname', ['-I'], { encoding: 'utf8' }).trim().split(/\s+/).find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a) && !a.startsWith('127.'));
const { cert, key } = selfSignedCert(work, hostIp ? [hostIp] : []);
const acl = path.join(work, 'acl.json');
fs.writeFileSync(acl, JSON.stringify([{ account: 'bob', name: '*', actions: ['*'] }, { account: 'bob', name: 'registry:catalog', actions: ['*'] }]));
// One registry with token auth (the done-when), one open one on all addresses (plain HTTP), one over TLS.
const secure = new TestRegistry(['--htpasswd', htpasswd(path.join(work, 'htpasswd'), 'bob', 'builder'), '--token-key', path.join(work, 'token.pem'), '--acl', acl]);
const open = new TestRegistry([], { addr: '0.0.0.0:0' });
const tls = new TestRegistry(['--tls-cert', cert, '--tls-key', key], { addr: '0.0.0.0:0' });
const a = new TestDaemon('rega');
let b: TestDaemon;
let P: string; // the secure registry's host:port
let O: string; // the open registry, by loopback
let podmanBase: string | undefined;

before(async () => {
  await Promise.all([secure.start(), open.start(), tls.start()]);
  P = secure.host;
  O = `127.0.0.1:${new URL(open.url).port}`;
  // B trusts the open and TLS registries on the host's own address; A does not.
  const cfg = path.join(work, 'daemon-b.json');
  fs.writeFileSync(cfg, JSON.stringify({ 'insecure-registries': [`${hostIp}:${new URL(open.url).port}`, `${hostIp}:${new URL(tls.url).port}`] }));
  b = new TestDaemon('regb', { args: ['--config-file', cfg] });
  await Promise.all([a.startWithBusybox(), b.start()]);
});

after(async () => {
  if (podmanBase) spawnSync('podman', [...podmanArgs(), 'rm', '-af'], { stdio: 'ignore' });
  await Promise.all([a.cleanup(), b.cleanup(), secure.cleanup(), open.cleanup(), tls.cleanup()]);
  if (podmanBase) {
    for (const m of fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m && m.startsWith(podmanBase!)).reverse()) spawnSync('umount', ['-l', m]);
    fs.rmSync(podmanBase, { recursive: true, force: true });
    fs.rmSync(`/run/podman-reg-${process.pid}`, { recursive: true, force: true });
  }
});

function podmanArgs() {
  return ['--root', path.join(podmanBase ?? '', 'root'), '--runroot', `/run/podman-reg-${process.pid}/run`, '--tmpdir', `/run/podman-reg-${process.pid}/tmp`,
    '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--storage-driver', 'overlay'];
}
function podman(args: string[], opts: RunOpts = {}) {
  podmanBase ??= tempDir('berth-reg-podman-');
  const r = spawnSync('podman', [...podmanArgs(), ...args], { encoding: 'utf8', timeout: 180_000, ...opts });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const login = (d: TestDaemon, host: string) => d.dockerOk(['login', '-u', 'bob', '--password-stdin', host], { input: 'builder' });

let appId: string;
let appDigest: string;

test('done-when: an image committed on engine A, pushed with auth, pulled by engine B and by podman, runs the same', async () => {
  a.dockerOk(['run', '--name', 'mk', 'busybox', 'sh', '-c', 'echo built-on-A > /greeting && mkdir /data && dd if=/dev/urandom of=/data/r bs=1k count=2048 2>/dev/null && yes berth | head -c 3000000 > /data/text']);
  appId = a.dockerOk(['commit', '--change', 'CMD ["cat", "/greeting"]', 'mk', `${P}/team/app:1`]).trim();
  a.dockerOk(['rm', 'mk']);
  const expected = a.dockerOk(['run', '--rm', `${P}/team/app:1`]);
  assert.equal(expected, 'built-on-A\n');

  // Without a login the registry refuses the push.
  const anon = a.docker(['push', `${P}/team/app:1`]);
  assert.notEqual(anon.code, 0);
  assert.match(anon.stderr, /unauthorized|authentication required/);
  // A wrong password fails the login; the right one is stored as Docker stores it.
  const wrong = a.docker(['login', '-u', 'bob', '--password-stdin', P], { input: 'nope' });
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /401|unauthorized/i);
  assert.match(login(a, P), /Login Succeeded/);
  const config = JSON.parse(fs.readFileSync(path.join(a.env.DOCKER_CONFIG ?? '', 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
  assert.equal(config.auths[P].auth, Buffer.from('bob:builder').toString('base64'));

  const push = a.dockerOk(['push', `${P}/team/app:1`]);
  assert.match(push, new RegExp(`The push refers to repository \\[${P.replace(/\./g, '\\.')}/team/app\\]`));
  assert.match(push, /: Pushed/);
  const m = /1: digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(push);
  assert.ok(m, push);
  appDigest = m[1];
  assert.ok((JSON.parse(a.dockerOk(['image', 'inspect', `${P}/team/app:1`])) as ImageInspect[])[0].RepoDigests?.includes(`${P}/team/app@${appDigest}`));

  // Engine B: nothing local; pulls by tag, same image ID, same output.
  login(b, P);
  const pull = b.dockerOk(['pull', `${P}/team/app:1`]);
  assert.match(pull, /1: Pulling from team\/app/);
  assert.match(pull, /Pull complete/);
  assert.match(pull, new RegExp(`Digest: ${appDigest}`));
  assert.match(pull, /Status: Downloaded newer image for/);
  assert.equal(b.dockerOk(['image', 'inspect', '--format', '{{.Id}}', `${P}/team/app:1`]).trim(), appId);
  assert.equal(b.dockerOk(['run', '--rm', `${P}/team/app:1`]), expected);
  // Again: up to date, and every layer already there.
  const again = b.dockerOk(['pull', `${P}/team/app:1`]);
  assert.match(again, /Status: Image is up to date/);
  // B keeps no tar of the pulled layers (decision 3): save regenerates each from its tar-split record, byte for
  // byte: every blob in the archive hashes to its name, and the layers are the ones the config names.
  const saved = path.join(tempDir('berth-reg-save-'), 'app.tar');
  b.dockerOk(['save', '-o', saved, `${P}/team/app:1`]);
  const blobs = execFileSync('tar', ['-tf', saved], { encoding: 'utf8' }).split('\n').filter((n) => /^blobs\/sha256\/[a-f0-9]{64}$/.test(n));
  const diffIds = (JSON.parse(b.dockerOk(['image', 'inspect', `${P}/team/app:1`])) as ImageInspect[])[0].RootFS?.Layers ?? [];
  assert.ok(diffIds.length >= 2);
  for (const d of diffIds) assert.ok(blobs.includes(`blobs/sha256/${d.slice(7)}`), `layer ${d} in the archive`);
  for (const name of blobs) {
    const sum = execFileSync('sh', ['-c', 'tar -xOf "$0" "$1" | sha256sum', saved, name], { encoding: 'utf8' }).split(' ')[0];
    assert.equal(sum, name.slice('blobs/sha256/'.length), `${name} regenerated exactly`);
  }

  // podman, an independent client, with the same credentials.
  const pp = podman(['pull', '--tls-verify=false', '--creds', 'bob:builder', `${P}/team/app:1`]);
  assert.equal(pp.code, 0, pp.stderr);
  const pr = podman(['run', '--rm', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', `${P}/team/app:1`]);
  assert.equal(pr.code, 0, pr.stderr);
  assert.equal(pr.stdout, expected);
});

test('pull by digest; a second push finds "Layer already exists", another repository gets "Mounted from"', async () => {
  b.dockerOk(['rmi', `${P}/team/app:1`]);
  const byDigest = b.dockerOk(['pull', `${P}/team/app@${appDigest}`]);
  assert.match(byDigest, /Downloaded newer image|Image is up to date/);
  assert.equal(b.dockerOk(['image', 'inspect', '--format', '{{.Id}}', `${P}/team/app@${appDigest}`]).trim(), appId);
  const wrongDigest = b.docker(['pull', `${P}/team/app@sha256:${'0'.repeat(64)}`]);
  assert.notEqual(wrongDigest.code, 0);
  assert.match(wrongDigest.stderr, /not found|manifest unknown/);

  const again = a.dockerOk(['push', `${P}/team/app:1`]);
  assert.match(again, /Layer already exists/);
  assert.doesNotMatch(again, /: Pushed/);
  a.dockerOk(['tag', `${P}/team/app:1`, `${P}/other/copy:2`]);
  const mounted = a.dockerOk(['push', `${P}/other/copy:2`]);
  assert.match(mounted, /Mounted from team\/app/);
  // The same manifest bytes, so the same digest.
  assert.match(mounted, new RegExp(`2: digest: ${appDigest}`));
  // --all-tags both ways.
  a.dockerOk(['tag', `${P}/team/app:1`, `${P}/other/copy:3`]);
  assert.match(a.dockerOk(['push', '--all-tags', `${P}/other/copy`]), /2: digest: [\s\S]*3: digest: /);
  const all = b.dockerOk(['pull', '--all-tags', `${P}/other/copy`]);
  assert.match(all, /2: Pulling from other\/copy[\s\S]*3: Pulling from other\/copy/);
  assert.deepEqual(b.dockerOk(['images', '--format', '{{.Tag}}', `${P}/other/copy`]).trim().split('\n').sort(), ['2', '3']);
});

test('shared layers are skipped on pull ("Already exists"); progress is Docker\'s JSON stream; berth draws its own', async () => {
  a.dockerOk(['run', '--name', 'mk2', `${P}/team/app:1`, 'sh', '-c', 'echo second > /second']);
  a.dockerOk(['commit', '--change', 'CMD ["cat", "/second"]', 'mk2', `${P}/team/app:2`]);
  a.dockerOk(['rm', 'mk2']);
  a.dockerOk(['push', `${P}/team/app:2`]);
  const auth = Buffer.from(JSON.stringify({ username: 'bob', password: 'builder', serveraddress: P })).toString('base64url');
  const res = b.api('POST', `/images/create?fromImage=${encodeURIComponent(`${P}/team/app`)}&tag=2`, undefined, { 'X-Registry-Auth': auth });
  assert.equal(res.status, 200);
  const msgs = res.body.split(/\r?\n/).filter(Boolean).map((l) => JSON.parse(l) as JSONMessage);
  assert.ok(msgs.some((x) => x.status === 'Already exists'), res.body);
  assert.ok(msgs.some((x) => x.status === 'Downloading' && x.progressDetail && (x.progressDetail.total ?? 0) > 0 && typeof x.progress === 'string'), res.body);
  assert.ok(msgs.some((x) => x.status === 'Pull complete'));
  assert.ok(msgs.some((x) => /^Digest: sha256:/.test(x.status ?? '')));
  assert.equal(msgs.filter((x) => x.status === 'Already exists').length, 2, 'the two layers of team/app:1 are not fetched again');
  assert.equal(b.dockerOk(['run', '--rm', `${P}/team/app:2`]), 'second\n');

  // berth's own client renders the stream (bars on a terminal, lines otherwise).
  b.dockerOk(['rmi', `${P}/team/app:2`]);
  const own = b.berth(['pull', `${P}/team/app:2`], { env: { BERTH_CONFIG: path.join(b.base, 'berth-config') } });
  assert.notEqual(own.code, 0, 'berth keeps its own credentials: not logged in yet');
  const bl = b.berth(['login', '-u', 'bob', '--password-stdin', P], { input: 'builder', env: { BERTH_CONFIG: path.join(b.base, 'berth-config') } });
  assert.equal(bl.code, 0, bl.stderr);
  const ok = b.berth(['pull', `${P}/team/app:2`], { env: { BERTH_CONFIG: path.join(b.base, 'berth-config') } });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /Pull complete/);
  assert.match(ok.stdout, /Status: Downloaded newer image/);
  const push = b.berth(['push', `${P}/team/app:2`], { env: { BERTH_CONFIG: path.join(b.base, 'berth-config') } });
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout, /Layer already exists/);
});

test('docker search lists the registry\'s catalog; logout forgets the credentials', async () => {
  const out = b.dockerOk(['search', `${P}/team`]);
  assert.match(out, new RegExp(`${P.replace(/\./g, '\\.')}/team/app`));
  assert.doesNotMatch(out, /other\/copy/);
  assert.match(b.dockerOk(['logout', P]), /Removing login credentials/);
  const config = JSON.parse(fs.readFileSync(path.join(b.env.DOCKER_CONFIG ?? '', 'config.json'), 'utf8')) as { auths?: Record<string, { auth: string }> };
  assert.equal(config.auths?.[P], undefined);
  const denied = b.docker(['pull', `${P}/team/app:1`]);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /pull access denied|unauthorized/);
});

test('OCI manifests (copied by skopeo) and a multi-platform index resolved to linux/amd64', async () => {
  a.dockerOk(['tag', `${P}/team/app:1`, `${O}/plain/app:1`]);
  a.dockerOk(['push', `${O}/plain/app:1`]);
  execFileSync('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--format', 'oci', `docker://${O}/plain/app:1`, `docker://${O}/plain/oci:1`], { stdio: 'pipe' });
  const ociManifest = await getFrom(`http://${O}/v2/plain/oci/manifests/1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(ociManifest.headers.get('content-type'), 'application/vnd.oci.image.manifest.v1+json');
  const ociBytes = Buffer.from(await ociManifest.arrayBuffer());
  b.dockerOk(['pull', `${O}/plain/oci:1`]);
  assert.equal(b.dockerOk(['run', '--rm', `${O}/plain/oci:1`]), 'built-on-A\n');

  // An index with an arm64 entry first and the amd64 one second.
  const cfg = JSON.parse(await (await getFrom(`http://${O}/v2/plain/oci/blobs/${(JSON.parse(ociBytes.toString()) as Manifest).config.digest}`)).text()) as ImageConfig;
  cfg.architecture = 'arm64';
  const armCfg = Buffer.from(JSON.stringify(cfg));
  const up = await fetch(`http://${O}/v2/plain/oci/blobs/uploads/?digest=${sha256(armCfg)}`, { method: 'POST', body: armCfg, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(up.status, 201);
  const armManifest = Buffer.from(JSON.stringify({ ...(JSON.parse(ociBytes.toString()) as Manifest), config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: armCfg.length, digest: sha256(armCfg) } }));
  assert.equal((await fetch(`http://${O}/v2/plain/oci/manifests/${sha256(armManifest)}`, { method: 'PUT', body: armManifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } })).status, 201);
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', size: armManifest.length, digest: sha256(armManifest), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', size: ociBytes.length, digest: sha256(ociBytes), platform: { architecture: 'amd64', os: 'linux' } },
    ],
  }));
  assert.equal((await fetch(`http://${O}/v2/plain/oci/manifests/multi`, { method: 'PUT', body: index, headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' } })).status, 201);
  const pulled = b.dockerOk(['pull', `${O}/plain/oci:multi`]);
  assert.match(pulled, new RegExp(`Digest: ${sha256(index)}`));
  const img = (JSON.parse(b.dockerOk(['image', 'inspect', `${O}/plain/oci:multi`])) as ImageInspect[])[0];
  assert.equal(img.Architecture, 'amd64');
  assert.ok(img.RepoDigests?.includes(`${O}/plain/oci@${sha256(index)}`));
  const arm = b.dockerOk(['pull', '--platform', 'linux/arm64/v8', `${O}/plain/oci:multi`]);
  assert.match(arm, /Status: Downloaded newer image/);
  assert.equal((JSON.parse(b.dockerOk(['image', 'inspect', `${O}/plain/oci:multi`])) as ImageInspect[])[0].Architecture, 'arm64');
  const none = b.docker(['pull', '--platform', 'linux/s390x', `${O}/plain/oci:multi`]);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /no matching manifest for linux\/s390x/);
});

/** The docker CLI without blocking this process; resolves to stdout, rejects with stderr. */
function dockerAsync(d: TestDaemon, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/local/bin/docker', args, { env: d.env });
    let out = '';
    let err = '';
    p.stdout.on('data', (c) => { out += c; });
    p.stderr.on('data', (c) => { err += c; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 180_000);
    p.on('close', (code) => { clearTimeout(timer); if (code === 0) resolve(out); else reject(new Error(`docker ${args.join(' ')} exited ${code}: ${err}`)); });
  });
}

/** A TCP proxy to `target` that cuts, once, the first response longer than `cutAfter` bytes. */
function cuttingProxy(target: string, cutAfter: number): Promise<{ server: net.Server; port: number; wasCut: () => boolean }> {
  const [host, port] = target.split(':');
  let cut = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    let sent = 0;
    client.pipe(upstream);
    upstream.on('data', (chunk) => {
      sent += chunk.length;
      if (!cut && sent > cutAfter) { cut = true; client.destroy(); upstream.destroy(); return; }
      client.write(chunk);
    });
    upstream.on('end', () => client.end());
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as net.AddressInfo).port, wasCut: () => cut })));
}

test('a pull whose connection drops mid-layer resumes with a Range request and verifies the whole', async () => {
  a.dockerOk(['run', '--name', 'big', 'busybox', 'sh', '-c', 'dd if=/dev/urandom of=/big bs=1M count=12 2>/dev/null']);
  a.dockerOk(['commit', 'big', `${O}/plain/big:1`]);
  a.dockerOk(['rm', 'big']);
  a.dockerOk(['push', `${O}/plain/big:1`]);
  const proxy = await cuttingProxy(O, 4 * 1024 * 1024);
  try {
    const via = `127.0.0.1:${proxy.port}`;
    // Not spawnSync: the proxy lives in this process and must keep forwarding meanwhile.
    const out = await dockerAsync(b, ['pull', `${via}/plain/big:1`]);
    assert.ok(proxy.wasCut(), 'the proxy dropped a connection');
    assert.match(out, /Pull complete/);
    assert.match(open.log(), /GET \/v2\/plain\/big\/blobs\/sha256:[a-f0-9]{64} 206/, 'the download continued from where it stopped');
    assert.equal(b.dockerOk(['run', '--rm', `${via}/plain/big:1`, 'sh', '-c', 'wc -c < /big']).trim(), String(12 * 1024 * 1024));
    // Nothing partial is left behind once the pull is done.
    assert.deepEqual(fs.readdirSync(path.join(b.dataRoot, 'image/ingest/partial')), []);
  } finally {
    proxy.server.close();
  }
});

/** A TCP proxy to `target` that stops forwarding responses (holds the connection) after `stallAfter` bytes. */
function stallingProxy(target: string, stallAfter: number): Promise<{ port: number; close: () => void }> {
  const [host, port] = target.split(':');
  const sockets: net.Socket[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    sockets.push(client, upstream);
    let sent = 0;
    client.pipe(upstream);
    upstream.on('data', (chunk) => {
      if (sent > stallAfter) return;
      sent += chunk.length;
      client.write(chunk);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: (server.address() as net.AddressInfo).port,
    close: () => { for (const s of sockets) s.destroy(); server.close(); },
  })));
}

test('a pull cut short by a daemon killed mid-download is continued by the next pull, from the bytes kept', async () => {
  a.dockerOk(['run', '--name', 'big2', 'busybox', 'sh', '-c', 'dd if=/dev/urandom of=/big bs=1M count=12 2>/dev/null']);
  a.dockerOk(['commit', 'big2', `${O}/plain/big2:1`]);
  a.dockerOk(['rm', 'big2']);
  a.dockerOk(['push', `${O}/plain/big2:1`]);
  const manifest = await (await getFrom(`http://${O}/v2/plain/big2/manifests/1`)).json() as Manifest;
  const big = manifest.layers[manifest.layers.length - 1];
  const proxy = await stallingProxy(O, 5 * 1024 * 1024);
  const partial = path.join(b.dataRoot, 'image/ingest/partial', big.digest.slice(7));
  try {
    const pulling = dockerAsync(b, ['pull', `127.0.0.1:${proxy.port}/plain/big2:1`]).catch(() => undefined);
    for (let i = 0; i < 200 && !(fs.existsSync(partial) && fs.statSync(partial).size > 1024 * 1024); i++) await new Promise((r) => setTimeout(r, 50));
    const kept = fs.statSync(partial).size;
    assert.ok(kept > 0 && kept < big.size, `part of the layer is on disk (${kept} of ${big.size})`);
    await b.kill9();
    await pulling;
    await b.start();
    assert.ok(fs.statSync(partial).size >= kept, 'the restart kept the partial blob');
  } finally {
    proxy.close();
  }
  const ranged = () => open.log().split('\n').filter((l) => l.includes(`GET /v2/plain/big2/blobs/${big.digest} 206`)).length;
  const before = ranged();
  b.dockerOk(['pull', `${O}/plain/big2:1`]);
  assert.equal(ranged(), before + 1, 'the next pull asked only for the rest');
  assert.ok(!fs.existsSync(partial));
  assert.equal(b.dockerOk(['run', '--rm', `${O}/plain/big2:1`, 'sh', '-c', 'wc -c < /big']).trim(), String(12 * 1024 * 1024));
});

test('a blob corrupted in the registry is refused by digest and nothing is kept', async () => {
  a.dockerOk(['run', '--name', 'bad', 'busybox', 'sh', '-c', 'echo corrupt-me > /f']);
  a.dockerOk(['commit', 'bad', `${O}/plain/corrupt:1`]);
  a.dockerOk(['rm', 'bad']);
  a.dockerOk(['push', `${O}/plain/corrupt:1`]);
  const manifest = await (await getFrom(`http://${O}/v2/plain/corrupt/manifests/1`)).json() as Manifest;
  const layer = manifest.layers[manifest.layers.length - 1].digest;
  const file = path.join(open.root, 'docker/registry/v2/blobs/sha256', layer.slice(7, 9), layer.slice(7), 'data');
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 5] ^= 0xff;
  fs.writeFileSync(file, bytes);
  const r = b.docker(['pull', `${O}/plain/corrupt:1`]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /verification failed for digest/);
  assert.notEqual(b.docker(['image', 'inspect', `${O}/plain/corrupt:1`]).code, 0);
  assert.deepEqual(fs.readdirSync(path.join(b.dataRoot, 'image/ingest/partial')), []);
  // The daemon keeps serving.
  assert.equal(b.api('GET', '/_ping').body, 'OK');
});

test('what is not a container image is refused by name: an artifact, a corrupt zstd layer, an unknown layer type, a bad auth header', async () => {
  const put = async (repo: string, tag: string, body: string | Buffer, type: string) => {
    const res = await fetch(`http://${O}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body, headers: { 'Content-Type': type } });
    assert.equal(res.status, 201, await res.text());
  };
  const blob = async (repo: string, data: string | Buffer) => {
    const res = await fetch(`http://${O}/v2/${repo}/blobs/uploads/?digest=${sha256(data)}`, { method: 'POST', body: data, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(res.status, 201);
    return { size: data.length, digest: sha256(data) };
  };
  const empty = await blob('odd/things', Buffer.from('{}'));
  const layer = await blob('odd/things', Buffer.from('not really zstd'));
  await put('odd/things', 'artifact', Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.example.sbom',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty }, layers: [],
  })), 'application/vnd.oci.image.manifest.v1+json');
  const cfg = await blob('odd/things', Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256('x')] } })));
  await put('odd/things', 'zstd', Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', ...layer }],
  })), 'application/vnd.oci.image.manifest.v1+json');
  const artifact = b.docker(['pull', `${O}/odd/things:artifact`]);
  assert.notEqual(artifact.code, 0);
  assert.match(artifact.stderr, /not a container image: its config media type is "application\/vnd\.oci\.empty\.v1\+json"/);
  const zstd = b.docker(['pull', `${O}/odd/things:zstd`]);
  assert.notEqual(zstd.code, 0);
  assert.match(zstd.stderr, /zstd decompression failed/);
  assert.deepEqual(fs.readdirSync(path.join(b.dataRoot, 'image/ingest/partial')), []);
  await put('odd/things', 'unknown', Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg }, layers: [{ mediaType: 'application/vnd.example.layer', ...layer }],
  })), 'application/vnd.oci.image.manifest.v1+json');
  const unknown = b.docker(['pull', `${O}/odd/things:unknown`]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /unsupported layer media type "application\/vnd\.example\.layer"/);
  const badAuth = b.api('POST', `/images/create?fromImage=${encodeURIComponent(`${O}/odd/things`)}&tag=zstd`, undefined, { 'X-Registry-Auth': '%%%' });
  assert.equal(badAuth.status, 400);
  assert.match((JSON.parse(badAuth.body) as ErrorBody).message, /X-Registry-Auth/);
  assert.equal(b.api('GET', '/_ping').body, 'OK');
});

test('plain HTTP and untrusted TLS only for loopback and the insecure-registries of daemon.json', async () => {
  const httpHost = `${hostIp}:${new URL(open.url).port}`;
  const tlsHost = `${hostIp}:${new URL(tls.url).port}`;
  a.dockerOk(['tag', 'busybox', `${O}/plain/bb:1`]);
  a.dockerOk(['push', `${O}/plain/bb:1`]);
  // A does not list them: HTTPS is required and the self-signed certificate is refused.
  const refusedHttp = a.docker(['pull', `${httpHost}/plain/bb:1`]);
  assert.notEqual(refusedHttp.code, 0);
  const refusedTls = a.docker(['pull', `${tlsHost}/plain/bb:1`]);
  assert.notEqual(refusedTls.code, 0);
  assert.match(refusedTls.stderr, /certificate|self.signed/i);
  // B lists both.
  b.dockerOk(['pull', `${httpHost}/plain/bb:1`]);
  b.dockerOk(['tag', `${httpHost}/plain/bb:1`, `${tlsHost}/secure/bb:1`]);
  assert.match(b.dockerOk(['push', `${tlsHost}/secure/bb:1`]), /digest: sha256:/);
  assert.match(tls.log(), /PUT \/v2\/secure\/bb\/manifests\/1 201/);
  b.dockerOk(['rmi', `${tlsHost}/secure/bb:1`]);
  b.dockerOk(['pull', `${tlsHost}/secure/bb:1`]);
  assert.equal(b.dockerOk(['run', '--rm', `${tlsHost}/secure/bb:1`, 'echo', 'over tls']), 'over tls\n');
  // With the registry's CA in /etc/berth/certs.d/<host:port>/ (Docker's layout), A verifies it and pulls.
  const certsDir = `/etc/berth/certs.d/${tlsHost}`;
  fs.mkdirSync(certsDir, { recursive: true });
  try {
    fs.copyFileSync(cert, path.join(certsDir, 'ca.crt'));
    a.dockerOk(['pull', `${tlsHost}/secure/bb:1`]);
    assert.equal(a.dockerOk(['run', '--rm', `${tlsHost}/secure/bb:1`, 'echo', 'verified tls']), 'verified tls\n');
  } finally {
    fs.rmSync(certsDir, { recursive: true, force: true });
    for (const d of ['/etc/berth/certs.d', '/etc/berth']) { try { fs.rmdirSync(d); } catch { /* not empty, or not ours */ } }
  }
});

test('Berth\'s registry runs as a Berth container (scripts/registry-image.sh) and serves both engines', async () => {
  const made = spawnSync(path.join(repoRoot, 'scripts/registry-image.sh'), ['berth/registry:test'], { env: a.env, encoding: 'utf8', timeout: 180_000 });
  assert.equal(made.status, 0, made.stderr);
  const port = await new Promise<number>((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
  a.dockerOk(['run', '-d', '--name', 'registry', '-p', `127.0.0.1:${port}:5000`, 'berth/registry:test']);
  try {
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      up = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status === 200, () => false);
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(up, `the registry container answers: ${a.docker(['logs', 'registry']).stderr}`);
    const C = `127.0.0.1:${port}`;
    a.dockerOk(['tag', `${P}/team/app:1`, `${C}/in/container:1`]);
    assert.match(a.dockerOk(['push', `${C}/in/container:1`]), /1: digest: sha256:/);
    b.dockerOk(['pull', `${C}/in/container:1`]);
    assert.equal(b.dockerOk(['run', '--rm', `${C}/in/container:1`]), 'built-on-A\n');
    assert.match(a.docker(['logs', 'registry']).stderr, /PUT \/v2\/in\/container\/manifests\/1 201/);
  } finally {
    a.docker(['rm', '-f', '-v', 'registry']);
  }
});
