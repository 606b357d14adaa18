// The image modules (image/local-images.ts under engine/image-*.ts) end to end on a real store: import, resolve, tag, commit, history, rmi/prune rules,
// save checked by skopeo, archives written by skopeo loaded, hostile archives refused, crash recovery.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { makeTar, type TarEntry } from './image-helpers';
import { LocalImages, type ContainerUse, type ImageUsage } from '../../src/image/local-images';
import { ImageQueries } from '../../src/engine/image-queries';
import { ImageTags } from '../../src/engine/image-tag';
import { ImageRemoval } from '../../src/engine/image-removal';
import { ImageArchives } from '../../src/engine/image-archives';
import { ImageCommit, EMPTY_LAYER_DIFF_ID } from '../../src/engine/image-commit';
import { applyChanges } from '../../src/build/config-changes';
import { EventBus } from '../../src/engine/events';
import { chainIdOf } from '../../src/image/layer-store';
import type { EventMessage, JsonMessage } from '../../src/wire/docker';
import { Filters } from '../../src/wire/filters';

const CREATED = '2024-01-01T00:00:00Z';


let rootfsTar: Buffer | undefined;
async function rootfs(): Promise<Buffer> {
  rootfsTar ??= await makeTar([
    { name: 'bin/', type: 'directory', mode: 0o755 },
    { name: 'bin/sh', data: '#!fake shell\n', mode: 0o755 },
    { name: 'bin/ls', type: 'link', linkname: 'bin/sh' },
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\n' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
  ]);
  return rootfsTar;
}

/** The image modules wired as daemon.ts wires them, behind one object for the tests' convenience. */
function imageModules({ root, events }: { root: string; events: EventBus }) {
  let usage: ImageUsage | undefined; // who uses an image, as the container service answers in daemon.ts (none: unknown)
  const local = new LocalImages({ root, usage: (id) => usage?.(id) });
  const queries = new ImageQueries(local);
  const tags = new ImageTags(local, events);
  const removal = new ImageRemoval(local, events);
  const archives = new ImageArchives(local, events);
  const commits = new ImageCommit(local, events);
  return {
    init: () => local.init(),
    answerUsage: (fn: ImageUsage) => { usage = fn; },
    resolve: local.resolve.bind(local),
    has: local.has.bind(local),
    lowerDirs: local.lowerDirs.bind(local),
    list: queries.list.bind(queries),
    inspect: queries.inspect.bind(queries),
    history: queries.history.bind(queries),
    tag: tags.tag.bind(tags),
    remove: removal.remove.bind(removal),
    prune: removal.prune.bind(removal),
    importImage: archives.importImage.bind(archives),
    save: archives.save.bind(archives),
    load: archives.load.bind(archives),
    commit: commits.commit.bind(commits),
    changes: commits.changes.bind(commits),
  };
}
type ImageModules = ReturnType<typeof imageModules>;
/** What a test sees beside the modules: the store's root, the events published so far, a work directory. */
interface ServiceContext { root: string; events: EventMessage[]; work: string }

async function withService(fn: (svc: ImageModules, ctx: ServiceContext) => Promise<void>): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-images-'));
  const events = new EventBus();
  const seen: EventMessage[] = [];
  events.subscribe((e) => seen.push(e));
  const svc = imageModules({ root, events });
  await svc.init();
  try {
    await fn(svc, { root, events: seen, work: root });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function importBase(svc: ImageModules, repo = 'busybox'): Promise<string> {
  return svc.importImage(Readable.from([await rootfs()]), { repo, changes: ['CMD ["sh"]'], created: CREATED });
}

async function saveTo(svc: ImageModules, names: string[], file: string): Promise<void> {
  const s = await svc.save(names);
  await new Promise<void>((resolve, reject) => s.pipe(fs.createWriteStream(file)).on('finish', () => resolve()).on('error', reject));
}

test('import is reproducible, gzip or not, and resolves every way Docker does', () => withService(async (svc, { events }) => {
  const id = await importBase(svc);
  const again = await svc.importImage(Readable.from([zlib.gzipSync(await rootfs())]), { repo: 'busybox', changes: ['CMD ["sh"]'], created: CREATED });
  assert.equal(again, id);
  const hex = id.slice(7);
  for (const r of ['busybox', 'busybox:latest', 'docker.io/library/busybox:latest', id, hex, hex.slice(0, 12), `sha256:${hex.slice(0, 12)}`]) {
    assert.equal((await svc.resolve(r)).id, id, r);
  }
  await assert.rejects(svc.resolve('nosuch'), { name: 'NotFoundError', message: 'No such image: nosuch:latest' });
  await assert.rejects(svc.resolve('Bad'), { name: 'InvalidParameterError' });
  const rec = await svc.resolve('busybox');
  assert.deepEqual(rec.config.config!.Cmd, ['sh']);
  assert.equal(rec.config.architecture, 'amd64');
  assert.equal(rec.config.os, 'linux');
  assert.deepEqual(rec.repoTags, ['busybox:latest']);
  assert.equal(rec.topChainId, rec.config.rootfs.diff_ids[0]);
  assert.ok(rec.size > 0);
  assert.deepEqual(events.filter((e) => e.Actor.ID === id).map((e) => e.Action).slice(0, 2), ['tag', 'import']);
  const lower = svc.lowerDirs(rec);
  assert.equal(lower.length, 1);
  assert.ok(fs.existsSync(path.join(lower[0], 'bin/sh')));
}));

test('list, inspect, tag and history', () => withService(async (svc) => {
  const id = await importBase(svc);
  await svc.tag('busybox', 'bar/committed', '1');
  await svc.tag(id.slice(7, 19), 'localhost:5000/a/b', 't');
  const [summary] = await svc.list();
  assert.deepEqual(summary.RepoTags, ['bar/committed:1', 'busybox:latest', 'localhost:5000/a/b:t']);
  assert.equal(summary.Containers, -1);
  assert.equal(summary.SharedSize, -1);
  assert.equal((await svc.list({ filters: new Filters([['reference', ['bar/*']]], ['reference']) }))[0].RepoTags.join(), 'bar/committed:1');
  assert.equal((await svc.list({ filters: new Filters([['dangling', ['true']]], ['dangling']) })).length, 0);
  await assert.rejects(svc.list({ filters: new Filters([['dangling', ['maybe']]], ['dangling']) }), { message: "invalid filter 'dangling=maybe'" });
  const ins = await svc.inspect('bar/committed:1');
  assert.equal(ins.Id, id);
  assert.equal(ins.GraphDriver.Name, 'overlay2');
  assert.deepEqual(ins.RootFS.Layers, (await svc.resolve(id)).config.rootfs.diff_ids);
  assert.equal(ins.Config!.Cmd![0], 'sh');
  const hist = await svc.history('busybox');
  assert.equal(hist.length, 1);
  assert.equal(hist[0].Id, id);
  assert.equal(hist[0].Created, Date.parse(CREATED) / 1000);
  await assert.rejects(svc.tag('busybox', 'x', 'bad tag!'), /invalid reference format/);
}));

async function withOverlay(svc: ImageModules, image: Parameters<ImageModules['lowerDirs']>[0], fn: (dirs: { upper: string; merged: string }) => Promise<void>) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ctr-'));
  const [upper, work, merged] = ['upper', 'work', 'merged'].map((d) => path.join(base, d));
  for (const d of [upper, work, merged]) fs.mkdirSync(d);
  const lowers = svc.lowerDirs(image);
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`, merged]);
  try {
    await fn({ upper, merged });
  } catch (err) {
    execFileSync('umount', [merged]);
    fs.rmSync(base, { recursive: true, force: true });
    throw err;
  }
  execFileSync('umount', [merged]);
  return { upper, cleanup: () => fs.rmSync(base, { recursive: true, force: true }) };
}

test('commit makes one layer on the parent, applies --change, and history shows the parent', () => withService(async (svc) => {
  await importBase(svc);
  const parent = await svc.resolve('busybox');
  const ctr = await withOverlay(svc, parent, async ({ merged }) => {
    fs.writeFileSync(path.join(merged, 'etc/motd'), 'hello\n');
    fs.rmSync(path.join(merged, 'etc/passwd'));
  });
  try {
    const diff = await svc.changes(ctr.upper, parent);
    assert.deepEqual(diff, [{ Path: '/etc', Kind: 0 }, { Path: '/etc/motd', Kind: 1 }, { Path: '/etc/passwd', Kind: 2 }]);
    const id = await svc.commit({
      upperDir: ctr.upper, parent, containerId: 'c0ffee'.repeat(10) + 'abcd',
      containerConfig: { Hostname: 'c0ffee', Image: 'busybox', Cmd: ['sh', '-c', 'echo hi'], Env: ['PATH=/bin'] },
      repo: 'bar/committed', tag: '1', comment: 'a comment', author: 'me',
      changes: ['ENV FOO=bar', 'EXPOSE 8080', 'LABEL a=b', 'WORKDIR /srv', 'USER nobody'],
    });
    const img = await svc.resolve('bar/committed:1');
    assert.equal(img.id, id);
    assert.equal(img.parent, parent.id);
    assert.equal(img.config.rootfs.diff_ids.length, 2);
    assert.equal(img.config.container, 'c0ffee'.repeat(10) + 'abcd');
    assert.deepEqual(img.config.config!.Env, ['PATH=/bin', 'FOO=bar']);
    assert.deepEqual(img.config.config!.ExposedPorts, { '8080/tcp': {} });
    assert.deepEqual(img.config.config!.Labels, { a: 'b' });
    assert.equal(img.config.config!.WorkingDir, '/srv');
    assert.equal(img.config.config!.User, 'nobody');
    const lowers = svc.lowerDirs(img);
    assert.equal(lowers.length, 2);
    assert.equal(lowers[1], svc.lowerDirs(parent)[0]);
    assert.ok(fs.existsSync(path.join(lowers[0], 'etc/motd')));
    assert.ok(fs.lstatSync(path.join(lowers[0], 'etc/passwd')).isCharacterDevice());
    const hist = await svc.history('bar/committed:1');
    assert.deepEqual(hist.map((h) => h.Id), [id, parent.id]);
    assert.equal(hist[0].CreatedBy, 'sh -c echo hi');
    assert.equal(hist[0].Comment, 'a comment');
    assert.deepEqual(hist[0].Tags, ['bar/committed:1']);
    assert.deepEqual(hist[1].Tags, ['busybox:latest']);
    // The parent now has a child: deleting it by ID is a hard conflict.
    await assert.rejects(svc.remove(parent.id, { force: true }), (err: Error) => err.name === 'ConflictError' && /cannot be forced\) - image has dependent child images/.test(err.message));
    // Untagging the parent's name works and keeps the image (it is the child's parent).
    assert.deepEqual(await svc.remove('busybox'), [{ Untagged: 'busybox:latest' }]);
    const all = await svc.list({ all: true });
    assert.equal(all.length, 2);
    assert.equal((await svc.list()).length, 1);
    // Deleting the child prunes the untagged parent too, with all layers.
    const out = await svc.remove('bar/committed:1');
    assert.deepEqual(out.map((o) => Object.keys(o)[0]), ['Untagged', 'Deleted', 'Deleted', 'Deleted', 'Deleted']);
    assert.equal((await svc.list({ all: true })).length, 0);
  } finally {
    ctr.cleanup();
  }
}));

test('commit without changes adds an empty_layer history entry', () => withService(async (svc) => {
  await importBase(svc);
  const parent = await svc.resolve('busybox');
  const upper = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-upper-'));
  try {
    const id = await svc.commit({ upperDir: upper, parent, containerId: 'x', containerConfig: { Cmd: ['sh'] }, changes: ['CMD ["echo","hi"]'] });
    const img = await svc.resolve(id);
    assert.deepEqual(img.config.rootfs.diff_ids, parent.config.rootfs.diff_ids);
    assert.equal(img.config.history!.at(-1)!.empty_layer, true);
    assert.deepEqual(img.config.config!.Cmd, ['echo', 'hi']);
    assert.equal(EMPTY_LAYER_DIFF_ID, 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef');
  } finally {
    fs.rmSync(upper, { recursive: true, force: true });
  }
}));

test('rmi follows Docker\'s conflict rules with containers', () => withService(async (svc) => {
  const id = await importBase(svc);
  let users: ContainerUse[] = ['abcdef0123456789'];
  svc.answerUsage(() => users);
  await assert.rejects(svc.remove('busybox'), {
    name: 'ConflictError',
    message: `conflict: unable to remove repository reference "busybox" (must force) - container abcdef012345 is using its referenced image ${id.slice(7, 19)}`,
  });
  await assert.rejects(svc.remove(id), { message: `conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is being used by stopped container abcdef012345` });
  users = [{ id: 'abcdef0123456789', running: true }];
  await assert.rejects(svc.remove(id, { force: true }), { message: `conflict: unable to delete ${id.slice(7, 19)} (cannot be forced) - image is being used by running container abcdef012345` });
  // Force on a name used by a running container: untagged, kept.
  assert.deepEqual(await svc.remove('busybox', { force: true }), [{ Untagged: 'busybox:latest' }]);
  assert.ok(svc.has(id));
  // A stopped user: force deletes the image but its layers stay for the container.
  users = ['abcdef0123456789'];
  const lower = svc.lowerDirs(await svc.resolve(id));
  const out = await svc.remove(id, { force: true });
  assert.deepEqual(out, [{ Deleted: id }]);
  assert.ok(fs.existsSync(lower[0]));
  users = [];
  await svc.init();
  assert.ok(!fs.existsSync(lower[0]));
}));

test('tags in several repositories: rmi by ID needs force; prune removes dangling only', () => withService(async (svc, { events }) => {
  const id = await importBase(svc);
  await svc.tag('busybox', 'other', 'x');
  await assert.rejects(svc.remove(id), /must be forced\) - image is referenced in multiple repositories/);
  const out = await svc.remove(id, { force: true });
  assert.deepEqual(out.slice(0, 3), [{ Untagged: 'busybox:latest' }, { Untagged: 'other:x' }, { Deleted: id }]);
  const dangling = await svc.importImage(Readable.from([await makeTar([{ name: 'a', data: 'a' }])]), { created: CREATED });
  await importBase(svc);
  const report = await svc.prune();
  assert.deepEqual(report.ImagesDeleted!.map((d) => d.Deleted ?? d.Untagged).slice(0, 1), [dangling]);
  assert.ok(report.SpaceReclaimed > 0);
  assert.equal((await svc.list({ all: true })).length, 1);
  assert.deepEqual(await svc.prune(), { ImagesDeleted: null, SpaceReclaimed: 0 });
  const all = await svc.prune(new Filters([['dangling', ['false']]], ['dangling']));
  assert.equal(all.ImagesDeleted!.filter((d) => d.Untagged).length, 1);
  assert.equal((await svc.list({ all: true })).length, 0);
  assert.ok(events.some((e) => e.Action === 'prune'));
}));

test('save writes an archive skopeo reads, and load restores it', () => withService(async (svc, { work }) => {
  const id = await importBase(svc);
  await svc.tag('busybox', 'localhost:5000/a/b', 't');
  const file = path.join(work, 'saved.tar');
  await saveTo(svc, ['busybox', 'localhost:5000/a/b:t'], file);
  const listing = execFileSync('tar', ['tf', file], { encoding: 'utf8' }).trim().split('\n');
  assert.ok(listing.includes('manifest.json') && listing.includes('index.json') && listing.includes('oci-layout') && listing.includes('repositories'));
  const info = JSON.parse(execFileSync('skopeo', ['inspect', `docker-archive:${file}:busybox:latest`], { encoding: 'utf8' }));
  assert.deepEqual(info.Layers, (await svc.resolve(id)).config.rootfs.diff_ids);
  const cfg = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `docker-archive:${file}:localhost:5000/a/b:t`], { encoding: 'utf8' }));
  assert.deepEqual(cfg.config.Cmd, ['sh']);
  // skopeo reads the OCI side too.
  const ociDir = path.join(work, 'oci-from-save');
  fs.mkdirSync(ociDir);
  execFileSync('tar', ['xf', file, '-C', ociDir]);
  const ociInfo = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${ociDir}:latest`], { encoding: 'utf8' }));
  assert.deepEqual(ociInfo.Layers, info.Layers);

  await svc.remove('localhost:5000/a/b:t');
  await svc.remove('busybox');
  assert.equal((await svc.list({ all: true })).length, 0);
  const msgs: JsonMessage[] = [];
  assert.deepEqual(await svc.load(fs.createReadStream(file), (m) => msgs.push(m)), [id]);
  assert.deepEqual(msgs, [{ stream: 'Loaded image: busybox:latest\n' }, { stream: 'Loaded image: localhost:5000/a/b:t\n' }]);
  assert.deepEqual((await svc.resolve(id)).repoTags, ['busybox:latest', 'localhost:5000/a/b:t']);
}));

test('loads archives skopeo wrote: docker-archive and OCI layout', () => withService(async (svc, { work }) => {
  const id = await importBase(svc);
  const saved = path.join(work, 'saved.tar');
  await saveTo(svc, ['busybox'], saved);
  const other = path.join(work, 'other.tar');
  execFileSync('skopeo', ['copy', '-q', `docker-archive:${saved}:busybox:latest`, `docker-archive:${other}:foo:1`]);
  const ociDir = path.join(work, 'oci');
  execFileSync('skopeo', ['copy', '-q', `docker-archive:${saved}:busybox:latest`, `oci:${ociDir}:docker.io/library/ocitag:2`]);
  const ociTar = path.join(work, 'oci.tar');
  execFileSync('tar', ['cf', ociTar, '-C', ociDir, '.']);
  const legacy = path.join(work, 'legacy.tar');
  execFileSync('skopeo', ['copy', '-q', `oci:${ociDir}:docker.io/library/ocitag:2`, `docker-archive:${legacy}`]);
  await svc.remove('busybox');

  let msgs: JsonMessage[] = [];
  await svc.load(fs.createReadStream(other), (m) => msgs.push(m));
  assert.deepEqual(msgs, [{ stream: 'Loaded image: foo:1\n' }]);
  assert.equal((await svc.resolve('foo:1')).id, id);

  msgs = [];
  const [ociId] = await svc.load(fs.createReadStream(ociTar), (m) => msgs.push(m));
  assert.deepEqual(msgs, [{ stream: 'Loaded image: ocitag:2\n' }]);
  assert.deepEqual((await svc.resolve('ocitag:2')).config.rootfs.diff_ids, (await svc.resolve(id)).config.rootfs.diff_ids);
  assert.equal((await svc.resolve(ociId)).config.config!.Cmd![0], 'sh');

  msgs = [];
  const [legacyId] = await svc.load(fs.createReadStream(legacy), (m) => msgs.push(m));
  assert.deepEqual(msgs, [{ stream: `Loaded image ID: ${legacyId}\n` }]);
}));

test('hostile or corrupt archives are refused and nothing is written outside the store', () => withService(async (svc, { root }) => {
  const outside = path.join(path.dirname(root), `berth-outside-${process.pid}`);
  const cases: TarEntry[][] = [
    [{ name: '../' + path.basename(outside), data: 'x' }],
    [{ name: outside, data: 'x' }],
    [{ name: 'l', type: 'symlink', linkname: path.dirname(root) }, { name: 'l/evil', data: 'x' }],
    [{ name: 'h', type: 'link', linkname: '../../etc/passwd' }],
  ];
  for (const entries of cases) {
    await assert.rejects(svc.load(Readable.from([await makeTar(entries)]), () => {}), { name: 'InvalidParameterError' });
  }
  assert.ok(!fs.existsSync(outside));
  // A manifest pointing outside the archive.
  const escape = await makeTar([{ name: 'manifest.json', data: JSON.stringify([{ Config: '../../../etc/passwd', RepoTags: ['x:1'], Layers: [] }]) }]);
  await assert.rejects(svc.load(Readable.from([escape]), () => {}), /escapes|outside/);
  // A layer whose content does not match the config's diff ID.
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] } });
  const layer = await makeTar([{ name: 'f', data: 'x' }]);
  const bad = await makeTar([
    { name: 'config.json', data: config },
    { name: 'layer.tar', data: layer },
    { name: 'manifest.json', data: JSON.stringify([{ Config: 'config.json', RepoTags: ['bad:1'], Layers: ['layer.tar'] }]) },
  ]);
  await assert.rejects(svc.load(Readable.from([bad]), () => {}), /invalid diffID for layer 0/);
  assert.equal((await svc.list({ all: true })).length, 0);
  assert.deepEqual(fs.readdirSync(path.join(root, 'image/tmp')), []);
  assert.deepEqual(fs.readdirSync(path.join(root, 'image/blobs/sha256')), []);
  assert.deepEqual(fs.readdirSync(path.join(root, 'image/layers')), []);
}));

test('an archive whose images share a layer file on different parents loads both (a file a later image needs is kept)', () => withService(async (svc) => {
  const l1 = await makeTar([{ name: 'one', data: '1' }]);
  const l2 = await makeTar([{ name: 'two', data: '2' }]);
  const d = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');
  const cfg = (diffIds: string[]) => JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } });
  const archive = await makeTar([
    { name: 'a.json', data: cfg([d(l1), d(l2)]) },
    { name: 'b.json', data: cfg([d(l2)]) },
    { name: 'l1/layer.tar', data: l1 },
    { name: 'l2/layer.tar', data: l2 },
    // A legacy archive's link from one image's layer.tar to another's.
    { name: 'l2b/layer.tar', type: 'symlink', linkname: '../l2/layer.tar' },
    { name: 'manifest.json', data: JSON.stringify([
      { Config: 'a.json', RepoTags: ['a:1'], Layers: ['l1/layer.tar', 'l2/layer.tar'] },
      { Config: 'b.json', RepoTags: ['b:1'], Layers: ['l2b/layer.tar'] },
    ]) },
  ]);
  const ids = await svc.load(Readable.from([archive]), () => {});
  assert.equal(ids.length, 2);
  assert.deepEqual((await svc.list({})).map((i) => i.RepoTags).flat().sort(), ['a:1', 'b:1']);
}));

test('init() after a crash at any point leaves a consistent store', () => withService(async (svc, { root }) => {
  const id = await importBase(svc);
  const img = path.join(root, 'image');
  // Leftovers of interrupted operations.
  fs.writeFileSync(path.join(img, 'ingest', 'abcd'), 'partial blob');
  fs.mkdirSync(path.join(img, 'layers', '.tmp-0123456789abcdef', 'diff'), { recursive: true });
  fs.writeFileSync(path.join(img, 'images', '.tmp-index.json-123456'), '{"half":');
  fs.mkdirSync(path.join(img, 'tmp', 'load-1234'), { recursive: true });
  // A layer and blob committed by an import that died before recording its image.
  const orphan = await svc.importImage(Readable.from([await makeTar([{ name: 'o', data: 'orphan' }])]), { created: CREATED });
  const orphanLayer = (await svc.resolve(orphan)).topChainId;
  const index = JSON.parse(fs.readFileSync(path.join(img, 'images/index.json'), 'utf8'));
  delete index.images[orphan];
  // And a record whose layer vanished (rmi died after deleting layers of an image still listed).
  index.images[`sha256:${'f'.repeat(64)}`] = {};
  index.references['docker.io/library/ghost:latest'] = `sha256:${'f'.repeat(64)}`;
  fs.writeFileSync(path.join(img, 'images/index.json'), JSON.stringify(index));

  const svc2 = imageModules({ root, events: new EventBus() });
  await svc2.init();
  assert.deepEqual(fs.readdirSync(path.join(img, 'ingest')), []);
  assert.deepEqual(fs.readdirSync(path.join(img, 'layers')).filter((n) => n.startsWith('.tmp-')), []);
  assert.deepEqual(fs.readdirSync(path.join(img, 'images')).filter((n) => n.startsWith('.tmp-')), []);
  assert.deepEqual(fs.readdirSync(path.join(img, 'tmp')), []);
  assert.ok(!fs.existsSync(path.join(img, 'layers', orphanLayer!.slice(7))));
  assert.ok(!fs.existsSync(path.join(img, 'blobs/sha256', orphan.slice(7))));
  assert.deepEqual((await svc2.list({ all: true })).map((i) => i.Id), [id]);
  await assert.rejects(svc2.resolve('ghost'), { name: 'NotFoundError' });
  // A half-removed layer (renamed for deletion) and a layer missing its metadata.
  const top = (await svc2.resolve(id)).topChainId;
  fs.rmSync(path.join(img, 'layers', top!.slice(7), 'layer.json'));
  const svc3 = imageModules({ root, events: new EventBus() });
  await svc3.init();
  assert.deepEqual(await svc3.list({ all: true }), []);
  assert.deepEqual(fs.readdirSync(path.join(img, 'blobs/sha256')), []);
}));

test('chain IDs are computed as Docker does', () => {
  const a = 'sha256:' + 'a'.repeat(64);
  const b = 'sha256:' + 'b'.repeat(64);
  const expected = 'sha256:' + createHash('sha256').update(`${a} ${b}`).digest('hex');
  assert.equal(chainIdOf([a]), a);
  assert.equal(chainIdOf([a, b]), expected);
  assert.equal(chainIdOf([]), null);
});

test('--change instructions', () => {
  const c = applyChanges({ Cmd: ['old'], Env: ['PATH=/bin', 'A=1'], WorkingDir: '/a' }, [
    'ENV A=2 B="two words"',
    'ENV C $A-x',
    'ENTRYPOINT ["/bin/tini", "--"]',
    'LABEL "com.example"="v 1" other=2',
    'EXPOSE 80 53/udp 8000-8001',
    'VOLUME ["/data", "/logs"]',
    'WORKDIR b',
    'STOPSIGNAL SIGKILL',
    'ONBUILD RUN echo hi',
  ]);
  assert.deepEqual(c.Env, ['PATH=/bin', 'A=2', 'B=two words', 'C=2-x']);
  assert.deepEqual(c.Entrypoint, ['/bin/tini', '--']);
  assert.equal(c.Cmd, null);
  assert.deepEqual(c.Labels, { 'com.example': 'v 1', other: '2' });
  // A set (dockerd answers it in Go's map order, sorted by key).
  assert.deepEqual(Object.keys(c.ExposedPorts!).sort(), ['53/udp', '80/tcp', '8000/tcp', '8001/tcp']);
  assert.deepEqual(Object.keys(c.Volumes!), ['/data', '/logs']);
  assert.equal(c.WorkingDir, '/a/b');
  assert.equal(c.StopSignal, 'SIGKILL');
  assert.deepEqual(c.OnBuild, ['RUN echo hi']);
  assert.deepEqual(applyChanges({}, ['CMD echo hello']).Cmd, ['/bin/sh', '-c', 'echo hello']);
  assert.deepEqual(applyChanges({}, ['CMD ["a"]', 'ENTRYPOINT ["b"]']).Cmd, ['a']);
  assert.equal(applyChanges({}, ['USER 1000:1000']).User, '1000:1000');
  assert.throws(() => applyChanges({}, ['RUN echo']), { message: 'run is not a valid change command' });
  assert.throws(() => applyChanges({}, ['FROM x']), { message: 'from is not a valid change command' });
});
