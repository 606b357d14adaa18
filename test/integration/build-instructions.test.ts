// `docker build` (docker CLI v28, classic builder) against a real berthd: every Dockerfile instruction, checked in
// the image's config and by running the image; parser directives, continuations and substitutions; the CLI's
// output lines; ADD of files, directories, local archives and a URL served on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { TestDaemon, type RunOpts } from '../helpers/daemon';
import { tempDir } from '../helpers/tmp';
import { writeContext, builds } from '../helpers/build';
import { until } from '../helpers/wait';

const d = new TestDaemon('build-ins');
const work = tempDir('berth-build-ins-');
let httpd: ChildProcess | undefined;
let httpPort: number;

const context = (name: string, files: Record<string, string>) => writeContext(work, name, files);
const { build, inspect, buildOk: buildOkResult } = builds(d);
const buildOk = (args: string[], opts?: RunOpts) => buildOkResult(args, opts).all;
const runOut = (args: string[]) => d.dockerOk(['run', '--rm', ...args]);

before(async () => {
  await d.startWithBusybox();
  // A file server for ADD <url>: busybox httpd as a child process (the test's own loop is blocked by spawnSync).
  const www = context('www', { 'remote.txt': 'fetched over http\n', 'dir/': '' });
  httpPort = 20000 + Math.floor(Math.random() * 20000);
  httpd = spawn('busybox', ['httpd', '-f', '-p', `127.0.0.1:${httpPort}`, '-h', www], { stdio: 'ignore' });
  await until(() => { try { execFileSync('curl', ['-sf', `http://127.0.0.1:${httpPort}/remote.txt`]); return true; } catch { return false; } }, 'httpd');
});
after(async () => {
  if (httpd) httpd.kill('SIGKILL');
  await d.cleanup();
});

test('every instruction: the image config, the files and the output of the built image', () => {
  const payload = path.join(work, 'payload');
  fs.mkdirSync(path.join(payload, 'deep'), { recursive: true });
  fs.writeFileSync(path.join(payload, 'deep', 'inner.txt'), 'from the archive\n');
  const ctx = context('all', {
    'f.txt': 'plain file\n',
    'dir/a.txt': 'a\n',
    'dir/sub/b.txt': 'b\n',
    'Dockerfile': `# syntax=docker/dockerfile:1
# a comment before the first instruction
ARG BASE=busybox
ARG UNUSED_GLOBAL=x
FROM --platform=$BUILDPLATFORM \${BASE} AS base
ARG BASE
ARG GREETING=hello
ARG EMPTY
ENV APP=/srv/app \\
    MODE=prod
ENV OLDSTYLE two words here
ENV DEFAULTED=\${EMPTY:-fallback} ALTERNATE=\${MODE:+set} NOTSET=\${EMPTY:+never}
LABEL org.example.one=1 "org.example.two"="two words" \\
      org.example.base=\${BASE}
EXPOSE 3000 53/udp 8000-8001
WORKDIR \${APP}
WORKDIR sub
RUN echo "$GREETING from \${MODE}" > greeting.txt && \\
    echo "base=$BASE" >> greeting.txt
RUN ["sh", "-c", "echo exec-form > /srv/app/sub/exec.txt"]
RUN <<EOT
echo heredoc-body > /srv/app/sub/heredoc.txt
EOT
RUN <<EOT
#!/bin/sh
echo "script $0" > /srv/app/sub/script.txt
EOT
COPY f.txt /copied/
COPY --chown=1000:1000 --chmod=640 f.txt /owned.txt
COPY --chown=daemon:bin dir /dircopy/
COPY --link dir/a.txt /linked/a.txt
COPY --from=busybox /bin/busybox /from-image/busybox
ADD dir/sub /added-dir/
ADD payload.tar.gz /unpacked/
ADD http://127.0.0.1:${httpPort}/remote.txt /fetched/
COPY <<EOF /inline.txt
inline heredoc \${MODE}
EOF
SHELL ["/bin/sh", "-xc"]
RUN echo shell-form-with-x > /srv/app/sub/shell.txt
USER 1000:1000
VOLUME ["/data", "/cache"]
VOLUME /more
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=5s --timeout=2s --start-period=1s --retries=4 CMD ["true"]
ONBUILD RUN echo triggered > /tmp/onbuild.txt
ENTRYPOINT ["sh", "-c"]
CMD ["cat greeting.txt"]
`,
  });
  execFileSync('tar', ['czf', path.join(ctx, 'payload.tar.gz'), '-C', payload, 'deep']);
  const out = buildOk(['--build-arg', 'GREETING=bonjour', '-t', 'ins/all:1', ctx]);

  // The CLI's classic output.
  const steps = [...out.matchAll(/^Step (\d+)\/(\d+) : (.*)$/gm)];
  assert.equal(steps.length, 36, out);
  assert.deepEqual(steps.map((m) => Number(m[1])), steps.map((_, i) => i + 1));
  assert.ok(steps.every((m) => m[2] === '36'));
  assert.equal(steps[0][3], 'ARG BASE=busybox');
  assert.equal(steps[2][3], 'FROM --platform=$BUILDPLATFORM ${BASE} AS base');
  assert.match(out, /syntax directive ignored/);
  assert.match(out, /^ ---> Running in [0-9a-f]{12}$/m);
  assert.match(out, /^ ---> Removed intermediate container [0-9a-f]{12}$/m);
  assert.match(out, /\+ echo shell-form-with-x/, `SHELL traces the next RUN:\n${out}`);
  const built = /^Successfully built ([0-9a-f]{12})$/m.exec(out);
  assert.ok(built, out);
  assert.match(out, /^Successfully tagged ins\/all:1$/m);

  const img = inspect('ins/all:1');
  assert.equal(img.Id.slice(7, 19), built[1]);
  const c = img.Config;
  assert.deepEqual(c.Env, [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'APP=/srv/app', 'MODE=prod',
    'OLDSTYLE=two words here', 'DEFAULTED=fallback', 'ALTERNATE=set', 'NOTSET=',
  ]);
  assert.deepEqual(c.Labels, { 'org.example.one': '1', 'org.example.two': 'two words', 'org.example.base': 'busybox' });
  assert.deepEqual(c.ExposedPorts, { '3000/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} });
  assert.equal(c.WorkingDir, '/srv/app/sub');
  assert.equal(c.User, '1000:1000');
  assert.deepEqual(c.Volumes, { '/data': {}, '/cache': {}, '/more': {} });
  assert.equal(c.StopSignal, 'SIGUSR1');
  assert.deepEqual(c.Healthcheck, { Test: ['CMD', 'true'], Interval: 5e9, Timeout: 2e9, StartPeriod: 1e9, Retries: 4 });
  assert.deepEqual(c.OnBuild, ['RUN echo triggered > /tmp/onbuild.txt']);
  assert.deepEqual(c.Shell, ['/bin/sh', '-xc']);
  assert.deepEqual(c.Entrypoint, ['sh', '-c']);
  assert.deepEqual(c.Cmd, ['cat greeting.txt']);
  assert.equal(img.Os, 'linux');

  // ENTRYPOINT + CMD, WORKDIR, the build arg and ENV in RUN.
  assert.equal(runOut(['ins/all:1']), 'bonjour from prod\nbase=busybox\n');
  assert.equal(runOut(['ins/all:1', 'id -u; id -g; pwd']), '1000\n1000\n/srv/app/sub\n');
  const files = runOut(['--user', '0', 'ins/all:1', [
    'cat exec.txt heredoc.txt shell.txt /copied/f.txt /inline.txt /added-dir/b.txt /unpacked/deep/inner.txt /fetched/remote.txt',
    'head -c 7 script.txt; echo',
    'stat -c "%n %u:%g %a" /owned.txt /dircopy/a.txt /dircopy/sub/b.txt /linked/a.txt /fetched/remote.txt',
    '/from-image/busybox true && echo busybox-runs',
    'test -e /tmp/onbuild.txt || echo no-trigger-in-own-build',
  ].join('; ')]);
  assert.equal(files, [
    'exec-form', 'heredoc-body', 'shell-form-with-x', 'plain file', 'inline heredoc prod', 'b', 'from the archive', 'fetched over http',
    'script ',
    '/owned.txt 1000:1000 640', '/dircopy/a.txt 1:2 644', '/dircopy/sub/b.txt 1:2 644', '/linked/a.txt 0:0 644', '/fetched/remote.txt 0:0 600',
    'busybox-runs', 'no-trigger-in-own-build', '',
  ].join('\n'));

  // The history: one entry per step, config-only steps as #(nop), the build arg given in RUN's.
  const history = d.dockerOk(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'ins/all:1']).split('\n');
  assert.ok(history.some((h) => h.startsWith('|2 BASE=busybox GREETING=bonjour /bin/sh -c echo "$GREETING from ${MODE}"')), history.join('\n'));
  assert.ok(history.some((h) => h === '/bin/sh -xc #(nop)  CMD ["cat greeting.txt"]'), history.join('\n'));

  // ONBUILD fires in a child build, and the child does not inherit the trigger.
  const child = context('onbuild', { Dockerfile: 'FROM ins/all:1\nUSER 0\nRUN cat /tmp/onbuild.txt\n' });
  const childOut = buildOk(['-t', 'ins/child', child]);
  assert.match(childOut, /# Executing 1 build trigger/);
  assert.equal(runOut(['--user', '0', 'ins/child', 'cat /tmp/onbuild.txt']), 'triggered\n');
  assert.equal(inspect('ins/child').Config.OnBuild, null);
});

test('ARG scoping: global args before FROM, per stage, predefined proxy args kept out of the history', () => {
  const ctx = context('args', {
    Dockerfile: `ARG V=global
FROM busybox
RUN echo "unset in stage: [$V]" > /v1
ARG V
RUN echo "redeclared: [$V]" > /v2
ARG W=stage-default
RUN echo "w=$W proxy=$HTTP_PROXY" > /v3
`,
  });
  const out = buildOk(['--build-arg', 'W=given', '--build-arg', 'HTTP_PROXY=http://proxy.invalid:3128', '-t', 'ins/args', ctx]);
  assert.doesNotMatch(out, /were not consumed/, 'a predefined proxy arg is consumed without ARG');
  assert.equal(runOut(['ins/args', 'cat', '/v1', '/v2', '/v3']), 'unset in stage: []\nredeclared: [global]\nw=given proxy=http://proxy.invalid:3128\n');
  const history = d.dockerOk(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'ins/args']);
  assert.doesNotMatch(history, /proxy\.invalid/);
  assert.match(history, /W=given/);
  // An arg nobody declares is reported.
  const unused = buildOk(['--build-arg', 'NOBODY=1', ctx]);
  assert.match(unused, /\[Warning\] One or more build-args \[NOBODY\] were not consumed/);
});

test('parser directives: # escape=` with backtick continuations, comments inside continuations', () => {
  const ctx = context('escape', {
    Dockerfile: "# escape=`\nFROM busybox\nRUN echo one `\n# a comment inside the continuation\n    two > /out.txt\nENV WIN=C:\\path\\to\nLABEL a=b\n",
  });
  buildOk(['-t', 'ins/escape', ctx]);
  assert.equal(runOut(['ins/escape', 'cat', '/out.txt']), 'one two\n');
  assert.ok(inspect('ins/escape').Config.Env!.includes('WIN=C:\\path\\to'));
});

test('FROM scratch with COPY only; a base image that is neither local nor pullable is refused', () => {
  const ctx = context('scratch', { 'hello.txt': 'hi\n', Dockerfile: 'FROM scratch\nCOPY hello.txt /\nCMD ["/hello"]\n' });
  buildOk(['-t', 'ins/scratch', ctx]);
  const img = inspect('ins/scratch');
  assert.equal(img.RootFS.Layers.length, 1);
  assert.deepEqual(img.Config.Cmd, ['/hello']);
  const missing = context('missing', { Dockerfile: 'FROM nosuchimage:1.0\n' });
  const r = build([missing]);
  assert.notEqual(r.code, 0);
  assert.match(r.all, /nosuchimage/);
});
