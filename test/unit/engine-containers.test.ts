// Pure container logic against moby's behaviour: ENTRYPOINT/CMD, config and env merge, users, signals, k8s-file
// log lines, status strings, runtime error wording.
import test from 'node:test';
import assert from 'node:assert/strict';
import { commandOf, mergeConfig, processEnv } from '../../src/engine/containers';
import { resolveUser } from '../../src/engine/user';
import { parseSignal } from '../../src/wire/signals';
import { parseLogLine, parseTimeNano, dockerTimestamp } from '../../src/engine/logs';
import { statusString, ZERO_TIME, type ContainerStateRecord } from '../../src/engine/container-record';
import { validateContainerName } from '../../src/engine/names';
import { cleanRuntimeMessage } from '../../src/runtime/oci-runtime';
import type { ContainerConfig, ContainerCreateBody } from '../../src/wire/docker';

type CommandRequest = Pick<ContainerCreateBody, 'Entrypoint' | 'Cmd'>;
/** A string where the wire type says a list, as some clients send it. */
const stringForm = (o: { Entrypoint?: string; Cmd?: string }) => o as unknown as CommandRequest;

test('ENTRYPOINT and CMD combine as in Docker', () => {
  const image: ContainerConfig = { Entrypoint: ['/entry', '-x'], Cmd: ['default', 'args'] };
  const cases: Array<[CommandRequest, ContainerConfig, string[], string[]]> = [
    // [request, image, expected entrypoint, expected cmd]
    [{}, image, ['/entry', '-x'], ['default', 'args']],
    [{ Cmd: ['ls'] }, image, ['/entry', '-x'], ['ls']],
    [{ Cmd: [] }, image, ['/entry', '-x'], ['default', 'args']],
    [{ Entrypoint: ['echo'] }, image, ['echo'], []], // --entrypoint drops the image's CMD
    [{ Entrypoint: ['echo'], Cmd: ['a', 'b'] }, image, ['echo'], ['a', 'b']],
    [{ Entrypoint: [''] }, image, [], []], // --entrypoint "" clears both
    [{ Entrypoint: [''], Cmd: ['sh'] }, image, [], ['sh']],
    [{ Entrypoint: [] }, image, [], ['default', 'args']], // API: empty entrypoint, image CMD kept
    [stringForm({ Entrypoint: 'echo' }), image, ['echo'], []], // a string is a one-element list
    [stringForm({ Cmd: 'ls' }), { Cmd: ['sh'] }, [], ['ls']],
    [{}, { Cmd: ['sh'] }, [], ['sh']],
    [{}, {}, [], []],
  ];
  for (const [req, img, ep, cmd] of cases) {
    assert.deepEqual(commandOf(req, img), { entrypoint: ep, cmd }, JSON.stringify(req));
  }
});

test('config merge: request over image, env in moby order', () => {
  const image = { Env: ['PATH=/img/bin', 'A=image', 'B=image'], User: 'daemon', WorkingDir: '/srv', Labels: { a: 'img', b: 'img' }, StopSignal: 'SIGQUIT' };
  const c = mergeConfig({ Image: 'x', Env: ['A=mine', 'C=new'], Labels: { b: 'mine' }, WorkingDir: '/work' }, image);
  assert.deepEqual(c.Env, ['A=mine', 'C=new', 'PATH=/img/bin', 'B=image']);
  assert.equal(c.User, 'daemon');
  assert.equal(c.WorkingDir, '/work');
  assert.deepEqual(c.Labels, { a: 'img', b: 'mine' });
  assert.equal(c.StopSignal, 'SIGQUIT');
  assert.deepEqual(mergeConfig({ Image: 'x' }, image).Env, image.Env);
  assert.equal(mergeConfig({ Image: 'x', User: '1000' }, image).User, '1000');
  assert.equal(mergeConfig({ Image: 'x' }, {}).Env, null, 'no default PATH in the config, only in the process env');
});

test('process env: PATH, HOSTNAME, TERM defaults replaced by the container\'s own, HOME from passwd', () => {
  const base = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  assert.deepEqual(processEnv({ Hostname: 'abc', Env: null }, '/root'), [base, 'HOSTNAME=abc', 'HOME=/root']);
  assert.deepEqual(processEnv({ Hostname: 'abc', Tty: true, Env: ['PATH=/x', 'FOO=1'] }, '/home/u'), ['PATH=/x', 'HOSTNAME=abc', 'TERM=xterm', 'FOO=1', 'HOME=/home/u']);
  assert.deepEqual(processEnv({ Hostname: 'h', Env: ['HOME=/custom', 'HOSTNAME'] }, '/root'), [base, 'HOME=/custom']);
  assert.deepEqual(processEnv({ Hostname: 'h', Env: [] }, ''), [base, 'HOSTNAME=h', 'HOME=/']);
});

test('user resolution against passwd and group', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n';
  const group = 'root:x:0:\nwheel:x:10:root\nnogroup:x:65534:\napp:x:1000:\nstaff:x:50:app,other\n';
  assert.deepEqual(resolveUser('', passwd, group), { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' });
  assert.deepEqual(resolveUser('app', passwd, group), { uid: 1000, gid: 1000, additionalGids: [1000, 50], home: '/home/app' });
  assert.deepEqual(resolveUser('1000', passwd, group), { uid: 1000, gid: 1000, additionalGids: [1000, 50], home: '/home/app' });
  assert.deepEqual(resolveUser('4242', passwd, group), { uid: 4242, gid: 0, additionalGids: [0], home: '/' });
  assert.deepEqual(resolveUser('app:staff', passwd, group), { uid: 1000, gid: 50, additionalGids: [50], home: '/home/app' });
  assert.deepEqual(resolveUser('4242:77', passwd, group), { uid: 4242, gid: 77, additionalGids: [77], home: '/' });
  assert.deepEqual(resolveUser('nobody', passwd, group, ['wheel', '99']), { uid: 65534, gid: 65534, additionalGids: [65534, 10, 99], home: '/home' });
  assert.deepEqual(resolveUser('', undefined, undefined), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
  assert.throws(() => resolveUser('ghost', passwd, group), /^InvalidParameterError: unable to find user ghost: no matching entries in passwd file$/);
  assert.throws(() => resolveUser('app:ghosts', passwd, group), /unable to find group ghosts: no matching entries in group file/);
});

test('signals are parsed as Docker parses them', () => {
  for (const [raw, n] of <Array<[string, number]>>[['SIGTERM', 15], ['TERM', 15], ['term', 15], ['15', 15], ['KILL', 9], ['SIGUSR1', 10], ['HUP', 1], ['RTMIN+3', 37], ['SIGRTMAX-1', 63], ['64', 64]]) {
    assert.equal(parseSignal(raw), n, raw);
  }
  for (const bad of ['FOO', '0', '65', 'SIG', 'RTMIN+40', '-9']) {
    assert.throws(() => parseSignal(bad), new RegExp(`^InvalidParameterError: Invalid signal: ${bad.replace('+', '\\+')}$`));
  }
});

test('k8s-file log lines: full and partial, both streams', () => {
  const full = parseLogLine(Buffer.from('2024-05-01T10:20:30.123456789Z stdout F hello world'))!;
  assert.equal(full.stream, 'stdout');
  assert.equal(full.data.toString(), 'hello world\n');
  assert.equal(full.timeNano, 1714558830123456789n);
  const partial = parseLogLine(Buffer.from('2024-05-01T10:20:30.5+02:00 stderr P part'))!;
  assert.equal(partial.stream, 'stderr');
  assert.equal(partial.data.toString(), 'part');
  assert.equal(partial.timeNano, 1714551630500000000n);
  assert.equal(parseLogLine(Buffer.from('2024-05-01T10:20:30Z stdout F '))!.data.toString(), '\n');
  assert.equal(parseLogLine(Buffer.from('2024-05-01T10:20:30Z stdout F  two  spaces '))!.data.toString(), ' two  spaces \n');
  assert.equal(parseLogLine(Buffer.from('garbage')), undefined);
  assert.equal(parseLogLine(Buffer.from('2024-05-01T10:20:30Z stdin F x')), undefined);
  assert.equal(parseTimeNano('not a time'), 0n);
  assert.equal(dockerTimestamp(1714558830123456789n), '2024-05-01T10:20:30.123456789Z');
  assert.equal(dockerTimestamp(1714558830120000000n), '2024-05-01T10:20:30.12Z');
  assert.equal(dockerTimestamp(1714558830000000000n), '2024-05-01T10:20:30Z');
});

test('status strings as docker ps shows them', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  const st = (o: Partial<ContainerStateRecord>): ContainerStateRecord => ({ status: 'created', pid: 0, conmonPid: 0, exitCode: 0, error: '', oomKilled: false, startedAt: ZERO_TIME, finishedAt: ZERO_TIME, stoppedByUser: false, ...o });
  assert.equal(statusString(st({}), now), 'Created');
  assert.equal(statusString(st({ status: 'running', startedAt: '2024-05-01T11:59:59.5Z' }), now), 'Up Less than a second');
  assert.equal(statusString(st({ status: 'running', startedAt: '2024-05-01T11:59:58Z' }), now), 'Up 2 seconds');
  assert.equal(statusString(st({ status: 'running', startedAt: '2024-05-01T11:59:00Z' }), now), 'Up About a minute');
  assert.equal(statusString(st({ status: 'running', startedAt: '2024-05-01T10:00:00Z' }), now), 'Up 2 hours');
  assert.equal(statusString(st({ status: 'running', startedAt: '2024-05-01T11:00:00Z', health: { status: 'healthy', failingStreak: 0, log: [] } }), now), 'Up About an hour (healthy)');
  assert.equal(statusString(st({ status: 'paused', startedAt: '2024-05-01T11:57:00Z' }), now), 'Up 3 minutes (Paused)');
  assert.equal(statusString(st({ status: 'exited', exitCode: 137, startedAt: '2024-05-01T11:00:00Z', finishedAt: '2024-05-01T11:59:58Z' }), now), 'Exited (137) 2 seconds ago');
  assert.equal(statusString(st({ status: 'exited', exitCode: 0, startedAt: '2024-04-01T11:00:00Z', finishedAt: '2024-04-20T12:00:00Z' }), now), 'Exited (0) 11 days ago');
  assert.equal(statusString(st({ status: 'removing' }), now), 'Removal In Progress');
  assert.equal(statusString(st({ status: 'dead' }), now), 'Dead');
});

test('container names', () => {
  assert.equal(validateContainerName('/web'), 'web');
  assert.equal(validateContainerName('a.b_c-d'), 'a.b_c-d');
  for (const bad of ['a', '-x', 'with space', 'ü']) assert.throws(() => validateContainerName(bad), /^InvalidParameterError: Invalid container name \(.*\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed$/);
});

test('runtime errors are worded so the docker CLI picks exit codes 127 and 126', () => {
  assert.equal(cleanRuntimeMessage('{"msg":"executable file `nosuch` not found in $PATH: No such file or directory","level":"error"}'), 'exec: "nosuch": executable file not found in $PATH');
  assert.equal(cleanRuntimeMessage('crun: open executable: Permission denied'), 'open executable: permission denied');
  assert.equal(cleanRuntimeMessage('time="2024-05-01T10:00:00Z" level=error msg="runc create failed: unable to start container process: exec: \\"x\\": executable file not found in $PATH"'), 'exec: "x": executable file not found in $PATH');
  assert.equal(cleanRuntimeMessage(''), 'unknown runtime error');
});
