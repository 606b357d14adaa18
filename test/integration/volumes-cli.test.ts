// docker volume create/ls/inspect/rm/prune against berthd: the local driver with and without device options,
// filters, 409 for a volume in use, events, and volumes (data and metadata) kept across a daemon restart.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestDaemon, type RunOpts } from '../helpers/daemon';
import { mountsUnder } from '../helpers/mounts';
import type { ContainerInspect, ErrorBody, EventMessage, VolumeInspect, VolumePruneReport } from '../helpers/api-types';

test('docker volume verbs against berthd', { timeout: 240_000 }, async (t) => {
  const d = new TestDaemon('volcli');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const ok = (args: string[], opts?: RunOpts) => d.dockerOk(args, opts);
  const fail = (args: string[]) => d.dockerFail(args);
  const since = String(Math.floor(Date.now() / 1000) - 1);

  await t.test('create, inspect and ls: Docker\'s fields, labels, options, filters', () => {
    assert.equal(ok(['volume', 'create', '--label', 'team=a', '--label', 'x', 'vol-a']).trim(), 'vol-a');
    ok(['volume', 'create', 'vol-b']);
    const [v] = (JSON.parse(ok(['volume', 'inspect', 'vol-a'])) as VolumeInspect[]);
    assert.equal(v.Name, 'vol-a');
    assert.equal(v.Driver, 'local');
    assert.equal(v.Scope, 'local');
    assert.equal(v.Mountpoint, path.join(d.dataRoot, 'volumes/vol-a/_data'));
    assert.deepEqual(v.Labels, { team: 'a', x: '' });
    assert.equal(v.Options, null);
    assert.match(v.CreatedAt ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    assert.ok(fs.statSync(v.Mountpoint).isDirectory());
    // Creating an existing name returns it unchanged.
    assert.equal(ok(['volume', 'create', '--label', 'other=1', 'vol-a']).trim(), 'vol-a');
    assert.deepEqual((JSON.parse(ok(['volume', 'inspect', 'vol-a'])) as VolumeInspect[])[0].Labels, { team: 'a', x: '' });

    const names = (args: string[]) => ok(['volume', 'ls', '-q', ...args]).split('\n').filter(Boolean).sort();
    assert.deepEqual(names([]), ['vol-a', 'vol-b']);
    assert.deepEqual(names(['--filter', 'label=team=a']), ['vol-a']);
    assert.deepEqual(names(['--filter', 'label=team=b']), []);
    assert.deepEqual(names(['--filter', 'name=b$']), ['vol-b']);
    assert.deepEqual(names(['--filter', 'driver=local']), ['vol-a', 'vol-b']);
    assert.deepEqual(names(['--filter', 'dangling=true']), ['vol-a', 'vol-b']);
    assert.match(fail(['volume', 'ls', '--filter', 'dangling=maybe']), /invalid filter 'dangling=\[maybe\]'/);
    assert.match(fail(['volume', 'ls', '--filter', 'bogus=1']), /invalid filter 'bogus'/);
    assert.match(ok(['volume', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Labels}}', '--filter', 'name=vol-a']), /^vol-a local (team=a,x=|x=,team=a)\n$/);
  });

  await t.test('bad names, options and drivers are refused with Docker\'s words', () => {
    assert.match(fail(['volume', 'create', 'a']), /volume name is too short, names should be at least two alphanumeric characters/);
    assert.match(fail(['volume', 'create', 'bad/name']), /"bad\/name" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed/);
    assert.match(fail(['volume', 'create', '-o', 'bogus=1', 'vopt']), /invalid option: "bogus"/);
    assert.match(fail(['volume', 'create', '-o', 'type=tmpfs', 'vopt']), /missing required option: "device"/);
    assert.match(fail(['volume', 'create', '-d', 'nfsplugin', 'vopt']), /plugin "nfsplugin" not found/);
    assert.equal(d.docker(['volume', 'inspect', 'vopt']).code, 1);
    assert.match(fail(['volume', 'inspect', 'ghost']), /get ghost: no such volume/);
    assert.match(fail(['volume', 'rm', 'ghost']), /no such volume/);
    ok(['volume', 'rm', '-f', 'ghost']);
  });

  await t.test('a volume in use is refused removal with 409, naming the container', () => {
    const id = ok(['create', '-v', 'vol-a:/data', 'busybox', 'true']).trim();
    const r = d.api('DELETE', '/volumes/vol-a');
    assert.equal(r.status, 409);
    assert.equal((JSON.parse(r.body) as ErrorBody).message, `remove vol-a: volume is in use - [${id}]`);
    assert.match(fail(['volume', 'rm', '-f', 'vol-a']), /volume is in use/);
    assert.deepEqual(ok(['volume', 'ls', '-q', '--filter', 'dangling=false']).split('\n').filter(Boolean), ['vol-a']);
    ok(['rm', id]);
    ok(['volume', 'rm', 'vol-a']);
    assert.equal(fs.existsSync(path.join(d.dataRoot, 'volumes/vol-a')), false);
  });

  await t.test('a tmpfs volume is mounted while a container uses it and unmounted after', async () => {
    ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', 'vol-tmp']);
    const [v] = (JSON.parse(ok(['volume', 'inspect', 'vol-tmp'])) as VolumeInspect[]);
    assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
    assert.deepEqual(mountsUnder(v.Mountpoint), []);
    const df = ok(['run', '--rm', '-v', 'vol-tmp:/t', 'busybox', 'sh', '-c', 'echo x > /t/f && df -k /t | tail -1']);
    assert.match(df, /^tmpfs\s+1024\s/);
    ok(['run', '-d', '--name', 'tmpuser', '-v', 'vol-tmp:/t', 'busybox', 'sleep', '300']);
    assert.deepEqual(mountsUnder(v.Mountpoint), [v.Mountpoint]);
    ok(['rm', '-f', 'tmpuser']);
    assert.deepEqual(mountsUnder(v.Mountpoint), []);
    ok(['volume', 'rm', 'vol-tmp']);
  });

  await t.test('a bind volume (-o type=none -o o=bind -o device=dir) shows the host directory', () => {
    const host = fs.mkdtempSync(path.join(d.base, 'bindvol-'));
    fs.writeFileSync(path.join(host, 'hello'), 'from host\n');
    ok(['volume', 'create', '-o', 'type=none', '-o', `device=${host}`, '-o', 'o=bind', 'vol-bind']);
    assert.equal(ok(['run', '--rm', '-v', 'vol-bind:/b', 'busybox', 'sh', '-c', 'cat /b/hello; echo back > /b/back']), 'from host\n');
    assert.equal(fs.readFileSync(path.join(host, 'back'), 'utf8'), 'back\n');
    ok(['volume', 'rm', 'vol-bind']);
    // Removing the volume never touches the directory it was bound from.
    assert.equal(fs.readFileSync(path.join(host, 'hello'), 'utf8'), 'from host\n');
  });

  await t.test('prune removes unused anonymous volumes, and with --all unused named ones', () => {
    ok(['create', '--name', 'anon-holder', '-v', '/anon', 'busybox', 'true']);
    const anon = (JSON.parse(ok(['inspect', 'anon-holder'])) as ContainerInspect[])[0].Mounts[0].Name!;
    assert.match(anon, /^[0-9a-f]{64}$/);
    assert.deepEqual((JSON.parse(ok(['volume', 'inspect', anon])) as VolumeInspect[])[0].Labels, { 'com.docker.volume.anonymous': '' });
    ok(['rm', 'anon-holder']);
    ok(['volume', 'create', 'vol-used']);
    ok(['create', '--name', 'user', '-v', 'vol-used:/u', 'busybox', 'true']);
    const pruned = ok(['volume', 'prune', '-f']);
    assert.match(pruned, new RegExp(anon));
    assert.doesNotMatch(pruned, /vol-b/);
    const left = () => ok(['volume', 'ls', '-q']).split('\n').filter(Boolean).sort();
    assert.deepEqual(left(), ['vol-b', 'vol-used']);
    const all = ok(['volume', 'prune', '-f', '--all']);
    assert.match(all, /vol-b/);
    assert.deepEqual(left(), ['vol-used']);
    // Through API 1.41 prune removes unused named volumes too; from 1.42 only anonymous ones (without all=true).
    ok(['volume', 'create', 'vol-named']);
    const newer = d.api('POST', '/v1.42/volumes/prune');
    assert.equal(newer.status, 200, newer.body);
    assert.ok(!((JSON.parse(newer.body) as VolumePruneReport).VolumesDeleted ?? []).includes('vol-named'), newer.body);
    const older = d.api('POST', '/v1.41/volumes/prune');
    assert.equal(older.status, 200, older.body);
    assert.deepEqual((JSON.parse(older.body) as VolumePruneReport).VolumesDeleted, ['vol-named']);
    assert.deepEqual(left(), ['vol-used']);
    ok(['rm', 'user']);
  });

  await t.test('volume events: create, mount, unmount, destroy with Docker\'s attributes', () => {
    const out = ok(['events', '--since', since, '--until', '0s', '--filter', 'type=volume', '--format', '{{json .}}']);
    const events = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as EventMessage);
    const of = (name: string, action: string) => events.filter((e) => e.Actor.ID === name && e.Action === action);
    assert.deepEqual(of('vol-a', 'create')[0].Actor.Attributes, { driver: 'local' });
    assert.deepEqual(of('vol-a', 'destroy')[0].Actor.Attributes, { driver: 'local' });
    const mount = of('vol-tmp', 'mount')[0];
    assert.deepEqual(Object.keys(mount.Actor.Attributes).sort(), ['container', 'destination', 'driver', 'propagation', 'read/write']);
    assert.equal(mount.Actor.Attributes.destination, '/t');
    assert.equal(mount.Actor.Attributes['read/write'], 'true');
    assert.deepEqual(Object.keys(of('vol-tmp', 'unmount')[0].Actor.Attributes).sort(), ['container', 'driver']);
    assert.equal(mount.Type, 'volume');
    assert.ok(events.some((e) => e.Action === 'prune'));
  });

  await t.test('named volumes keep data and metadata across a daemon restart', async () => {
    ok(['volume', 'create', '--label', 'keep=yes', 'vol-keep']);
    ok(['run', '--rm', '-v', 'vol-keep:/data', 'busybox', 'sh', '-c', 'echo survived > /data/f']);
    ok(['run', '-d', '--name', 'holder', '-v', 'vol-keep:/data', 'busybox', 'sleep', '600']);
    await d.stop();
    await d.start();
    assert.equal(ok(['run', '--rm', '-v', 'vol-keep:/data', 'busybox', 'cat', '/data/f']), 'survived\n');
    assert.deepEqual((JSON.parse(ok(['volume', 'inspect', 'vol-keep'])) as VolumeInspect[])[0].Labels, { keep: 'yes' });
    // The running container still holds its reference after the restart.
    assert.match(fail(['volume', 'rm', 'vol-keep']), /volume is in use/);
    assert.equal(ok(['exec', 'holder', 'cat', '/data/f']), 'survived\n');
    ok(['rm', '-f', 'holder']);
    ok(['volume', 'rm', 'vol-keep', 'vol-used']);
  });

  await t.test('nothing stays mounted under the data root once containers are gone', () => {
    assert.deepEqual(mountsUnder(path.join(d.dataRoot, 'volumes')), []);
    assert.deepEqual(mountsUnder(path.join(d.dataRoot, 'containers')), []);
  });
});
