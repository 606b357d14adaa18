// The container half of the engine core, driven by the real docker CLI v28 against one berthd: run flags, ps, logs,
// inspect, stop/kill/restart/rm/wait/rename/prune, commit/diff/export, Docker's messages, and isolation.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { TestDaemon, type RunOpts } from '../helpers/daemon';
import { until } from '../helpers/wait';
import type { ContainerInspect, ImageInspect } from '../helpers/api-types';

test('docker CLI v28 drives the container lifecycle on berthd', { timeout: 300_000 }, async (t) => {
  const d = new TestDaemon('ctr');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const ok = (args: string[], opts?: RunOpts) => d.dockerOk(args, opts);
  const out = (args: string[], opts?: RunOpts) => ok(args, opts).trim();
  const inspect = (name: string, fmt: string) => out(['inspect', '-f', fmt, name]);
  const logsOf = (name: string) => d.docker(['logs', name]).stdout;

  await t.test('run --rm prints the output, returns the exit code and removes the container', () => {
    assert.equal(ok(['run', '--rm', '--name', 'rm1', 'busybox', 'echo', 'hello']), 'hello\n');
    d.env.FROMHOST = 'from host';
    const r = d.docker(['run', '--rm', '--name', 'rm2', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(out(['ps', '-aq', '--filter', 'name=^/rm[12]$']), '');
  });

  await t.test('run flags: -e, --env-file, -w, -u, --hostname, --label, --entrypoint', () => {
    const envFile = path.join(d.base, 'env.list');
    fs.writeFileSync(envFile, '# a comment\nFROMFILE=file value\nFROMHOST\n\n');
    const script = 'echo "$FOO|$FROMFILE|$FROMHOST|$HOSTNAME|$HOME"; pwd; id; hostname; cat /etc/hostname';
    d.env.FROMHOST = 'from host';
    const r = d.docker(['run', '--name', 'flags', '-e', 'FOO=bar', '--env-file', envFile, '-w', '/work/dir', '-u', 'nobody',
      '--hostname', 'myhost', '--label', 'com.example.team=blue', '--label', 'plain', 'busybox', 'sh', '-c', script]);
    delete d.env.FROMHOST;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n'), [
      'bar|file value|from host|myhost|/home', '/work/dir', 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)', 'myhost', 'myhost', '',
    ]);
    assert.equal(inspect('flags', '{{json .Config.Labels}}'), '{"com.example.team":"blue","plain":""}');
    assert.equal(inspect('flags', '{{.Config.User}} {{.Config.WorkingDir}} {{.Config.Hostname}}'), 'nobody /work/dir myhost');
    assert.deepEqual(JSON.parse(inspect('flags', '{{json .Config.Env}}')), ['FROMFILE=file value', 'FROMHOST=from host', 'FOO=bar']);
    // root gets its supplementary groups, the primary one first (as moby's getUser)
    assert.equal(out(['run', '--rm', 'busybox', 'id']), 'uid=0(root) gid=0(root) groups=0(root),10(wheel)');
    assert.equal(out(['run', '--rm', '-u', '1234:99', 'busybox', 'id']), 'uid=1234 gid=99 groups=99');
    // the default hostname is the short ID, and HOSTNAME/PATH/HOME are set as Docker sets them
    const id = out(['create', '--name', 'hn', 'busybox', 'sh', '-c', 'hostname; env']);
    const envOut = out(['start', '-a', 'hn']).split('\n');
    assert.equal(envOut[0], id.slice(0, 12));
    for (const v of [`HOSTNAME=${id.slice(0, 12)}`, 'HOME=/root', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']) assert.ok(envOut.includes(v), v);
    assert.equal(ok(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'a', 'b']), 'a b\n');
    const u = d.docker(['run', '--rm', '-u', 'ghost', 'busybox', 'true']);
    assert.equal(u.code, 125);
    assert.match(u.stderr, /docker: Error response from daemon: unable to find user ghost: no matching entries in passwd file/);
  });

  await t.test('ENTRYPOINT and CMD of an image combine as in Docker', () => {
    ok(['create', '--name', 'epbase', 'busybox']);
    ok(['commit', '--change', 'ENTRYPOINT ["echo", "ep"]', '--change', 'CMD ["c1", "c2"]', 'epbase', 'eptest:1']);
    assert.equal(ok(['run', '--rm', 'eptest:1']), 'ep c1 c2\n');
    assert.equal(ok(['run', '--rm', 'eptest:1', 'x']), 'ep x\n');
    assert.equal(ok(['run', '--rm', '--entrypoint', 'echo', 'eptest:1']), '\n'); // a new entrypoint drops the image's CMD
    assert.equal(ok(['run', '--rm', '--entrypoint', '', 'eptest:1', 'echo', 'plain']), 'plain\n');
    ok(['create', '--name', 'ep', 'eptest:1', 'y']);
    assert.equal(inspect('ep', '{{.Path}} {{json .Args}} {{json .Config.Entrypoint}} {{json .Config.Cmd}}'), 'echo ["ep","y"] ["echo","ep"] ["y"]');
    ok(['rm', 'ep', 'epbase']);
  });

  await t.test('-i feeds piped stdin and closes it at EOF', () => {
    assert.equal(ok(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo done'], { input: 'line one\nline two\n' }), 'line one\nline two\ndone\n');
    const big = Buffer.alloc(3 << 20, 'x');
    assert.equal(out(['run', '-i', '--rm', 'busybox', 'wc', '-c'], { input: big }), String(big.length));
  });

  await t.test('ps: table, -a, -q, -s and filters by status, name, label, ancestor', async (st) => {
    st.after(() => d.docker(['rm', '-f', 'ps-run', 'ps-exit', 'ps-new']));
    ok(['run', '-d', '--name', 'ps-run', '--label', 'tier=web', 'busybox', 'sleep', '1000']);
    assert.equal(d.docker(['run', '--name', 'ps-exit', '--label', 'tier=db', 'busybox', 'sh', '-c', 'exit 3']).code, 3);
    ok(['create', '--name', 'ps-new', 'busybox', 'true']);
    const table = ok(['ps']).split('\n');
    assert.match(table[0], /^CONTAINER ID {3}IMAGE {5}COMMAND +CREATED +STATUS +PORTS {5}NAMES$/);
    const row = table.find((l) => l.endsWith('ps-run'));
    assert.match(row!, /^[0-9a-f]{12} {3}busybox {3}"sleep 1000" +(Less than a second|\d+ seconds?) ago {3}Up (Less than a second|\d+ seconds?) +ps-run$/);
    assert.ok(!table.some((l) => l.includes('ps-exit')), 'ps without -a lists running containers only');
    const all = ok(['ps', '-a']);
    assert.match(all, /Exited \(3\) (Less than a second|\d+ seconds?) ago +ps-exit\n/);
    assert.match(all, /"true" .* Created +ps-new\n/);
    const ids = out(['ps', '-q']).split('\n');
    assert.ok(ids.every((i) => /^[0-9a-f]{12}$/.test(i)));
    assert.ok(ids.includes(inspect('ps-run', '{{.Id}}').slice(0, 12)));
    const sized = ok(['ps', '-s', '--filter', 'name=ps-run']).split('\n');
    assert.match(sized[0], /NAMES {5}SIZE$/);
    assert.match(sized[1], /ps-run +0B \(virtual \d+(\.\d+)?MB\)$/);
    const names = (filter: string[]) => out(['ps', '-a', '--format', '{{.Names}}', ...filter.flatMap((f) => ['--filter', f])]).split('\n').filter(Boolean).sort();
    assert.deepEqual(names(['status=exited', 'name=ps-']), ['ps-exit']);
    assert.deepEqual(names(['status=running', 'name=ps-']), ['ps-run']);
    assert.deepEqual(names(['status=created', 'name=ps-']), ['ps-new']);
    assert.deepEqual(names(['label=tier']), ['ps-exit', 'ps-run']);
    assert.deepEqual(names(['label=tier=db']), ['ps-exit']);
    assert.deepEqual(names(['ancestor=busybox', 'name=ps-']), ['ps-exit', 'ps-new', 'ps-run']);
    assert.deepEqual(names(['ancestor=busybox:latest', 'name=ps-e']), ['ps-exit']);
    assert.deepEqual(names(['ancestor=eptest:1']), []);
    assert.equal(out(['ps', '--filter', 'status=exited', '--filter', 'name=ps-exit', '--format', '{{.Status}}']).replace(/\d+ seconds?|Less than a second/, 'N'), 'Exited (3) N ago');
    const bad = d.docker(['ps', '--filter', 'status=bogus']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, "Error response from daemon: invalid filter 'status=bogus'\n");
    ok(['rm', '-f', 'ps-run', 'ps-exit', 'ps-new']);
  });

  await t.test('logs: streams, --tail, -t, --since, -f until the container exits', async () => {
    ok(['run', '--name', 'lg', 'busybox', 'sh', '-c', 'echo one; echo two >&2; sleep 0.2; echo three; sleep 1.2; echo late']);
    const r = d.docker(['logs', 'lg']);
    assert.equal(r.stdout, 'one\nthree\nlate\n');
    assert.equal(r.stderr, 'two\n');
    assert.equal(ok(['logs', '--tail', '2', 'lg']), 'three\nlate\n');
    assert.equal(ok(['logs', '--tail', '0', 'lg']), '');
    const stamped = ok(['logs', '-t', 'lg']).split('\n').filter(Boolean);
    assert.equal(stamped.length, 3);
    for (const l of stamped) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z (one|three|late)$/);
    const lateAt = stamped[2].split(' ')[0];
    assert.equal(ok(['logs', '--since', lateAt, 'lg']), 'late\n');
    assert.equal(ok(['logs', '--until', stamped[1].split(' ')[0], 'lg']), 'one\nthree\n');
    // -f keeps following a running container and returns when it exits
    ok(['run', '-d', '--name', 'lgf', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo n$i; sleep 0.2; done']);
    assert.equal(ok(['logs', '-f', 'lgf']), 'n1\nn2\nn3\nn4\nn5\n');
    assert.equal(ok(['logs', '-f', '--tail', '1', 'lgf']), 'n5\n');
    ok(['rm', 'lg', 'lgf']);
  });

  await t.test('inspect: a live PID whose root is the overlay of the image layers plus the rw layer', async () => {
    ok(['run', '-d', '--name', 'insp', 'busybox', 'sh', '-c', 'echo data > /rwfile; echo ready; sleep 1000']);
    await until(() => logsOf('insp').includes('ready'), 'insp ready');
    const info = (JSON.parse(ok(['inspect', 'insp'])) as ContainerInspect[])[0];
    assert.equal(info.Name, '/insp');
    assert.equal(info.State.Status, 'running');
    assert.equal(info.State.Running, true);
    assert.equal(info.Path, 'sh');
    assert.equal(info.Config.Image, 'busybox');
    assert.match(info.Image, /^sha256:[0-9a-f]{64}$/);
    assert.ok(info.State.Pid > 0);
    process.kill(info.State.Pid, 0); // alive
    const upper = info.GraphDriver.Data.UpperDir;
    const merged = info.GraphDriver.Data.MergedDir;
    assert.equal(fs.readFileSync(path.join(upper, 'rwfile'), 'utf8'), 'data\n', 'the write went to the rw layer');
    assert.equal(fs.readFileSync(`/proc/${info.State.Pid}/root/rwfile`, 'utf8'), 'data\n');
    assert.ok(fs.existsSync(`/proc/${info.State.Pid}/root/bin/busybox`), 'the image layer is visible');
    const rootMount = fs.readFileSync(`/proc/${info.State.Pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/');
    assert.ok(rootMount);
    assert.match(rootMount, / - overlay overlay /);
    // The options are short paths relative to the container's directory (decision 21, 2026-12-07): one upper,
    // one work, as many lower layers as the image has.
    assert.ok(rootMount.includes(',upperdir=upper,workdir=work'), rootMount);
    const lowers = /lowerdir=([^,]*)/.exec(rootMount)?.[1]?.split(':') ?? [];
    assert.equal(lowers.length, info.GraphDriver.Data.LowerDir.split(':').length, rootMount);
    // The host's mount of the root goes once the runtime's create returned (decision 21): the container has its own.
    await until(() => !fs.readFileSync('/proc/self/mounts', 'utf8').includes(` ${merged} `), 'the host\'s mount of the root to go');
    assert.notEqual(fs.statSync(`/proc/${info.State.Pid}/root`).dev, fs.statSync(merged).dev, 'the root is an overlay of its own, not the host\'s directory');
    assert.equal(fs.readFileSync(info.HostnamePath, 'utf8'), `${info.Config.Hostname}\n`);
    ok(['rm', '-f', 'insp']);
    assert.ok(!fs.readFileSync('/proc/self/mounts', 'utf8').includes(merged), 'rm unmounts the root');
    // The directory goes just after the removal's answer, under the container's lock (decision 5).
    await until(() => !fs.existsSync(upper), 'rm to delete the rw layer', 50);
    assert.throws(() => process.kill(info.State.Pid, 0));
    const missing = d.docker(['inspect', 'insp']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error: No such object: insp\n');
  });

  await t.test('stop sends SIGTERM, then SIGKILL after -t; kill -s; restart; wait', async () => {
    ok(['run', '-d', '--name', 'trap', 'busybox', 'sh', '-c', "trap 'echo got TERM; exit 0' TERM; trap 'echo got USR1' USR1; echo ready; while true; do sleep 0.1; done"]);
    ok(['run', '-d', '--name', 'deaf', 'busybox', 'sh', '-c', "trap '' TERM; echo ready; while true; do sleep 0.1; done"]);
    await until(() => logsOf('trap').includes('ready') && logsOf('deaf').includes('ready'), 'ready');
    const startedAt = inspect('trap', '{{.State.StartedAt}}');
    const pid1 = Number(inspect('trap', '{{.State.Pid}}'));
    assert.equal(out(['kill', '-s', 'USR1', 'trap']), 'trap');
    await until(() => logsOf('trap').includes('got USR1'), 'USR1 handled');
    assert.equal(inspect('trap', '{{.State.Status}}'), 'running');
    const badSig = d.docker(['kill', '-s', 'NOPE', 'trap']);
    assert.equal(badSig.code, 1);
    assert.equal(badSig.stderr, 'Error response from daemon: Invalid signal: NOPE\n');
    assert.equal(out(['stop', 'trap']), 'trap');
    assert.equal(inspect('trap', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 0');
    assert.match(logsOf('trap'), /got TERM\n$/);
    assert.equal(out(['stop', '-t', '1', 'deaf']), 'deaf');
    assert.equal(inspect('deaf', '{{.State.ExitCode}}'), '137');
    assert.equal(out(['stop', 'deaf']), 'deaf', 'stopping a stopped container is not an error');
    const k = d.docker(['kill', 'deaf']);
    assert.equal(k.code, 1);
    assert.equal(k.stderr, `Error response from daemon: Cannot kill container: deaf: container ${inspect('deaf', '{{.Id}}')} is not running\n`);
    assert.equal(out(['restart', 'trap']), 'trap');
    await until(() => logsOf('trap').split('ready').length === 3, 'second run ready');
    assert.equal(inspect('trap', '{{.State.Status}}'), 'running');
    assert.notEqual(inspect('trap', '{{.State.StartedAt}}'), startedAt);
    assert.notEqual(Number(inspect('trap', '{{.State.Pid}}')), pid1);
    assert.equal(out(['kill', 'trap']), 'trap');
    assert.equal(out(['wait', 'trap']), '137');
    ok(['run', '-d', '--name', 'w7', 'busybox', 'sh', '-c', 'sleep 0.5; exit 7']);
    assert.equal(out(['wait', 'w7']), '7');
    assert.equal(out(['wait', 'w7']), '7', 'wait on an exited container returns at once');
    ok(['rm', 'trap', 'deaf', 'w7']);
  });

  await t.test('create, start, rm, rename and their error messages', () => {
    const id = out(['create', '--name', 'cx1', 'busybox', 'echo', 'created']);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(inspect('cx1', '{{.State.Status}}'), 'created');
    const conflict = `Error response from daemon: Conflict. The container name "/cx1" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`;
    const dup = d.docker(['create', '--name', 'cx1', 'busybox']);
    assert.equal(dup.code, 1);
    assert.equal(dup.stderr, `${conflict}\n`);
    const dupRun = d.docker(['run', '--name', 'cx1', 'busybox']);
    assert.equal(dupRun.code, 125);
    assert.equal(dupRun.stderr, `docker: ${conflict}\n\nRun 'docker run --help' for more information\n`);
    assert.equal(out(['start', 'cx1']), 'cx1');
    assert.equal(out(['wait', 'cx1']), '0');
    assert.equal(logsOf('cx1'), 'created\n');
    ok(['rename', 'cx1', 'cx2']);
    assert.equal(inspect(id.slice(0, 8), '{{.Name}}'), '/cx2');
    assert.equal(d.docker(['logs', 'cx1']).stderr, 'Error response from daemon: No such container: cx1\n');
    ok(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '1000']);
    const ren = d.docker(['rename', 'cx2', 'busy']);
    assert.equal(ren.code, 1);
    assert.match(ren.stderr, /^Error response from daemon: Conflict\. The container name "\/busy" is already in use by container "[0-9a-f]{64}"\. You have to remove \(or rename\) that container to be able to reuse that name\.\nError: failed to rename container named cx2\n$/);
    const rm = d.docker(['rm', 'busy']);
    assert.equal(rm.code, 1);
    assert.equal(rm.stderr, 'Error response from daemon: cannot remove container "/busy": container is running: stop the container before removing or force remove\n');
    assert.equal(out(['rm', '-f', 'busy']), 'busy');
    assert.equal(out(['rm', 'cx2']), 'cx2');
    for (const verb of [['logs'], ['stop'], ['start'], ['kill'], ['restart'], ['wait'], ['rm'], ['diff'], ['export']]) {
      const r = d.docker([...verb, 'nosuch']);
      assert.notEqual(r.code, 0, verb[0]);
      assert.match(r.stderr, /^Error response from daemon: No such container: nosuch\n/, verb[0]);
    }
    const rmf = d.docker(['rm', '-f', 'nosuch']);
    assert.equal(rmf.code, 0, 'rm -f of a missing container is not an error');
    assert.equal(rmf.stderr, 'Error response from daemon: No such container: nosuch\n');
    const notFound = d.docker(['run', '--rm', 'busybox', 'nosuchcmd']);
    assert.equal(notFound.code, 127);
    assert.match(notFound.stderr, /exec: "nosuchcmd": executable file not found in \$PATH/);
    assert.equal(d.docker(['run', '--rm', 'busybox', '/etc/passwd']).code, 126);
    const never = d.docker(['run', '--name', 'never', 'busybox', 'nosuchcmd']);
    assert.equal(never.code, 127);
    assert.equal(inspect('never', '{{.State.Status}} {{.State.ExitCode}}'), 'created 127');
    assert.match(inspect('never', '{{.State.Error}}'), /executable file not found/);
    ok(['rm', 'never']);
  });

  await t.test('container prune removes stopped containers only', () => {
    ok(['run', '-d', '--name', 'keep', 'busybox', 'sleep', '1000']);
    const gone1 = out(['create', '--name', 'gone1', 'busybox']);
    ok(['run', '--name', 'gone2', 'busybox', 'sh', '-c', 'echo 12345 > /f']);
    const gone2 = inspect('gone2', '{{.Id}}');
    const text = ok(['container', 'prune', '-f']);
    const lines = text.split('\n');
    assert.equal(lines[0], 'Deleted Containers:');
    assert.deepEqual(lines.slice(1, 3).sort(), [gone1, gone2].sort());
    assert.match(text, /\n\nTotal reclaimed space: \d+(\.\d+)?k?B\n$/);
    const left = out(['ps', '-a', '--format', '{{.Names}} {{.State}}']).split('\n');
    assert.ok(left.includes('keep running'), 'the running container stays');
    assert.ok(!left.some((l) => !l.endsWith(' running')), `only running containers are left: ${left}`);
    ok(['rm', '-f', 'keep']);
  });

  await t.test('commit (-m, -a, --change), diff and export of the rw layer', () => {
    ok(['run', '--name', 'cm', 'busybox', 'sh', '-c', 'echo hi > /newfile; mkdir -p /etc/extra; rm /bin/ls']);
    const diff = out(['diff', 'cm']).split('\n');
    for (const l of ['A /newfile', 'C /etc', 'A /etc/extra', 'C /bin', 'D /bin/ls']) assert.ok(diff.includes(l), `${l} in ${diff}`);
    const imageId = out(['commit', '-m', 'my message', '-a', 'Jane <j@example.com>', '--change', 'ENV COLOR=blue', '--change', 'CMD ["cat", "/newfile"]', 'cm', 'committed:v1']);
    assert.match(imageId, /^sha256:[0-9a-f]{64}$/);
    const img = (JSON.parse(ok(['image', 'inspect', 'committed:v1'])) as ImageInspect[])[0];
    assert.equal(img.Comment, 'my message');
    assert.equal(img.Author, 'Jane <j@example.com>');
    assert.ok(img.Config.Env!.includes('COLOR=blue'));
    assert.deepEqual(img.Config.Cmd, ['cat', '/newfile']);
    assert.equal(ok(['run', '--rm', 'committed:v1']), 'hi\n');
    assert.equal(ok(['run', '--rm', 'committed:v1', 'sh', '-c', 'echo $COLOR; ls /bin/ls 2>&1 || true']), 'blue\nls: /bin/ls: No such file or directory\n');
    const tar = path.join(d.base, 'cm.tar');
    ok(['export', '-o', tar, 'cm']);
    const list = execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).split('\n');
    assert.ok(list.includes('newfile'), 'export has the rw layer');
    assert.ok(list.includes('bin/busybox'), 'export has the image layers');
    assert.ok(!list.includes('bin/ls'), 'export honours deletions');
    const piped = d.docker(['export', 'cm'], { encoding: 'buffer' });
    assert.equal(piped.code, 0);
    assert.equal(piped.stdout.length, fs.statSync(tar).size);
    ok(['rm', 'cm']);
    ok(['rmi', 'committed:v1', 'eptest:1']);
  });

  await t.test('isolation: own pid, mount, uts, ipc and net namespaces; /dev, /proc, /sys, /etc files as Docker sets them', () => {
    // One "key=value" line per fact; multi-line facts are joined with spaces.
    const script = 'for n in pid mnt uts ipc net; do echo "$n=$(readlink /proc/self/ns/$n)"; done; echo "self=$$"; '
      + 'echo "links=$(ip -o link | cut -d: -f2 | tr -d " " | tr "\\n" " ")"; echo "lo=$(ip -o addr show lo | grep -c "inet 127.0.0.1/8")"; '
      + 'echo "lostate=$(ip -o link show lo | grep -o "<[^>]*>")"; echo "hostname=$(cat /etc/hostname)"; echo "uname=$(hostname)"; '
      + 'echo "hosts=$(head -2 /etc/hosts | tr "\\t\\n" "_|")"; echo "resolv=$(grep -c ^nameserver /etc/resolv.conf)"; echo "dev=$(ls /dev | tr "\\n" " ")"; '
      + 'echo "mounts=$(grep -E " /(proc|sys|dev|dev/pts|dev/shm|etc/hosts|etc/hostname|etc/resolv.conf) " /proc/mounts | cut -d" " -f2,3,4 | cut -d, -f1 | tr "\\n" "|")"';
    const host = Object.fromEntries(['pid', 'mnt', 'uts', 'ipc', 'net'].map((n) => [n, fs.readlinkSync(`/proc/self/ns/${n}`)]));
    const run = (...flags: string[]) => Object.fromEntries(out(['run', '--rm', '--name', 'iso', ...flags, 'busybox', 'sh', '-c', script]).split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
    const o = run();
    for (const ns of ['pid', 'mnt', 'uts', 'ipc', 'net']) {
      assert.match(o[ns], new RegExp(`^${ns}:\\[\\d+\\]$`));
      assert.notEqual(o[ns], host[ns], `own ${ns} namespace`);
    }
    assert.equal(o.self, '1', 'the command is PID 1');
    assert.match(o.links.trim(), /^lo eth0@if\d+$/, 'the default network is a private namespace: loopback and one bridge interface');
    assert.equal(o.lo, '1', 'loopback has 127.0.0.1');
    assert.match(o.lostate, /\bUP\b/, 'loopback is up');
    assert.match(o.hostname, /^[0-9a-f]{12}$/);
    assert.equal(o.uname, o.hostname);
    assert.equal(o.hosts, '127.0.0.1_localhost|::1_localhost ip6-localhost ip6-loopback|');
    assert.ok(Number(o.resolv) >= 1, 'resolv.conf has nameservers');
    for (const dev of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'pts', 'shm', 'mqueue', 'ptmx', 'fd', 'stdin', 'stdout', 'stderr']) assert.ok(o.dev.split(' ').includes(dev), dev);
    assert.ok(!o.dev.split(' ').includes('sda') && !o.dev.split(' ').includes('vda'), 'no host devices');
    for (const m of ['/proc proc rw', '/dev tmpfs rw', '/dev/pts devpts rw', '/dev/shm tmpfs rw', '/sys sysfs ro', '/etc/hosts ', '/etc/hostname ', '/etc/resolv.conf ']) assert.ok(o.mounts.includes(m), `${m} in ${o.mounts}`);
    const none = run('--network', 'none');
    assert.notEqual(none.net, host.net);
    assert.equal(none.links.trim(), 'lo');
    const hostNet = run('--network', 'host');
    assert.equal(hostNet.net, host.net, '--network host shares the host network namespace');
    assert.notEqual(hostNet.pid, host.pid);
    assert.notEqual(hostNet.uts, host.uts);
    assert.equal(hostNet.uname, fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(), 'with the host network, the host name');
    assert.equal(run('--hostname', 'given').uname, 'given');
    const bad = d.docker(['run', '--rm', '--network', 'nosuchnet', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /network nosuchnet not found/);
  });

  await t.test('--runtime runc runs a container under runc', async () => {
    ok(['run', '-d', '--name', 'rc', '--runtime', 'runc', 'busybox', 'sh', '-c', 'echo ready; sleep 1000']);
    await until(() => logsOf('rc').includes('ready'), 'runc container ready');
    assert.equal(inspect('rc', '{{.HostConfig.Runtime}} {{.State.Status}}'), 'runc running');
    const id = inspect('rc', '{{.Id}}');
    assert.ok(fs.existsSync(path.join(d.runRoot, 'runtime', 'runc', id)), 'runc holds the state');
    assert.ok(!fs.existsSync(path.join(d.runRoot, 'runtime', 'crun', id)), 'crun does not');
    assert.notEqual(out(['run', '--rm', '--runtime', 'runc', 'busybox', 'readlink', '/proc/self/ns/pid']), fs.readlinkSync('/proc/self/ns/pid'));
    assert.equal(out(['stop', '-t', '1', 'rc']), 'rc');
    assert.equal(inspect('rc', '{{.State.ExitCode}}'), '137');
    ok(['rm', 'rc']);
    const bad = d.docker(['run', '--rm', '--runtime', 'nope', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /unknown or invalid runtime name: nope/);
  });

  await t.test('nothing is left mounted once every container is gone', () => {
    assert.equal(out(['ps', '-aq']), '');
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(d.dataRoot) && l.includes('/containers/'));
    assert.deepEqual(mounts, []);
  });
});
