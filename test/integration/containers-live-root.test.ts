// A running container's root is not mounted on the host (decision 21, the host's overlay dropped once the runtime's
// create returned): `docker cp` both ways, the archive HEAD, exec's user lookup and export read it through the
// container's own view; stop → start, restart and a berthd restart never mount a second overlay on its upper
// directory; a container that stops under a copy cuts the copy and starts again.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestDaemon, type RunOpts } from '../helpers/daemon';
import { until } from '../helpers/wait';

/** The host's mounts whose mount point or overlay options name `dir` (a container's directory). */
function hostMountsOf(dir: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(dir + '/'));
}

test('a running container\'s root through its own view', { timeout: 240_000 }, async (t) => {
  const d = new TestDaemon('liveroot');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const ok = (args: string[], opts?: RunOpts) => d.dockerOk(args, opts) as string;
  const bytes = (args: string[]) => d.docker(args, { encoding: 'buffer' }).stdout as Buffer;
  const tarList = (buf: Buffer) => spawnSync('tar', ['tf', '-'], { input: buf, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  const tarCat = (buf: Buffer) => spawnSync('tar', ['xOf', '-'], { input: buf, encoding: 'utf8' }).stdout;
  // alice is added once the container runs: only its live root has her.
  const script = 'echo up > /up; echo v > /data/v; echo t > /scratch/t; echo "alice:x:1234:1234::/home/alice:/bin/sh" >> /etc/passwd; echo ready > /ready; sleep 1000';
  ok(['run', '-d', '--name', 'live', '-v', 'livevol:/data', '--tmpfs', '/scratch', 'busybox', 'sh', '-c', script]);
  const dirOf = (name: string) => path.dirname(ok(['inspect', '-f', '{{.GraphDriver.Data.MergedDir}}', name]).trim());
  const dir = dirOf('live');
  await until(() => tarList(bytes(['cp', 'live:/ready', '-'])).includes('ready'), 'the container to be set up');

  await t.test('once it runs, its merged directory is not mounted on the host; its root is still an overlay', async () => {
    await until(() => hostMountsOf(dir).length === 0, 'the host\'s mount of the root to go');
    const pid = Number(ok(['inspect', '-f', '{{.State.Pid}}', 'live']).trim());
    const rootLine = fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/');
    assert.match(rootLine ?? '', / - overlay overlay /);
    assert.equal(ok(['inspect', '-f', '{{.GraphDriver.Data.MergedDir}}', 'live']).trim(), path.join(dir, 'merged'), 'inspect still names it, as Docker does');
  });

  await t.test('cp out: the root\'s files, a volume, a tmpfs, the /etc files; not what the runtime mounted', () => {
    assert.equal(tarCat(bytes(['cp', 'live:/up', '-'])), 'up\n');
    assert.equal(tarCat(bytes(['cp', 'live:/data/v', '-'])), 'v\n');
    assert.equal(tarCat(bytes(['cp', 'live:/scratch/t', '-'])), 't\n');
    assert.equal(tarCat(bytes(['cp', 'live:/etc/hostname', '-'])).trim(), ok(['inspect', '-f', '{{.Config.Hostname}}', 'live']).trim());
    assert.match(tarCat(bytes(['cp', 'live:/etc/passwd', '-'])), /^alice:/m);
    // /proc is a mount point in the root filesystem: listed, empty. Nothing below it is there.
    assert.deepEqual(tarList(bytes(['cp', 'live:/proc', '-'])), ['proc/']);
    const r = d.docker(['cp', 'live:/proc/cpuinfo', '-']);
    assert.equal(r.code, 1);
    assert.match(String(r.stderr), /Could not find the file \/proc\/cpuinfo in container live/);
    const all = tarList(bytes(['cp', 'live:/', '-']));
    assert.ok(all.includes('./bin/busybox') && all.includes('./up') && all.includes('./data/v') && all.includes('./scratch/t'), all.slice(0, 20).join(' '));
    assert.ok(!all.some((e) => /^\.\/(proc|sys|dev)\/./.test(e)), 'nothing from /proc, /sys or /dev: ' + all.filter((e) => /^\.\/(proc|sys|dev)\/./.test(e)).slice(0, 5).join(' '));
  });

  await t.test('cp in: into the root, a volume and a tmpfs, seen inside; not into what the runtime mounted', () => {
    const src = path.join(d.base, 'in.txt');
    fs.writeFileSync(src, 'hello\n');
    fs.chownSync(src, 321, 654);
    ok(['cp', src, 'live:/tmp/']);
    ok(['cp', src, 'live:/data/']);
    ok(['cp', src, 'live:/scratch/']);
    assert.equal(ok(['exec', 'live', 'cat', '/tmp/in.txt', '/data/in.txt', '/scratch/in.txt']), 'hello\nhello\nhello\n');
    assert.equal(ok(['exec', 'live', 'stat', '-c', '%u:%g', '/tmp/in.txt']).trim(), '321:654');
    assert.equal(fs.readFileSync(path.join(dir, 'upper/tmp/in.txt'), 'utf8'), 'hello\n', 'the write went to the rw layer');
    assert.notEqual(d.docker(['cp', src, 'live:/proc/']).code, 0);
  });

  await t.test('exec as a user the container added while running (passwd read in its own root)', () => {
    assert.equal(ok(['exec', '-u', 'alice', 'live', 'id', '-u']).trim(), '1234');
  });

  await t.test('export: the image and the rw layer, mount points empty, no volume, tmpfs or /proc content', () => {
    const entries = tarList(bytes(['export', 'live']));
    for (const want of ['bin/busybox', 'up', 'tmp/in.txt', 'proc/', 'sys/', 'dev/', 'etc/passwd']) assert.ok(entries.includes(want), `${want} in the export`);
    const leaked = entries.filter((e) => /^(proc|sys|dev|data|scratch)\/./.test(e));
    assert.deepEqual(leaked, [], 'nothing below a mount point');
    const passwd = spawnSync('sh', ['-c', 'docker export live | tar xOf - etc/passwd'], { env: d.env, encoding: 'utf8' }).stdout;
    assert.match(passwd, /^alice:/m, 'the rw layer\'s /etc/passwd');
  });

  await t.test('stop → start: not mounted while stopped, cp works (mounted for its time), unmounted once it runs again', async () => {
    ok(['stop', '-t', '1', 'live']);
    assert.deepEqual(hostMountsOf(dir), []);
    assert.equal(tarCat(bytes(['cp', 'live:/up', '-'])), 'up\n');
    await until(() => hostMountsOf(dir).length === 0, 'the stopped container\'s root to be unmounted after the cp');
    ok(['start', 'live']);
    await until(() => tarList(bytes(['cp', 'live:/ready', '-'])).includes('ready'), 'the container to run again');
    await until(() => hostMountsOf(dir).length === 0, 'the host\'s mount to go after the start');
    assert.equal(tarCat(bytes(['cp', 'live:/tmp/in.txt', '-'])), 'hello\n');
    ok(['restart', '-t', '1', 'live']);
    assert.equal(ok(['exec', '-u', 'alice', 'live', 'cat', '/up']), 'up\n');
    await until(() => hostMountsOf(dir).length === 0, 'the host\'s mount to go after the restart');
  });

  await t.test('a berthd restart with it running mounts nothing; cp, exec and export go on', async () => {
    await d.stop();
    await d.start();
    assert.equal(ok(['inspect', '-f', '{{.State.Status}}', 'live']).trim(), 'running');
    assert.deepEqual(hostMountsOf(dir), []);
    assert.equal(tarCat(bytes(['cp', 'live:/up', '-'])), 'up\n');
    assert.equal(ok(['exec', '-u', 'alice', 'live', 'id', '-u']).trim(), '1234');
    assert.ok(tarList(bytes(['export', 'live'])).includes('up'));
    assert.deepEqual(hostMountsOf(dir), []);
  });

  await t.test('a container that stops during a copy out: the copy is cut, and it starts again', async () => {
    ok(['exec', 'live', 'dd', 'if=/dev/zero', 'of=/big', 'bs=1M', 'count=64']);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ socketPath: d.sock, path: '/containers/live/archive?path=/big' }, resolve).on('error', reject);
    });
    assert.equal(res.statusCode, 200);
    // Read one chunk, then let the rest wait in the pipes while the container is killed.
    await new Promise((r) => res.once('data', r));
    res.pause();
    ok(['kill', 'live']);
    await until(() => ok(['inspect', '-f', '{{.State.Running}}', 'live']).trim() === 'false', 'the kill to be recorded');
    let received = 0;
    const ended = await new Promise<string>((resolve) => {
      res.on('data', (b: Buffer) => { received += b.length; });
      res.on('end', () => resolve('end'));
      res.on('error', () => resolve('error'));
      res.on('aborted', () => resolve('aborted'));
      res.resume();
    });
    assert.ok(ended !== 'end' || received < 64 * 1024 * 1024, `the copy was cut (${ended}, ${received} bytes)`);
    ok(['start', 'live']);
    await until(() => tarList(bytes(['cp', 'live:/ready', '-'])).includes('ready'), 'the container to run again');
    assert.equal(ok(['exec', 'live', 'stat', '-c', '%s', '/big']).trim(), String(64 * 1024 * 1024));
    await until(() => hostMountsOf(dir).length === 0, 'the host\'s mount to go after the start');
  });
});
