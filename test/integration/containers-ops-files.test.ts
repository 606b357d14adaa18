// docker cp both ways (archive HEAD/GET/PUT), on running and stopped containers: symlinks, ownership, escapes, Docker's 404.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestDaemon, type RunOpts } from '../helpers/daemon';
import type { PathStat } from '../helpers/api-types';

test('docker cp against berthd', { timeout: 120_000 }, async (t) => {
  const d = new TestDaemon('cp');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const ok = (args: string[], opts?: RunOpts) => d.dockerOk(args, opts);
  const tarList = (buf: Buffer) => spawnSync('tar', ['tvf', '-'], { input: buf, encoding: 'utf8' }).stdout;
  const setup = 'mkdir -p /data/sub; echo hi > /data/f; ln -s /etc/passwd /data/link; mkdir /esc; ln -s ../../.. /esc/up; chown 123:456 /data/f';
  ok(['run', '-d', '--name', 'cp1', 'busybox', 'sh', '-c', `${setup}; sleep 1000`]);
  ok(['run', '--name', 'cpstopped', 'busybox', 'sh', '-c', setup]);

  for (const name of ['cp1', 'cpstopped']) {
    await t.test(`cp out of ${name}: a directory, with symlinks kept, and a file with its owner`, () => {
      // cp1 runs its setup in the background: wait for its last step (the chown), not its first file, which a loaded
      // host shows well before the links and the owner are there.
      const setUp = () => /123\/456\s/.test(tarList(d.docker(['cp', `${name}:/data/f`, '-'], { encoding: 'buffer' }).stdout));
      for (let i = 0; i < 100 && !setUp(); i++) spawnSync('sleep', ['0.1']);
      const outDir = fs.mkdtempSync(path.join(d.base, 'out-'));
      ok(['cp', `${name}:/data`, outDir]);
      assert.equal(fs.readFileSync(path.join(outDir, 'data/f'), 'utf8'), 'hi\n');
      assert.equal(fs.readlinkSync(path.join(outDir, 'data/link')), '/etc/passwd');
      assert.ok(fs.statSync(path.join(outDir, 'data/sub')).isDirectory());
      const listing = tarList(d.docker(['cp', `${name}:/data/f`, '-'], { encoding: 'buffer' }).stdout);
      assert.match(listing, /123\/456\s+3 .* f\n/);
    });

    await t.test(`cp into ${name}: a file into a directory, a new name, a directory tree, ownership kept`, () => {
      const src = path.join(d.base, 'in.txt');
      fs.writeFileSync(src, 'hello\n');
      fs.chownSync(src, 321, 654);
      ok(['cp', src, `${name}:/data/`]);
      ok(['cp', src, `${name}:/renamed.txt`]);
      const tree = fs.mkdtempSync(path.join(d.base, 'tree-'));
      fs.mkdirSync(path.join(tree, 'a/b'), { recursive: true });
      fs.writeFileSync(path.join(tree, 'a/b/c'), 'deep\n');
      fs.symlinkSync('b/c', path.join(tree, 'a/lnk'));
      ok(['cp', path.join(tree, 'a'), `${name}:/data/`]);
      const get = (p: string) => d.docker(['cp', `${name}:${p}`, '-'], { encoding: 'buffer' }).stdout;
      assert.match(tarList(get('/data/in.txt')), /321\/654\s+6 .* in\.txt\n/);
      assert.match(tarList(get('/renamed.txt')), /renamed\.txt\n/);
      const a = tarList(get('/data/a'));
      assert.match(a, /a\/b\/c\n/);
      assert.match(a, /a\/lnk -> b\/c\n/);
    });

    await t.test(`paths that leave ${name}'s root stay inside it`, () => {
      // /esc/up points above the root: it resolves to the container's "/", never the host's.
      const get = (p: string) => d.docker(['cp', `${name}:${p}`, '-'], { encoding: 'buffer' }).stdout;
      const inside = get('/etc/passwd');
      assert.ok(inside.length > 0);
      assert.deepEqual(get('/esc/up/etc/passwd'), inside);
      assert.deepEqual(get('/../../../etc/passwd'), inside);
      const unique = `berth-cp-escape-${process.pid}-${name}.txt`;
      const src = path.join(d.base, unique);
      fs.writeFileSync(src, 'escape?\n');
      ok(['cp', src, `${name}:/esc/up/tmp/`]);
      assert.equal(fs.existsSync(path.join('/tmp', unique)), false);
      assert.match(tarList(get(`/tmp/${unique}`)), new RegExp(unique));
    });

    await t.test(`Docker's 404 for a missing path in ${name}`, () => {
      const r = d.docker(['cp', `${name}:/nonexistent`, d.base]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`Could not find the file /nonexistent in container ${name}`));
      const head = spawnSync('curl', ['-sI', '-o', '/dev/null', '-w', '%{http_code}', '--unix-socket', d.sock, `http://berth/containers/${name}/archive?path=/nonexistent`], { encoding: 'utf8' });
      assert.equal(head.stdout, '404');
    });
  }

  await t.test('HEAD answers the stat header Docker sends', () => {
    const r = spawnSync('curl', ['-sI', '--unix-socket', d.sock, 'http://berth/containers/cp1/archive?path=/data/link'], { encoding: 'utf8' });
    const m = /X-Docker-Container-Path-Stat: (\S+)/i.exec(r.stdout);
    assert.ok(m, r.stdout);
    const stat = JSON.parse(Buffer.from(m[1], 'base64').toString()) as PathStat;
    assert.equal(stat.name, 'link');
    assert.equal(stat.linkTarget, '/etc/passwd');
    assert.ok(stat.mode & 2 ** 27, 'symlink bit of Go\'s FileMode');
  });

  await t.test('the stopped container\'s root is unmounted again', () => {
    const merged = ok(['inspect', '-f', '{{.GraphDriver.Data.MergedDir}}', 'cpstopped']).trim();
    assert.ok(!fs.readFileSync('/proc/self/mounts', 'utf8').includes(` ${merged} `));
  });
});
