// docker exec against berthd: output, exit codes, stdin, env/user/workdir, detached, errors, inspect and events.
import test from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../helpers/daemon';
import type { ExecInspect, IdBody } from '../helpers/api-types';

test('docker exec', async (t) => {
  const d = new TestDaemon('exec');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const since = Math.floor(Date.now() / 1000) - 1;
  d.dockerOk(['run', '-d', '--name', 'ex1', '-e', 'FROMRUN=1', 'busybox', 'sleep', '600']);

  await t.test('output and exit code', () => {
    const r = d.docker(['exec', 'ex1', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  await t.test('stdin with -i', () => {
    const r = d.docker(['exec', '-i', 'ex1', 'sh'], { input: 'echo piped\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'piped\n');
    assert.equal(r.stderr, '');
    const cat = d.docker(['exec', '-i', 'ex1', 'cat'], { input: 'a\nb\nno newline' });
    assert.equal(cat.stdout, 'a\nb\nno newline');
  });

  await t.test('env, user and workdir', () => {
    const r = d.docker(['exec', '-e', 'FOO=bar', '-u', 'nobody', '-w', '/tmp', 'ex1', 'sh', '-c', 'echo $FOO $FROMRUN $(id -u) $(pwd)']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'bar 1 65534 /tmp\n');
  });

  await t.test('detached exec runs on its own', () => {
    assert.equal(d.docker(['exec', '-d', 'ex1', 'sh', '-c', 'echo done > /tmp/detached']).code, 0);
    let out = '';
    for (let i = 0; i < 50 && out !== 'done\n'; i++) out = d.docker(['exec', 'ex1', 'cat', '/tmp/detached']).stdout;
    assert.equal(out, 'done\n');
  });

  await t.test('missing command exits 127 with the runtime message', () => {
    const r = d.docker(['exec', 'ex1', 'nosuchcmd']);
    assert.equal(r.code, 127);
    assert.match(r.stdout + r.stderr, /OCI runtime exec failed: .*"nosuchcmd": executable file not found in \$PATH/);
  });

  await t.test('exec inspect through the API', () => {
    const created = d.api('POST', '/v1.47/containers/ex1/exec', { Cmd: ['sh', '-c', 'exit 5'], AttachStdout: true });
    assert.equal(created.status, 201, created.body);
    const id = (JSON.parse(created.body) as IdBody).Id;
    const before = JSON.parse(d.api('GET', `/v1.47/exec/${id}/json`).body) as ExecInspect;
    assert.equal(before.Running, false);
    assert.equal(before.ExitCode, null);
    assert.deepEqual(before.ProcessConfig, { arguments: ['-c', 'exit 5'], entrypoint: 'sh', privileged: false, tty: false, user: '' });
    assert.ok((JSON.parse(d.dockerOk(['inspect', '-f', '{{json .ExecIDs}}', 'ex1'])) as string[]).includes(id), 'the container lists its exec session');
    assert.equal(d.api('POST', `/v1.47/exec/${id}/start`, { Detach: true }).status < 300, true);
    let info: ExecInspect | undefined;
    for (let i = 0; i < 100; i++) {
      info = JSON.parse(d.api('GET', `/v1.47/exec/${id}/json`).body) as ExecInspect;
      if (!info.Running && info.ExitCode !== null) break;
      spinWait(50);
    }
    assert.equal(info?.ExitCode, 5);
    assert.equal(d.api('POST', `/v1.47/exec/${id}/start`, { Detach: true }).status, 409);
    assert.equal(d.api('GET', '/v1.47/exec/nosuch/json').status, 404);
    assert.equal(d.api('POST', '/v1.47/containers/ex1/exec', { Cmd: [] }).status, 400);
  });

  await t.test('a stopped container refuses exec with 409', () => {
    d.dockerOk(['create', '--name', 'ex2', 'busybox', 'true']);
    const r = d.docker(['exec', 'ex2', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error response from daemon: container [0-9a-f]{64} is not running/);
    const api = d.api('POST', '/v1.47/containers/ex2/exec', { Cmd: ['true'] });
    assert.equal(api.status, 409);
  });

  await t.test('exec events', () => {
    const until = Math.floor(Date.now() / 1000) + 1;
    const out = d.dockerOk(['events', '--since', String(since), '--until', String(until), '--filter', 'container=ex1', '--format', '{{.Action}}|{{index .Actor.Attributes "execID"}}|{{index .Actor.Attributes "exitCode"}}|{{index .Actor.Attributes "name"}}']);
    const lines = out.split('\n').filter(Boolean);
    assert.ok(lines.some((l) => /^exec_create: sh -c echo out; echo err >&2; exit 3\|[0-9a-f]{64}\|\|ex1$/.test(l)), out);
    assert.ok(lines.some((l) => /^exec_start: sh -c echo out; echo err >&2; exit 3\|[0-9a-f]{64}\|\|ex1$/.test(l)), out);
    assert.ok(lines.some((l) => /^exec_die\|[0-9a-f]{64}\|3\|ex1$/.test(l)), out);
  });

  await t.test('berth exec against the daemon', () => {
    const r = d.berth(['exec', 'ex1', 'sh', '-c', 'echo berth; exit 4']);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, 'berth\n');
    const i = d.berth(['exec', '-i', 'ex1', 'sh'], { input: 'echo piped\n' });
    assert.equal(i.stdout, 'piped\n', i.stderr);
  });
});

function spinWait(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
