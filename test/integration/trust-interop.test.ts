// Signed images judged by independent implementations, on Berth's registry on loopback: skopeo signs with a key `berth
// trust keygen` made and Berth's policy accepts it; what `berth push --sign-by-sigstore-private-key` signs, skopeo and
// podman accept under the same policy; unsigned images, a foreign key's signature, a signature naming another digest and
// an altered payload are refused by both sides, and a refused pull leaves nothing in Berth's store. The skopeo 1.18 and
// podman 5.4 used are trixie's (scripts/signers.sh): bookworm's are built with sigstore disabled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { TestDaemon } from '../helpers/daemon';
import { TestRegistry, fetchOnceMore, sha256 } from '../helpers/registry';
import { tempDir } from '../helpers/tmp';
import { repoRoot } from '../helpers/paths';

const SIGNERS = process.env.BERTH_SIGNERS_PREFIX ?? '/usr/local/lib/berth/signers';
const SKOPEO = path.join(SIGNERS, 'bin/skopeo');
const PODMAN = path.join(SIGNERS, 'bin/podman');
const work = tempDir('berth-trust-');
const podmanRun = `/run/podman-trust-${process.pid}`;
const registry = new TestRegistry();
const passFile = path.join(work, 'pass');
const policyFile = path.join(work, 'berth-policy.json');
const src = new TestDaemon('trsrc');
const dst = new TestDaemon('trdst', { args: ['--signature-policy', policyFile] });
let R: string;
let policy: string;

/** skopeo and podman read use-sigstore-attachments from a registries.d: theirs is here, never /etc/containers. */
const registriesD = path.join(work, 'registries.d');
const podmanHome = path.join(work, 'home');

before(async () => {
  for (const tool of [SKOPEO, PODMAN]) assert.ok(fs.existsSync(tool), `${tool} is missing: run scripts/signers.sh (make deps does)`);
  await registry.start();
  R = registry.host;
  fs.writeFileSync(passFile, 'correct horse\n');
  for (const name of ['trusted', 'foreign']) {
    const r = spawnSync(path.join(repoRoot, 'bin/berth'), ['trust', 'keygen', '--output-prefix', path.join(work, name), '--passphrase-file', passFile], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  // The same policy for all three: images under R/signed need the trusted key's signature, the rest are accepted.
  policy = JSON.stringify({
    default: [{ type: 'insecureAcceptAnything' }],
    transports: { docker: { [`${R}/signed`]: [{ type: 'sigstoreSigned', keyPath: path.join(work, 'trusted.pub') }] } },
  });
  fs.writeFileSync(policyFile, policy);
  fs.mkdirSync(registriesD);
  fs.writeFileSync(path.join(registriesD, 'default.yaml'), 'default-docker:\n  use-sigstore-attachments: true\n');
  fs.mkdirSync(path.join(podmanHome, '.config/containers'), { recursive: true });
  fs.cpSync(registriesD, path.join(podmanHome, '.config/containers/registries.d'), { recursive: true });
  fs.writeFileSync(path.join(work, 'registries.conf'), `[[registry]]\nlocation = "${R}"\ninsecure = true\n`);
  await Promise.all([src.start(), dst.start()]);
});

after(async () => {
  for (const m of fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m && (m.startsWith(work) || m.startsWith(podmanRun))).reverse()) spawnSync('umount', ['-l', m]);
  fs.rmSync(podmanRun, { recursive: true, force: true });
  await Promise.all([src.cleanup(), dst.cleanup(), registry.cleanup()]);
  fs.rmSync(work, { recursive: true, force: true });
});

/** A one-file image of its own on the source engine (its layer is new to the destination). */
function makeImage(ref: string): void {
  const dir = fs.mkdtempSync(path.join(work, 'img-'));
  fs.writeFileSync(path.join(dir, 'msg'), `${ref} ${Math.random()}\n`);
  const tar = execFileSync('tar', ['-C', dir, '-cf', '-', 'msg']);
  src.dockerOk(['import', '-', ref], { input: tar });
}

function skopeo(args: string[]) {
  const r = spawnSync(SKOPEO, ['--policy', path.join(work, 'skopeo-policy.json'), '--registries.d', registriesD, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}
function skopeoPull(ref: string) {
  fs.writeFileSync(path.join(work, 'skopeo-policy.json'), policy);
  const out = fs.mkdtempSync(path.join(work, 'skopeo-out-'));
  return skopeo(['copy', '--src-tls-verify=false', `docker://${ref}`, `dir:${out}`]);
}
function podmanPull(ref: string) {
  const r = spawnSync(PODMAN, ['--root', path.join(work, 'podman-root'), '--runroot', `${podmanRun}/run`, '--tmpdir', `${podmanRun}/tmp`, '--storage-driver', 'vfs',
    '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', 'pull', '--signature-policy', policyFile, ref], {
    encoding: 'utf8', timeout: 120_000, env: { ...process.env, HOME: podmanHome, CONTAINERS_REGISTRIES_CONF: path.join(work, 'registries.conf') },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}
function berthPush(ref: string, key?: string) {
  const args = ['push', ...(key ? ['--sign-by-sigstore-private-key', path.join(work, `${key}.private`), '--sign-passphrase-file', passFile] : []), ref];
  const r = src.berth(args);
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}${r.stdout}\n${src.logTail()}`);
  return r.stdout;
}

async function manifestDigest(repo: string, tag: string): Promise<string> {
  const res = await fetchOnceMore(`${registry.url}/v2/${repo}/manifests/${tag}`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 200);
  return sha256(Buffer.from(await res.arrayBuffer()));
}

/** Every file under the destination's image store: a refused pull must leave this unchanged. */
function storeFiles(): string[] {
  const root = path.join(dst.dataRoot, 'image');
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => f !== 'images/index.json' && !f.startsWith('tmp')).sort();
}

/** A pull Berth must refuse: the error names the image, the scope and the reason, and nothing is stored. */
function berthRefuses(ref: string, reason: RegExp): void {
  const before = storeFiles();
  const images = dst.dockerOk(['images', '-q', '--no-trunc']);
  const r = dst.docker(['pull', ref]);
  assert.notEqual(r.code, 0, `pull of ${ref} should be refused:\n${r.stdout}\n${dst.logTail()}`);
  assert.match(r.stderr, new RegExp(`image ${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(sha256:[0-9a-f]{64}\\) refused by signature policy ${policyFile.replace(/[.]/g, '\\.')}, scope "${R.replace(/[.]/g, '\\.')}/signed"`));
  assert.match(r.stderr, reason);
  assert.deepEqual(storeFiles(), before, 'a refused pull left files in the image store');
  assert.equal(dst.dockerOk(['images', '-q', '--no-trunc']), images);
  assert.equal(dst.docker(['image', 'inspect', ref]).code, 1);
}

test('skopeo signs with a key berth made; Berth pulls it under a policy requiring that key', async () => {
  makeImage(`${R}/signed/by-skopeo:1`);
  const archive = path.join(work, 'by-skopeo.tar');
  fs.writeFileSync(archive, src.dockerOk(['save', `${R}/signed/by-skopeo:1`], { encoding: 'buffer' }));
  fs.writeFileSync(path.join(work, 'skopeo-policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const signed = skopeo(['copy', '--dest-tls-verify=false', '--sign-by-sigstore-private-key', path.join(work, 'trusted.private'), '--sign-passphrase-file', passFile,
    `docker-archive:${archive}`, `docker://${R}/signed/by-skopeo:1`]);
  assert.equal(signed.code, 0, signed.out);
  assert.match(signed.out, /Storing signatures/);
  const pulled = dst.docker(['pull', `${R}/signed/by-skopeo:1`]);
  assert.equal(pulled.code, 0, `${pulled.stderr}\n${dst.logTail()}`);
  assert.equal(dst.dockerOk(['image', 'inspect', '-f', '{{.Id}}', `${R}/signed/by-skopeo:1`]).trim(), src.dockerOk(['image', 'inspect', '-f', '{{.Id}}', `${R}/signed/by-skopeo:1`]).trim());
});

test('berth push signs; skopeo, podman and Berth accept it under the same policy; the referrers API lists the signature', async () => {
  makeImage(`${R}/signed/by-berth:1`);
  const out = berthPush(`${R}/signed/by-berth:1`, 'trusted');
  assert.match(out, /Signing manifest using a sigstore signature/);
  const digest = await manifestDigest('signed/by-berth', '1');
  const sig = await fetchOnceMore(`${registry.url}/v2/signed/by-berth/manifests/${digest.replace(':', '-')}.sig`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(sig.status, 200);
  const referrers = await (await fetchOnceMore(`${registry.url}/v2/signed/by-berth/referrers/${digest}`)).json() as { manifests: { artifactType?: string }[] };
  assert.deepEqual(referrers.manifests.map((m) => m.artifactType), ['application/vnd.dev.cosign.artifact.sig.v1+json']);
  const sk = skopeoPull(`${R}/signed/by-berth:1`);
  assert.equal(sk.code, 0, sk.out);
  const pm = podmanPull(`${R}/signed/by-berth:1`);
  assert.equal(pm.code, 0, pm.out);
  const pulled = dst.docker(['pull', `${R}/signed/by-berth:1`]);
  assert.equal(pulled.code, 0, `${pulled.stderr}\n${dst.logTail()}`);
  // By digest too: the signature names the tag, and matchRepoDigestOrExact accepts the repository for a digest pull.
  assert.equal(dst.docker(['pull', `${R}/signed/by-berth@${digest}`]).code, 0);
});

test('an unsigned image is refused by Berth, skopeo and podman, and nothing of it is stored', async () => {
  makeImage(`${R}/signed/unsigned:1`);
  berthPush(`${R}/signed/unsigned:1`);
  berthRefuses(`${R}/signed/unsigned:1`, /a signature was required, but no signature exists/);
  // A run that has to pull goes through the same check.
  const run = dst.docker(['run', '--rm', `${R}/signed/unsigned:1`, 'cat', '/msg']);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /refused by signature policy .* no signature exists/);
  const sk = skopeoPull(`${R}/signed/unsigned:1`);
  assert.notEqual(sk.code, 0);
  assert.match(sk.out, /A signature was required, but no signature exists/);
  const pm = podmanPull(`${R}/signed/unsigned:1`);
  assert.notEqual(pm.code, 0);
  assert.match(pm.out, /A signature was required, but no signature exists/);
  // Outside the signed scope the default accepts it.
  makeImage(`${R}/open/unsigned:1`);
  berthPush(`${R}/open/unsigned:1`);
  assert.equal(dst.docker(['pull', `${R}/open/unsigned:1`]).code, 0);
});

test('a foreign key\'s signature is refused by all three', async () => {
  makeImage(`${R}/signed/foreign:1`);
  berthPush(`${R}/signed/foreign:1`, 'foreign');
  berthRefuses(`${R}/signed/foreign:1`, /not made by the trusted key/);
  const sk = skopeoPull(`${R}/signed/foreign:1`);
  assert.notEqual(sk.code, 0);
  assert.match(sk.out, /signature verification failed|invalid signature/i);
  const pm = podmanPull(`${R}/signed/foreign:1`);
  assert.notEqual(pm.code, 0);
  assert.match(pm.out, /signature verification failed|invalid signature/i);
});

test('tampering: a good signature moved to another manifest, and an altered payload, are refused', async () => {
  makeImage(`${R}/signed/tampered:good`);
  makeImage(`${R}/signed/tampered:bad`);
  berthPush(`${R}/signed/tampered:good`, 'trusted');
  berthPush(`${R}/signed/tampered:bad`);
  const good = await manifestDigest('signed/tampered', 'good');
  const bad = await manifestDigest('signed/tampered', 'bad');
  const sigRes = await fetchOnceMore(`${registry.url}/v2/signed/tampered/manifests/${good.replace(':', '-')}.sig`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  const sigManifest = Buffer.from(await sigRes.arrayBuffer());
  const put = (tag: string, body: Buffer) => fetchOnceMore(`${registry.url}/v2/signed/tampered/manifests/${tag}`, { method: 'PUT', body, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  // The trusted key's valid signature of `good`, presented as the signature of `bad`.
  assert.equal((await put(`${bad.replace(':', '-')}.sig`, sigManifest)).status, 201);
  berthRefuses(`${R}/signed/tampered:bad`, /the signature does not match the digest: it is for sha256:[0-9a-f]{64}, the manifest is sha256:/);
  const sk = skopeoPull(`${R}/signed/tampered:bad`);
  assert.notEqual(sk.code, 0);
  assert.match(sk.out, /does not match|digest/i);
  const pm = podmanPull(`${R}/signed/tampered:bad`);
  assert.notEqual(pm.code, 0);

  // The payload rewritten to name `bad`, kept with the original signature.
  const parsed = JSON.parse(sigManifest.toString()) as { layers: { digest: string; size: number }[] };
  const payload = Buffer.from(await (await fetchOnceMore(`${registry.url}/v2/signed/tampered/blobs/${parsed.layers[0]!.digest}`)).arrayBuffer());
  const altered = Buffer.from(payload.toString().replace(good, bad));
  const upload = await fetchOnceMore(`${registry.url}/v2/signed/tampered/blobs/uploads/`, { method: 'POST' });
  const loc = new URL(upload.headers.get('location')!, registry.url);
  loc.searchParams.set('digest', sha256(altered));
  assert.equal((await fetchOnceMore(loc, { method: 'PUT', body: altered })).status, 201);
  parsed.layers[0]!.digest = sha256(altered);
  parsed.layers[0]!.size = altered.length;
  assert.equal((await put(`${bad.replace(':', '-')}.sig`, Buffer.from(JSON.stringify(parsed)))).status, 201);
  berthRefuses(`${R}/signed/tampered:bad`, /not made by the trusted key \(or its payload was altered\)/);
  const sk2 = skopeoPull(`${R}/signed/tampered:bad`);
  assert.notEqual(sk2.code, 0);
  assert.match(sk2.out, /signature verification failed|invalid signature/i);
});

test('a malformed policy: a clear error at each pull and at start-up, berthd serving on; fixed, pulls go on', async () => {
  fs.writeFileSync(policyFile, '{"default": [{"type": "sigstoreSigned"}]}');
  const r = dst.docker(['pull', `${R}/open/unsigned:1`]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`signature policy ${policyFile.replace(/[.]/g, '\\.')}: default\\[0\\]: exactly one of keyPath, keyPaths, keyData and keyDatas must be set`));
  await dst.stop();
  await dst.start();
  assert.match(dst.logTail(200), /error signature policy .*: default\[0\]: exactly one of keyPath.*every pull is refused until the file is fixed/);
  fs.writeFileSync(policyFile, policy);
  assert.equal(dst.docker(['pull', `${R}/signed/by-berth:1`]).code, 0, dst.logTail());
});
