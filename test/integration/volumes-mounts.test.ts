// Containers with -v, --mount and --volumes-from against berthd: binds both ways and read-only, anonymous volumes
// filled from the image, rm -v, docker cp into a volume, destinations kept inside the rootfs, no mounts left behind.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestDaemon, type RunOpts } from '../helpers/daemon';
import { mountsUnder } from '../helpers/mounts';
import type { ContainerInspect, ErrorBody, VolumeInspect } from '../helpers/api-types';

test('container mounts against berthd', { timeout: 300_000 }, async (t) => {
  const d = new TestDaemon('volmnt');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const ok = (args: string[], opts?: RunOpts) => d.dockerOk(args, opts);
  const fail = (args: string[]) => d.dockerFail(args);
  const mountsOf = (name: string) => (JSON.parse(ok(['inspect', name])) as ContainerInspect[])[0].Mounts;

  await t.test('a named volume keeps its data across containers', () => {
    ok(['run', '--rm', '-v', 'data1:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f']);
    assert.equal(ok(['run', '--rm', '-v', 'data1:/data:ro', 'busybox', 'cat', '/data/f']), 'kept\n');
    assert.match(fail(['run', '--rm', '-v', 'data1:/data:ro', 'busybox', 'sh', '-c', 'echo x > /data/g']), /Read-only file system/);
  });

  await t.test('bind mounts work both ways; :ro is enforced; a missing -v source is created', () => {
    const host = fs.mkdtempSync(path.join(d.base, 'bind-'));
    fs.writeFileSync(path.join(host, 'in'), 'from host\n');
    assert.equal(ok(['run', '--rm', '-v', `${host}:/data`, 'busybox', 'sh', '-c', 'cat /data/in; echo from-ctr > /data/out']), 'from host\n');
    assert.equal(fs.readFileSync(path.join(host, 'out'), 'utf8'), 'from-ctr\n');
    assert.match(fail(['run', '--rm', '-v', `${host}:/data:ro`, 'busybox', 'touch', '/data/nope']), /Read-only file system/);
    assert.equal(fs.existsSync(path.join(host, 'nope')), false);
    // A single file can be bound too.
    assert.equal(ok(['run', '--rm', '-v', `${host}/in:/etc/motd:ro`, 'busybox', 'cat', '/etc/motd']), 'from host\n');
    const missing = path.join(d.base, 'made/by/run');
    ok(['run', '--rm', '-v', `${missing}:/m`, 'busybox', 'touch', '/m/x']);
    assert.ok(fs.statSync(path.join(missing, 'x')).isFile());
  });

  await t.test('--mount: bind, volume with options and labels, tmpfs; a missing bind source is an error', () => {
    const host = fs.mkdtempSync(path.join(d.base, 'mnt-'));
    ok(['run', '--rm', '--mount', `type=bind,source=${host},target=/b`, 'busybox', 'touch', '/b/made']);
    assert.ok(fs.existsSync(path.join(host, 'made')));
    assert.match(fail(['run', '--rm', '--mount', `type=bind,src=${host},dst=/b,readonly`, 'busybox', 'touch', '/b/x']), /Read-only file system/);
    const err = fail(['run', '--rm', '--mount', 'type=bind,source=/berth-no-such-dir,target=/x', 'busybox', 'true']);
    assert.match(err, /invalid mount config for type "bind": bind source path does not exist: \/berth-no-such-dir/);
    assert.equal(fs.existsSync('/berth-no-such-dir'), false);
    assert.equal(ok(['ps', '-aq']).trim(), '', 'nothing half-made');

    ok(['run', '--rm', '--mount', 'type=volume,source=mvol,target=/v,volume-label=from=mount', 'busybox', 'touch', '/v/x']);
    assert.deepEqual((JSON.parse(ok(['volume', 'inspect', 'mvol'])) as VolumeInspect[])[0].Labels, { from: 'mount' });
    ok(['run', '--rm', '--mount', 'type=volume,source=mtmp,target=/t,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=2m', 'busybox', 'true']);
    assert.deepEqual((JSON.parse(ok(['volume', 'inspect', 'mtmp'])) as VolumeInspect[])[0].Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=2m' });
    const df = ok(['run', '--rm', '--mount', 'type=tmpfs,target=/scratch,tmpfs-size=1m', 'busybox', 'sh', '-c', 'df -k /scratch | tail -1']);
    assert.match(df, /^tmpfs\s+1024\s/);
    ok(['volume', 'rm', 'mvol', 'mtmp']);
  });

  await t.test('bad -v and --mount specs are refused at create', () => {
    // (The CLI takes "x:/a" for a Windows drive path, so the one-letter name goes through the API.)
    const short = d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Binds: ['x:/a'] } });
    assert.equal(short.status, 400);
    assert.equal((JSON.parse(short.body) as ErrorBody).message, 'create x: volume name is too short, names should be at least two alphanumeric characters');
    assert.match(fail(['create', '-v', 'bad*name:/a', 'busybox']), /create bad\*name: "bad\*name" includes invalid characters for a local volume name/);
    assert.match(fail(['create', '-v', 'vol:relative', 'busybox']), /invalid mount path: 'relative' mount path must be absolute|invalid volume specification/);
    assert.match(fail(['create', '-v', 'vol:/', 'busybox']), /destination can't be '\/'/);
    const r = d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Binds: ['/a:/x:bogus'] } });
    assert.equal(r.status, 400);
    assert.equal((JSON.parse(r.body) as ErrorBody).message, 'invalid mode: bogus');
    const dup = d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Binds: ['v1x:/x', '/tmp:/x'] } });
    assert.equal(dup.status, 400);
    assert.equal((JSON.parse(dup.body) as ErrorBody).message, 'Duplicate mount point: /x');
    // A create refused at its second volume leaves no anonymous volume made for its first one.
    const before = ok(['volume', 'ls', '-q']);
    const half = d.api('POST', '/containers/create', {
      Image: 'busybox', HostConfig: { Mounts: [{ Type: 'volume', Target: '/anon' }, { Type: 'volume', Source: 'bad*name', Target: '/b' }] },
    });
    assert.equal(half.status, 400, half.body);
    assert.equal(ok(['volume', 'ls', '-q']), before);
    assert.equal(ok(['ps', '-aq']).trim(), '');
  });

  await t.test('inspect Mounts and HostConfig as Docker shows them; ps --format {{.Mounts}}; ps --filter volume', () => {
    const host = fs.mkdtempSync(path.join(d.base, 'insp-'));
    ok(['create', '--name', 'insp', '-v', 'named1:/n', '-v', `${host}:/h:ro`, '--mount', 'type=tmpfs,target=/tm', 'busybox', 'true']);
    const [c] = (JSON.parse(ok(['inspect', 'insp'])) as ContainerInspect[]);
    const byDest = Object.fromEntries(c.Mounts.map((m) => [m.Destination, m]));
    assert.deepEqual(byDest['/n'], { Type: 'volume', Name: 'named1', Source: path.join(d.dataRoot, 'volumes/named1/_data'), Destination: '/n', Driver: 'local', Mode: 'z', RW: true, Propagation: '' });
    assert.deepEqual(byDest['/h'], { Type: 'bind', Source: host, Destination: '/h', Mode: 'ro', RW: false, Propagation: 'rprivate' });
    assert.deepEqual(byDest['/tm'], { Type: 'tmpfs', Source: '', Destination: '/tm', Mode: '', RW: true, Propagation: '' });
    // The docker CLI collects -v values in a Go map: the order it sends them in varies from run to run.
    assert.deepEqual([...c.HostConfig.Binds!].sort(), [`${host}:/h:ro`, 'named1:/n']);
    assert.equal(c.HostConfig.Mounts![0].Type, 'tmpfs');
    const mounts = ok(['ps', '-a', '--filter', 'name=insp', '--format', '{{.Mounts}}']).trim();
    assert.ok(mounts.includes('named1'), mounts);
    assert.equal(ok(['ps', '-a', '-q', '--no-trunc', '--filter', 'volume=named1']).trim(), c.Id);
    assert.equal(ok(['ps', '-a', '-q', '--no-trunc', '--filter', 'volume=/h']).trim(), c.Id);
    assert.equal(ok(['ps', '-a', '-q', '--filter', 'volume=nothing']).trim(), '');
    ok(['rm', 'insp']);
    ok(['volume', 'rm', 'named1']);
  });

  await t.test('an image VOLUME gets an anonymous volume filled from the image, owners and modes kept', () => {
    ok(['run', '--name', 'seed', 'busybox', 'sh', '-c', 'mkdir -p /data/sub && echo from-image > /data/sub/f && chown -R 1234:5678 /data && chmod 0750 /data && ln -s sub/f /data/link']);
    ok(['commit', '--change', 'VOLUME /data', 'seed', 'volimg']);
    ok(['rm', 'seed']);
    ok(['run', '--name', 'user1', 'volimg', 'sh', '-c', 'cat /data/sub/f; stat -c "%u:%g %a" /data /data/sub/f; readlink /data/link; echo more > /data/more']);
    const out = ok(['logs', 'user1']);
    assert.equal(out, 'from-image\n1234:5678 750\n1234:5678 644\nsub/f\n');
    const [m] = mountsOf('user1');
    assert.equal(m.Type, 'volume');
    assert.match(m.Name!, /^[0-9a-f]{64}$/);
    assert.equal(m.Mode, '');
    assert.equal(fs.readFileSync(path.join(m.Source, 'more'), 'utf8'), 'more\n');
    // A second start does not copy again: what the container wrote stays, nothing is refilled.
    fs.rmSync(path.join(m.Source, 'sub'), { recursive: true });
    ok(['start', '-a', 'user1']);
    assert.equal(fs.existsSync(path.join(m.Source, 'sub')), false);
    // -v /path is an anonymous volume too; a named volume over an image path is filled once as well.
    assert.equal(ok(['run', '--rm', '-v', 'fillme:/data', 'volimg', 'cat', '/data/sub/f']), 'from-image\n');
    assert.equal(ok(['run', '--rm', '--mount', 'type=volume,src=nocp,dst=/data,volume-nocopy', 'volimg', 'ls', '/data']), '');
    ok(['volume', 'rm', 'fillme', 'nocp']);

    // rm -v removes the anonymous volume; a plain rm keeps it.
    ok(['rm', '-v', 'user1']);
    assert.equal(fs.existsSync(m.Source), false);
    ok(['create', '--name', 'user2', 'volimg']);
    const anon2 = mountsOf('user2')[0].Name!;
    ok(['rm', 'user2']);
    ok(['volume', 'inspect', anon2]);
    ok(['volume', 'rm', anon2]);
  });

  await t.test('--volumes-from shares another container\'s volumes and binds; :ro makes them read-only', () => {
    const host = fs.mkdtempSync(path.join(d.base, 'vf-'));
    ok(['create', '--name', 'store', '-v', 'shared:/shared', '-v', `${host}:/hostdir`, '-v', '/anon', 'busybox', 'true']);
    ok(['run', '--rm', '--volumes-from', 'store', 'busybox', 'sh', '-c', 'echo one > /shared/a && echo two > /hostdir/b && echo three > /anon/c']);
    assert.equal(ok(['run', '--rm', '--volumes-from', 'store:ro', 'busybox', 'cat', '/shared/a', '/hostdir/b', '/anon/c']), 'one\ntwo\nthree\n');
    assert.match(fail(['run', '--rm', '--volumes-from', 'store:ro', 'busybox', 'touch', '/shared/x']), /Read-only file system/);
    assert.match(fail(['run', '--rm', '--volumes-from', 'ghost', 'busybox', 'true']), /No such container: ghost/);
    const [anon] = mountsOf('store').filter((m) => m.Destination === '/anon');
    // --rm of a --volumes-from container does not take the source's anonymous volume with it.
    ok(['volume', 'inspect', anon.Name!]);
    ok(['rm', '-v', 'store']);
    assert.equal(d.docker(['volume', 'inspect', anon.Name!]).code, 1);
    ok(['volume', 'rm', 'shared']);
  });

  await t.test('docker cp into and out of a path inside a mounted volume lands in the volume', () => {
    ok(['run', '-d', '--name', 'cpv', '-v', 'cpvol:/vol', 'busybox', 'sleep', '300']);
    const src = path.join(d.base, 'cp-in.txt');
    fs.writeFileSync(src, 'copied in\n');
    ok(['cp', src, 'cpv:/vol/in.txt']);
    assert.equal(ok(['exec', 'cpv', 'cat', '/vol/in.txt']), 'copied in\n');
    const [v] = (JSON.parse(ok(['volume', 'inspect', 'cpvol'])) as VolumeInspect[]);
    assert.equal(fs.readFileSync(path.join(v.Mountpoint, 'in.txt'), 'utf8'), 'copied in\n');
    ok(['exec', 'cpv', 'sh', '-c', 'echo made inside > /vol/out.txt']);
    const outDir = fs.mkdtempSync(path.join(d.base, 'cp-out-'));
    ok(['cp', 'cpv:/vol/out.txt', outDir]);
    assert.equal(fs.readFileSync(path.join(outDir, 'out.txt'), 'utf8'), 'made inside\n');
    ok(['cp', 'cpv:/vol', path.join(outDir, 'whole')]);
    assert.equal(fs.readFileSync(path.join(outDir, 'whole/in.txt'), 'utf8'), 'copied in\n');
    ok(['rm', '-f', 'cpv']);
    ok(['volume', 'rm', 'cpvol']);
  });

  await t.test('a mount destination through a symlink stays inside the container\'s rootfs', () => {
    const outside = path.join(d.base, 'escape-target');
    // An absolute link: followed on the host it would point at the host's own directory.
    ok(['run', '--name', 'linker', 'busybox', 'ln', '-s', outside, '/esc']);
    ok(['commit', 'linker', 'escimg']);
    ok(['rm', 'linker']);
    const host = fs.mkdtempSync(path.join(d.base, 'esc-src-'));
    fs.writeFileSync(path.join(host, 'marker'), 'm\n');
    assert.equal(ok(['run', '--rm', '-v', `${host}:/esc/sub`, 'escimg', 'cat', `${outside}/sub/marker`]), 'm\n');
    assert.equal(fs.existsSync(outside), false, 'nothing was created outside the rootfs');
  });

  await t.test('no mounts are left after the containers are removed', () => {
    for (const id of ok(['ps', '-aq']).split('\n').filter(Boolean)) ok(['rm', '-f', '-v', id]);
    assert.deepEqual(mountsUnder(d.dataRoot), []);
  });
});
