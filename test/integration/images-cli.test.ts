// The image commands of the docker CLI v28 against a real berthd: images, inspect, history, tag, rmi, prune,
// import, save/load (checked with skopeo), commit, diff, export, and rmi/prune giving the disk back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as crypto from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { TestDaemon } from '../helpers/daemon';
import { makeTar, type TarEntry } from '../unit/image-helpers';
import type { ImageInspect, SaveManifestEntry } from '../helpers/api-types';
import type { ImageConfig } from '../../src/wire/oci';

const d = new TestDaemon('images');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-images-work-'));
let busyboxId: string;

before(async () => {
  await d.startWithBusybox();
  busyboxId = d.dockerOk(['image', 'inspect', '--format', '{{.Id}}', 'busybox']).trim();
});
after(async () => {
  await d.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(path.join(os.tmpdir(), `berth-busybox-${process.pid}.tar`), { force: true });
});

/** What `skopeo inspect` says of an image (the fields read here). */
interface SkopeoInspect {
  Os: string;
  Layers: string[];
}

const imageRoot = () => path.join(d.dataRoot, 'image');
/** Disk use of the data root in KiB (du -sk). */
// -x: what the data root holds on its own filesystem (a created container's root is mounted, its view is no disk).
const du = () => Number(execFileSync('du', ['-skx', d.dataRoot], { encoding: 'utf8' }).split('\t')[0]);
const layerDirs = () => fs.readdirSync(path.join(imageRoot(), 'layers')).sort();
const blobs = () => fs.readdirSync(path.join(imageRoot(), 'blobs', 'sha256')).sort();
const inspect = (ref: string) => (JSON.parse(d.dockerOk(['image', 'inspect', ref])) as ImageInspect[])[0];
/** `docker images` rows as [repo, tag, short id, size] (CREATED varies). */
const imageRows = (args: string[] = []) => d.dockerOk(['images', ...args]).trim().split('\n').slice(1)
  .map((l) => l.split(/\s{2,}/)).map((c) => [c[0], c[1], c[2], c[c.length - 1]]);

/** A rootfs-shaped tar with one file of `bytes` random (incompressible) bytes. */
async function randomRootfs(bytes: number, extra: TarEntry[] = []) {
  return makeTar([
    { name: 'data/', type: 'directory', mode: 0o755 },
    { name: 'data/blob', data: crypto.randomBytes(bytes), mode: 0o644 },
    ...extra,
  ], { mtime: new Date(1_700_000_000_000) });
}

test('import from stdin with --change and -m; a gzip import; the image runs with its CMD and ENV', async () => {
  const tarBuf = await makeTar([
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/motd', data: 'hello from import\n' },
  ]);
  const out = d.dockerOk(['import', '-m', 'from a test', '-c', 'ENV GREETING=hi', '-c', 'LABEL a=b', '-c', 'WORKDIR /etc', '-c', 'CMD ["cat", "motd"]', '-', 'imported:v1'], { input: tarBuf });
  assert.match(out, /^sha256:[a-f0-9]{64}\n$/);
  const id = out.trim();
  const img = inspect('imported:v1');
  assert.equal(img.Id, id);
  assert.deepEqual(img.RepoTags, ['imported:v1']);
  assert.equal(img.Comment, 'from a test');
  assert.deepEqual(img.Config.Env, ['GREETING=hi']);
  assert.deepEqual(img.Config.Cmd, ['cat', 'motd']);
  assert.deepEqual(img.Config.Labels, { a: 'b' });
  assert.equal(img.Config.WorkingDir, '/etc');
  assert.equal(img.RootFS.Type, 'layers');
  assert.equal(img.RootFS.Layers.length, 1);
  // The layer's diff ID is the sha256 of the tar as given.
  assert.equal(img.RootFS.Layers[0], 'sha256:' + crypto.createHash('sha256').update(tarBuf).digest('hex'));
  const hist = d.dockerOk(['history', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}', 'imported:v1']).trim().split('\n');
  assert.deepEqual(hist, [`${id.slice(7, 19)}||18B|from a test`]);

  // A gzip-compressed tarball from a file: the same layer (same diff ID) as the plain one.
  const gz = path.join(work, 'rootfs.tar.gz');
  fs.writeFileSync(gz, zlib.gzipSync(tarBuf));
  const id2 = d.dockerOk(['import', gz, 'imported:gz']).trim();
  assert.notEqual(id2, id);
  assert.deepEqual(inspect('imported:gz').RootFS.Layers, img.RootFS.Layers);
  assert.equal(inspect('imported:gz').Comment, 'Imported from -');
  // Both images share that one layer directory.
  assert.equal(layerDirs().filter((n) => n === img.RootFS.Layers[0].slice(7)).length, 1);

  // A runnable image: busybox plus a CMD and ENV given with --change.
  const bb = fs.readFileSync(path.join(os.tmpdir(), `berth-busybox-${process.pid}.tar`));
  d.dockerOk(['import', '-c', 'ENV GREETING=hi', '-c', 'CMD ["sh", "-c", "echo $GREETING"]', '-', 'runnable:1'], { input: bb });
  assert.equal(d.dockerOk(['run', '--rm', 'runnable:1']), 'hi\n');
  d.dockerOk(['rmi', 'imported:v1', 'imported:gz', 'runnable:1']);
});

test('images lists tags, -q, -a and dangling filters as docker prints them', async () => {
  d.dockerOk(['tag', 'busybox', 'bb:one']);
  d.dockerOk(['tag', 'busybox', 'localhost:5000/ns/bb:two']);
  const short = busyboxId.slice(7, 19);
  const head = d.dockerOk(['images']).split('\n')[0];
  assert.match(head, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.deepEqual(imageRows().sort(), [
    ['bb', 'one', short, '1.98MB'],
    ['busybox', 'latest', short, '1.98MB'],
    ['localhost:5000/ns/bb', 'two', short, '1.98MB'],
  ]);
  assert.deepEqual(d.dockerOk(['images', '-q']).trim().split('\n'), [short, short, short]);
  assert.deepEqual(d.dockerOk(['images', '-q', 'bb']).trim().split('\n'), [short]);
  assert.equal(d.dockerOk(['images', '-q', '--filter', 'dangling=true']), '');
  assert.deepEqual(inspect(short).RepoTags, ['bb:one', 'busybox:latest', 'localhost:5000/ns/bb:two']);

  // Untag versus delete: removing one of several names only untags.
  assert.equal(d.dockerOk(['rmi', 'bb:one']), 'Untagged: bb:one\n');
  assert.equal(d.dockerOk(['rmi', 'localhost:5000/ns/bb:two']), 'Untagged: localhost:5000/ns/bb:two\n');
  assert.deepEqual(inspect('busybox').RepoTags, ['busybox:latest']);
  // By ID with several names: a conflict, as Docker words it.
  d.dockerOk(['tag', 'busybox', 'bb:one']);
  const r = d.docker(['rmi', short]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), `Error response from daemon: conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
  d.dockerOk(['rmi', 'bb:one']);
  const missing = d.docker(['rmi', 'nosuch:tag']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim(), 'Error response from daemon: No such image: nosuch:tag');
  const bad = d.docker(['tag', 'busybox', 'Bad:tag']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid reference format/);
});

test('commit makes one layer with -m, -a and --change; history, diff and export show it', async () => {
  d.dockerOk(['run', '--name', 'committer', 'busybox', 'sh', '-c', 'mkdir /work && echo made > /work/file && rm /bin/ls']);
  assert.deepEqual(d.dockerOk(['diff', 'committer']).trim().split('\n'), ['C /bin', 'D /bin/ls', 'A /work', 'A /work/file']);
  const id = d.dockerOk(['commit', '-m', 'a message', '-a', 'Jane <jane@example.com>', '-c', 'ENV COMMITTED=1', '-c', 'CMD ["cat", "/work/file"]', 'committer', 'committed:1']).trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  const img = inspect('committed:1');
  assert.equal(img.Parent, busyboxId);
  assert.equal(img.Comment, 'a message');
  assert.equal(img.Author, 'Jane <jane@example.com>');
  assert.deepEqual(img.Config.Cmd, ['cat', '/work/file']);
  assert.ok(img.Config.Env!.includes('COMMITTED=1'));
  const base = inspect('busybox');
  assert.deepEqual(img.RootFS.Layers.slice(0, 1), base.RootFS.Layers);
  assert.equal(img.RootFS.Layers.length, 2);
  assert.equal(d.dockerOk(['run', '--rm', 'committed:1']), 'made\n');
  assert.equal(d.docker(['run', '--rm', 'committed:1', 'ls', '/']).code, 127);

  const hist = d.dockerOk(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Comment}}', 'committed:1']).trim().split('\n');
  assert.deepEqual(hist, [
    `${id}|sh -c mkdir /work && echo made > /work/file && rm /bin/ls|a message`,
    `${busyboxId}||Imported from -`,
  ]);
  const table = d.dockerOk(['history', 'committed:1']).split('\n');
  assert.match(table[0], /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  assert.match(table[1], new RegExp(`^${id.slice(7, 19)}\\s+.*\\s+sh -c mkdir /work && echo made > /work/file …\\s+5B\\s+a message$`));

  // export: the container's whole filesystem as a tar, with the change and without the removed file.
  const exported = d.dockerOk(['export', 'committer'], { encoding: 'buffer' });
  const names = execFileSync('tar', ['-t'], { input: exported, encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n');
  assert.ok(names.includes('work/file'));
  assert.ok(names.includes('bin/sh'));
  assert.ok(!names.includes('bin/ls'));

  // A commit without changes adds no layer.
  d.dockerOk(['create', '--name', 'unchanged', 'busybox', 'true']);
  d.dockerOk(['commit', 'unchanged', 'same:1']);
  assert.deepEqual(inspect('same:1').RootFS.Layers, base.RootFS.Layers);
  d.dockerOk(['rm', 'committer', 'unchanged']);

  // rmi of the committed image: its own layer goes, busybox's layer (still used) stays.
  const topLayerDirs = layerDirs().length;
  const out = d.dockerOk(['rmi', 'committed:1']).trim().split('\n');
  assert.equal(out[0], 'Untagged: committed:1');
  assert.equal(out[1], `Deleted: ${id}`);
  assert.equal(out.length, 3); // + the removed layer
  assert.equal(layerDirs().length, topLayerDirs - 1);
  d.dockerOk(['rmi', 'same:1']);
  assert.equal(d.dockerOk(['run', '--rm', 'busybox', 'echo', 'still']), 'still\n');
});

test('history shows <missing> for layers without an image of their own', async () => {
  d.dockerOk(['run', '--name', 'h1', 'busybox', 'sh', '-c', 'echo 1 > /one']);
  d.dockerOk(['commit', 'h1', 'hist:1']);
  d.dockerOk(['rm', 'h1']);
  const archive = path.join(work, 'hist.tar');
  d.dockerOk(['save', '-o', archive, 'hist:1']);
  d.dockerOk(['tag', 'busybox', 'keep:bb']);
  d.dockerOk(['rmi', 'hist:1']);
  // Loaded without its parent image: the lower entry has no image ID.
  d.dockerOk(['rmi', 'busybox']);
  assert.equal(d.dockerOk(['load', '-i', archive]), 'Loaded image: hist:1\n');
  const ids = d.dockerOk(['history', '--format', '{{.ID}}', 'hist:1']).trim().split('\n');
  assert.equal(ids.length, 2);
  assert.equal(ids[0], inspect('hist:1').Id.slice(7, 19));
  assert.equal(ids[1], '<missing>');
  d.dockerOk(['tag', 'keep:bb', 'busybox']);
  d.dockerOk(['rmi', 'keep:bb', 'hist:1']);
  fs.rmSync(archive);
});

test('rmi and prune with containers: conflicts, -f keeps the layers a container still uses', async () => {
  const tarBuf = await randomRootfs(4096);
  const id = d.dockerOk(['import', '-c', 'CMD ["/data/blob"]', '-', 'used:1'], { input: tarBuf }).trim();
  const layer = inspect('used:1').RootFS.Layers[0].slice(7);
  const cid = d.dockerOk(['create', '--name', 'user1', 'used:1']).trim();
  const r = d.docker(['rmi', 'used:1']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), `Error response from daemon: conflict: unable to remove repository reference "used:1" (must force) - container ${cid.slice(0, 12)} is using its referenced image ${id.slice(7, 19)}`);
  const byId = d.docker(['rmi', id.slice(7, 19)]);
  assert.equal(byId.code, 1);
  assert.match(byId.stderr, /conflict: unable to delete .* \(must be forced\) - image is being used by stopped container/);
  // image prune -a leaves an image a container uses.
  d.dockerOk(['create', '--name', 'bbholder', 'busybox', 'true']);
  d.dockerOk(['image', 'prune', '-a', '-f']);
  d.dockerOk(['rm', 'bbholder']);
  assert.ok(layerDirs().includes(layer));
  assert.equal(inspect('used:1').Id, id);

  assert.equal(d.dockerOk(['rmi', '-f', 'used:1']), `Untagged: used:1\nDeleted: ${id}\n`);
  assert.equal(d.docker(['image', 'inspect', id]).code, 1);
  assert.ok(layerDirs().includes(layer), 'the container still needs the layer');
  assert.ok(blobs().includes(layer));
  assert.equal(d.docker(['diff', 'user1']).code, 0);
  // The last user gone, the layer and its blob go too.
  d.dockerOk(['rm', 'user1']);
  // (The sweep follows the container's destroy event: wait for it, boundedly.)
  for (let i = 0; i < 250 && (layerDirs().includes(layer) || blobs().includes(layer)); i++) await new Promise((res) => setTimeout(res, 20));
  assert.ok(!layerDirs().includes(layer));
  assert.ok(!blobs().includes(layer));
});

test('rmi and image prune give the disk back (du on the data root)', async () => {
  const MiB = 1024;
  const baseline = du();
  const baseLayers = layerDirs();
  const baseBlobs = blobs();
  const bigTar = await randomRootfs(8 << 20);
  const id = d.dockerOk(['import', '-', 'big:1'], { input: bigTar }).trim();
  const layer = inspect('big:1').RootFS.Layers[0].slice(7);
  // Stored once as a blob and once unpacked: about 16 MiB.
  assert.ok(du() - baseline >= 15 * MiB, `grew by ${du() - baseline} KiB`);
  d.dockerOk(['tag', 'big:1', 'big:2']);
  assert.ok(du() - baseline < 17 * MiB, 'a second tag stores nothing');

  const out = d.dockerOk(['rmi', 'big:1', 'big:2']);
  assert.equal(out, `Untagged: big:1\nUntagged: big:2\nDeleted: ${id}\nDeleted: sha256:${layer}\n`);
  assert.deepEqual(layerDirs(), baseLayers);
  assert.deepEqual(blobs(), baseBlobs);
  assert.ok(Math.abs(du() - baseline) < 256, `du ${du()} KiB vs ${baseline} KiB before`);

  // Dangling images (import without a name) and prune.
  const dang = d.dockerOk(['import', '-'], { input: bigTar }).trim();
  assert.deepEqual(imageRows(['--filter', 'dangling=true']), [['<none>', '<none>', dang.slice(7, 19), '8.39MB']]);
  const pruned = d.dockerOk(['image', 'prune', '-f']);
  assert.equal(pruned, `Deleted Images:\ndeleted: ${dang}\ndeleted: sha256:${layer}\n\nTotal reclaimed space: 8.389MB\n`);
  assert.deepEqual(layerDirs(), baseLayers);
  assert.deepEqual(blobs(), baseBlobs);
  assert.ok(Math.abs(du() - baseline) < 256);

  // prune -a removes tagged images no container uses. An image a container uses loses its extra
  // names (moby's prune deletes each reference; only the last one conflicts) but stays.
  d.dockerOk(['import', '-', 'unused:1'], { input: bigTar });
  d.dockerOk(['tag', 'busybox', 'bb:keep']);
  d.dockerOk(['create', '--name', 'holder', 'busybox', 'true']);
  const all = d.dockerOk(['image', 'prune', '-a', '-f']);
  assert.match(all, /^Deleted Images:\n(untagged: bb:keep\nuntagged: unused:1|untagged: unused:1\nuntagged: bb:keep)\ndeleted: sha256:[a-f0-9]{64}\ndeleted: sha256:[a-f0-9]{64}\n\nTotal reclaimed space: 8\.389MB\n$/);
  assert.deepEqual(inspect('busybox').RepoTags, ['busybox:latest']);
  assert.ok(Math.abs(du() - baseline) < 256);
  assert.equal(d.dockerOk(['image', 'prune', '-f']), 'Total reclaimed space: 0B\n');
  d.dockerOk(['rm', 'holder']);
});

test('save writes a docker-archive skopeo reads; archives skopeo writes load (docker-archive and OCI)', async () => {
  const archive = path.join(work, 'busybox.tar');
  d.dockerOk(['save', '-o', archive, 'busybox']);
  const listing = execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  const layer = inspect('busybox').RootFS.Layers[0];
  assert.ok(listing.includes('manifest.json') && listing.includes('index.json') && listing.includes('oci-layout') && listing.includes('repositories'));
  assert.ok(listing.includes(`blobs/sha256/${layer.slice(7)}`) && listing.includes(`blobs/sha256/${busyboxId.slice(7)}`));
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' })) as SaveManifestEntry[];
  assert.deepEqual(manifest, [{ Config: `blobs/sha256/${busyboxId.slice(7)}`, RepoTags: ['busybox:latest'], Layers: [`blobs/sha256/${layer.slice(7)}`] }]);
  const info = JSON.parse(execFileSync('skopeo', ['inspect', `docker-archive:${archive}`], { encoding: 'utf8' })) as SkopeoInspect;
  assert.deepEqual(info.Layers, [layer]);
  assert.equal(info.Os, 'linux');
  const cfg = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `docker-archive:${archive}`], { encoding: 'utf8' })) as ImageConfig;
  assert.deepEqual(cfg.rootfs.diff_ids, [layer]);
  // The OCI side of the archive too.
  const oci = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${archive}`], { encoding: 'utf8' })) as SkopeoInspect;
  assert.deepEqual(oci.Layers, [layer]);

  // skopeo re-writes it (legacy layout, symlinked layer.tar) under a new name; Berth loads it for real.
  const sk = path.join(work, 'skopeo.tar');
  execFileSync('skopeo', ['copy', '-q', `docker-archive:${archive}`, `docker-archive:${sk}:skopeo/copied:v2`]);
  const skOci = path.join(work, 'skopeo-oci.tar');
  execFileSync('skopeo', ['copy', '-q', `docker-archive:${archive}`, `oci-archive:${skOci}:ocitag`]);
  d.dockerOk(['tag', 'busybox', 'keep:bb']);
  d.dockerOk(['save', '-o', path.join(work, 'keep.tar'), 'keep:bb']);
  d.dockerOk(['rmi', 'busybox', 'keep:bb']);
  assert.ok(!layerDirs().includes(layer.slice(7)), 'the layer is really gone before the load');
  assert.equal(d.dockerOk(['load', '-i', sk]), 'Loaded image: skopeo/copied:v2\n');
  assert.equal(inspect('skopeo/copied:v2').Id, busyboxId);
  assert.equal(d.dockerOk(['run', '--rm', 'skopeo/copied:v2', 'echo', 'loaded']), 'loaded\n');
  d.dockerOk(['rmi', 'skopeo/copied:v2']);
  // An OCI archive: loaded by ID (its ref name is a bare tag, which Docker does not take as an image name).
  const ociOut = d.dockerOk(['load', '-i', skOci]);
  assert.match(ociOut, /^Loaded image ID: sha256:[a-f0-9]{64}\n$/);
  const ociId = ociOut.trim().split(' ').pop()!;
  assert.equal(d.dockerOk(['run', '--rm', ociId, 'echo', 'oci']), 'oci\n');
  d.dockerOk(['rmi', ociId]);

  // Our own archive back, from stdin; loading it twice keeps one copy.
  assert.equal(d.dockerOk(['load'], { input: fs.readFileSync(archive) }), 'Loaded image: busybox:latest\n');
  assert.equal(d.dockerOk(['load', '-i', archive]), 'Loaded image: busybox:latest\n');
  assert.equal(inspect('busybox').Id, busyboxId);
  assert.equal(layerDirs().filter((n) => n === layer.slice(7)).length, 1);
  assert.equal(d.dockerOk(['run', '--rm', 'busybox', 'echo', 'back']), 'back\n');
  const q = spawnSync('docker', ['save', 'nosuch'], { env: d.env, encoding: 'utf8' });
  assert.notEqual(q.status, 0);
  assert.match(q.stderr, /No such image: nosuch:latest/);
});

test('system df counts each layer once: the images\' SIZE is their layers\' total, shared layers not twice', async () => {
  d.dockerOk(['run', '--name', 'df-src', 'busybox', 'sh', '-c', 'head -c 300000 /dev/urandom > /grown']);
  d.dockerOk(['commit', 'df-src', 'df/child']);
  d.dockerOk(['rm', 'df-src']);
  try {
    const df = JSON.parse(d.api('GET', '/system/df').body) as { LayersSize: number; Images: { Id: string; Size: number; SharedSize: number }[] };
    const base = df.Images.find((i) => i.Id === busyboxId)!;
    const child = df.Images.find((i) => i.Id === inspect('df/child').Id)!;
    assert.ok(base && child, 'both images listed');
    assert.ok(child.Size >= base.Size + 300_000, `the child holds the base and its own layer: ${child.Size} vs ${base.Size}`);
    assert.equal(child.SharedSize, base.Size, 'the base layer is shared');
    assert.ok(df.LayersSize >= child.Size && df.LayersSize < child.Size + base.Size, `each layer once: ${df.LayersSize}`);
    const sizes = d.dockerOk(['system', 'df', '--format', '{{.Type}}={{.Size}}']);
    assert.doesNotMatch(sizes, /^Images=0B$/m, sizes);
  } finally {
    d.docker(['rmi', 'df/child']);
  }
});
