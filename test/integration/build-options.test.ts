// `docker build`'s options through the docker CLI v28 (classic builder) against a real berthd: -f inside and outside
// the context, several -t, --target, --no-cache, --label, -q, --iidfile, --network, --rm/--force-rm, a gzip context
// on stdin; and bad input: errors naming the line and the problem, COPY outside the context, a failing RUN, a
// build cancelled by the client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { TestDaemon, DOCKER } from '../helpers/daemon';
import { tempDir } from '../helpers/tmp';
import { writeContext, builds } from '../helpers/build';
import { until } from '../helpers/wait';

const d = new TestDaemon('build-opt');
const work = tempDir('berth-build-opt-');

const context = (name: string, files: Record<string, string>) => writeContext(work, name, files);
const { build, buildOk, inspect } = builds(d);
const imageIds = () => d.dockerOk(['images', '-aq', '--no-trunc']).split('\n').filter(Boolean).sort();
const containerIds = () => d.dockerOk(['ps', '-aq', '--no-trunc']).split('\n').filter(Boolean);
/** Build scratch directories (workspaces, contexts) left under the data root. */
const scratch = () => fs.readdirSync(path.join(d.dataRoot, 'builder', 'tmp'));

before(async () => { await d.startWithBusybox(); });
after(async () => { await d.cleanup(); });

test('-f inside and outside the context, several -t, --label, -q and --iidfile', () => {
  const ctx = context('files', {
    'app.txt': 'app\n',
    'docker/Dockerfile.app': 'FROM busybox\nCOPY app.txt /\nLABEL from=inside\n',
  });
  const outside = path.join(work, 'Dockerfile.outside');
  fs.writeFileSync(outside, 'FROM busybox\nCOPY app.txt /outside.txt\n');

  const r = buildOk(['-f', path.join(ctx, 'docker/Dockerfile.app'), '-t', 'opt/a:1', '-t', 'opt/b', '--label', 'com.example.x=1', '--label', 'com.example.y=two', ctx]);
  assert.match(r.stdout, /^Successfully tagged opt\/a:1$/m);
  assert.match(r.stdout, /^Successfully tagged opt\/b:latest$/m);
  const img = inspect('opt/a:1');
  assert.deepEqual(inspect('opt/b').Id, img.Id);
  assert.deepEqual(img.Config.Labels, { from: 'inside', 'com.example.x': '1', 'com.example.y': 'two' });

  // A Dockerfile outside the context: the CLI sends it inside the context under a generated name.
  buildOk(['-f', outside, '-t', 'opt/outside', ctx]);
  assert.equal(d.dockerOk(['run', '--rm', 'opt/outside', 'cat', '/outside.txt']), 'app\n');

  // -q prints the ID only; --iidfile writes it.
  const iid = path.join(work, 'iid');
  const q = buildOk(['-q', '-f', outside, ctx]);
  assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(inspect('opt/outside').Id, q.stdout.trim());
  const v = buildOk(['--iidfile', iid, '-f', outside, ctx]);
  assert.match(v.stdout, /Successfully built/);
  assert.equal(fs.readFileSync(iid, 'utf8'), q.stdout.trim(), 'the ID from the aux message');
});

test('a gzip-compressed context on stdin; the Dockerfile from stdin', () => {
  const ctx = context('gz', { 'Dockerfile': 'FROM busybox\nCOPY hello.txt /\nCMD ["cat", "/hello.txt"]\n', 'hello.txt': 'from a gzip context\n' });
  const tarBuf = execFileSync('tar', ['cf', '-', '-C', ctx, '.']);
  const r = buildOk(['-t', 'opt/gz', '-'], { input: zlib.gzipSync(tarBuf) });
  assert.match(r.stdout, /Successfully tagged opt\/gz:latest/);
  assert.equal(d.dockerOk(['run', '--rm', 'opt/gz']), 'from a gzip context\n');
  const fromStdin = buildOk(['-t', 'opt/stdin-df', '-f', '-', ctx], { input: 'FROM busybox\nCOPY hello.txt /again.txt\n' });
  assert.match(fromStdin.stdout, /Successfully tagged/);
  assert.equal(d.dockerOk(['run', '--rm', 'opt/stdin-df', 'cat', '/again.txt']), 'from a gzip context\n');
});

test('--target stops at a stage; --no-cache runs every step again', () => {
  const ctx = context('target', {
    Dockerfile: 'FROM busybox AS first\nRUN echo first > /stage\nFROM first AS second\nRUN echo second > /stage\nFROM busybox\nRUN echo last > /stage\n',
  });
  const r = buildOk(['--target', 'first', '-t', 'opt/first', ctx]);
  assert.match(r.stdout, /Step 2\/2 : RUN echo first/);
  assert.doesNotMatch(r.stdout, /second/);
  assert.equal(d.dockerOk(['run', '--rm', 'opt/first', 'cat', '/stage']), 'first\n');
  const cached = buildOk(['--target', 'first', ctx]);
  assert.match(cached.stdout, / ---> Using cache/);
  const fresh = buildOk(['--target', 'first', '--no-cache', ctx]);
  assert.doesNotMatch(fresh.stdout, /Using cache/);
  assert.match(fresh.stdout, / ---> Running in /);
  const unknown = build(['--target', 'nope', ctx]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.all, /target stage "nope" could not be found/);
});

test('--network: RUN is on the bridge by default, as docker run is; host and none when asked', () => {
  const ctx = context('net', { Dockerfile: 'FROM busybox\nRUN ip -o link | cut -d: -f2 | cut -d@ -f1 | tr -d " " | sort | tr "\\n" , ; echo\n' });
  const links = (args: string[]) => {
    const out = buildOk(['--no-cache', ...args, ctx]).stdout;
    return /^(\S*,)$/m.exec(out)?.[1] ?? out;
  };
  // The host's own interfaces (other than lo and eth0): seen with --network host only.
  const hostLinks = fs.readdirSync('/sys/class/net').filter((n) => n !== 'lo' && n !== 'eth0' && !n.startsWith('veth'));
  assert.ok(hostLinks.length > 0);
  assert.equal(links([]), 'eth0,lo,');
  assert.equal(links(['--network', 'default']), 'eth0,lo,');
  assert.equal(links(['--network', 'none']), 'lo,');
  const host = links(['--network', 'host']).split(',');
  assert.ok(hostLinks.some((n) => host.includes(n)), `${host} has none of ${hostLinks}`);
  const bad = build(['--network', 'nosuchnet', '--no-cache', ctx]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.all, /nosuchnet/);
});

test('--rm=false keeps the intermediate containers; --force-rm removes them after a failure too', () => {
  const ok = context('rm', { Dockerfile: 'FROM busybox\nRUN echo kept\n' });
  const before = containerIds();
  buildOk(['--rm=false', '--no-cache', ok]);
  const kept = containerIds().filter((id) => !before.includes(id));
  assert.equal(kept.length, 1);
  d.dockerOk(['rm', ...kept]);

  const fail = context('rm-fail', { Dockerfile: 'FROM busybox\nRUN echo doomed; exit 3\n' });
  const r = build(['--no-cache', fail]);
  assert.notEqual(r.code, 0);
  // As Docker: the failed step's container stays for inspection (without --force-rm); no image is left.
  const left = containerIds();
  assert.equal(left.length, 1);
  assert.match(d.dockerOk(['ps', '-a', '--format', '{{.Status}}']), /Exited \(3\)/);
  d.dockerOk(['rm', ...left]);
  const r2 = build(['--no-cache', '--force-rm', fail]);
  assert.notEqual(r2.code, 0);
  assert.deepEqual(containerIds(), []);
});

test('a malformed Dockerfile: the error names the line and the problem', () => {
  const cases: [string, RegExp][] = [
    ['FROM busybox\nRUNN echo hi\n', /dockerfile parse error on line 2: unknown instruction: RUNN/i],
    ['FROM busybox\nCOPY onlyone\n', /line 2: COPY requires at least two arguments/],
    ['FROM busybox\n\nSHELL /bin/bash -c\n', /line 3: SHELL requires the arguments to be in JSON form/],
    ['FROM busybox\nRUN ["sh", 1]\n', /line 2: when using JSON array syntax, arrays must be comprised of strings only/],
    ['FROM busybox\nCOPY --chwon=1 a b\n', /line 2: unknown flag: --chwon/],
    ['FROM\n', /line 1: FROM requires either one or three arguments/],
    ['FROM busybox AS a\nCOPY --from=a /x /x\n', /circular dependency detected on stage: a/],
    ['FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\n', /stage b is defined later in the Dockerfile/],
    ['FROM busybox\nCOPY --from=nostage /x /x\n', /invalid from flag value nostage/],
    ['FROM busybox\nCOPY ../outside.txt /x\n', /forbidden path outside the build context|outside the build context/],
    ['FROM busybox\nCOPY missing.txt /x\n', /missing\.txt.*(not found|does not exist)/],
    ['', /cannot be empty|empty/],
    ['FROM --platform=linux/s390x busybox\n', /platform linux\/s390x is not supported/],
  ];
  fs.writeFileSync(path.join(work, 'outside.txt'), 'secret\n');
  const before = imageIds();
  for (const [text, want] of cases) {
    const ctx = context(`bad-${cases.indexOf(cases.find((c) => c[0] === text)!)}`, { Dockerfile: text, 'a': 'a' });
    const r = build([ctx]);
    assert.notEqual(r.code, 0, text);
    assert.match(r.all, want, `${JSON.stringify(text)}:\n${r.all}`);
  }
  assert.deepEqual(imageIds().filter((id) => !before.includes(id)).length <= 2, true, 'only the FROM steps of valid stages may have made images');
  assert.ok(d.ping(), 'the daemon survives bad input');
});

test('a failing RUN shows its output and exit code and leaves no image and no scratch space', () => {
  const ctx = context('failrun', { Dockerfile: 'FROM busybox\nENV X=1\nRUN echo before-failing && echo to-stderr >&2 && touch /partial && exit 7\n' });
  // The first attempt commits the ENV step (as Docker's does); the failed RUN adds nothing, then or later.
  const r0 = build(['--force-rm', ctx]);
  assert.notEqual(r0.code, 0);
  const imagesBefore = imageIds();
  const r = build(['--force-rm', ctx]);
  assert.equal(r.code, 7, 'the CLI exits with the step\'s code, as with Docker');
  assert.match(r.all, /before-failing/);
  assert.match(r.all, /to-stderr/);
  assert.match(r.all, /The command '\/bin\/sh -c echo before-failing.*' returned a non-zero code: 7/);
  assert.deepEqual(imageIds(), imagesBefore);
  assert.deepEqual(containerIds(), []);
  assert.deepEqual(scratch(), []);
});

test('a build cancelled by the client stops its step container and cleans up', async () => {
  const ctx = context('cancel', { Dockerfile: 'FROM busybox\nRUN echo started-sleeping && sleep 600\n' });
  const imagesBefore = imageIds();
  const child = spawn(DOCKER, ['build', '--no-cache', ctx], { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => { out += b; });
  child.stderr.on('data', (b) => { out += b; });
  await until(() => /started-sleeping/.test(out), `the RUN step to start:\n${out}`, 600);
  const running = containerIds();
  assert.equal(running.length, 1);
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));
  await until(() => containerIds().length === 0, 'the step container to be removed', 300).catch((err: Error) => {
    throw new Error(`${err.message}\n${d.docker(['ps', '-a']).stdout}\n${d.logTail()}`);
  });
  await until(() => scratch().length === 0, 'the build scratch space to be removed', 300);
  // No sleep survives in the runtime (its record goes just after the removal's answer, decision 5).
  const crunRoot = path.join(d.runRoot, 'runtime', 'crun');
  const listed = () => spawnSync('crun', [`--root=${crunRoot}`, 'list', '-q'], { encoding: 'utf8' }).stdout.trim();
  await until(() => listed() === '', `the runtime to forget the step container (crun list: ${listed()})`, 100);
  assert.deepEqual(imageIds(), imagesBefore);
  assert.ok(d.ping());
});

test('berth build prints what docker build prints; -q gives the ID; a failure exits with the step\'s code', () => {
  const ctx = context('berth-cli', { Dockerfile: 'FROM busybox\nRUN echo from-berth-build | tee /b\nCMD ["cat", "/b"]\n' });
  const r = d.berth(['build', '--no-cache', '-t', 'opt/berth-cli', ctx], { timeout: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Step 1\/3 : FROM busybox$/m);
  assert.match(r.stdout, /^ ---> Running in [0-9a-f]{12}$/m);
  assert.match(r.stdout, /^from-berth-build$/m);
  assert.match(r.stdout, /^Successfully tagged opt\/berth-cli:latest$/m);
  assert.equal(d.dockerOk(['run', '--rm', 'opt/berth-cli']), 'from-berth-build\n');
  const q = d.berth(['build', '-q', ctx], { timeout: 300_000 });
  assert.equal(q.code, 0, q.stderr);
  assert.equal(q.stdout.trim(), inspect('opt/berth-cli').Id);
  const fail = context('berth-cli-fail', { Dockerfile: 'FROM busybox\nRUN exit 5\n' });
  const f = d.berth(['build', '--force-rm', fail], { timeout: 300_000 });
  assert.equal(f.code, 5);
  assert.match(f.stderr, /returned a non-zero code: 5/);
});
