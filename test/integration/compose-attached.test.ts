// Attached `docker compose up` and `logs` through the real docker CLI v28 and this checkout's plugin: every
// service's log with its prefix (containers started later too), --abort-on-container-exit and --exit-code-from
// exit codes, Ctrl-C to the process group and the CLI's plugin socket closing (graceful stop, containers kept),
// `logs -f` ending when the selection has stopped, and logs' --since/--until/-t/-n/--index.
import test from 'node:test';
import assert from 'node:assert/strict';
import { BackgroundCompose, composeDaemon, composeDir, containerState, dc, ok } from '../helpers/compose';

const SERVER = '["sh", "-c", "echo serving; exec sleep 300"]';

test('attached up and logs through the plugin', { timeout: 600_000 }, async (t) => {
  const d = await composeDaemon(t, 'compose-attached');
  const state = (name: string): string => containerState(d, name);

  await t.test('up prints every service prefixed, follows a container started later; Ctrl-C stops and keeps them', async () => {
    const app = composeDir({
      'compose.yaml': `services:\n  web:\n    image: busybox\n    command: ["sh", "-c", "echo web says hi; exec sleep 300"]\n  worker:\n    image: busybox\n    command: ["sh", "-c", "echo worker ready >&2; exec sleep 300"]\n`,
    });
    const up = new BackgroundCompose(d, app, ['-p', 'att', 'up', '--no-color', '-t', '1']);
    await up.waitFor(/^web-1 +\| web says hi$/m);
    await up.waitFor(/^worker-1 +\| worker ready$/m);
    // A container that starts while up is attached joins its output.
    ok(dc(d, app, ['-p', 'att', 'up', '-d', '--no-recreate', '--scale', 'web=2']), 'scale web while attached');
    await up.waitFor(/^web-2 +\| web says hi$/m);
    up.interruptGroup();
    const end = await up.end();
    assert.equal(end.code, 130, `${up.stdout}\n${up.stderr}`);
    assert.match(up.stderr, /Gracefully stopping\.\.\./);
    assert.doesNotMatch(up.stderr, /got 3 SIGTERM|forcefully/);
    for (const name of ['att-web-1', 'att-web-2', 'att-worker-1']) assert.equal(state(name), 'exited', name);
    ok(dc(d, app, ['-p', 'att', 'down']), 'down');
  });

  await t.test('the docker CLI closing its plugin socket stops up as Ctrl-C does', async () => {
    const app = composeDir({ 'compose.yaml': `services:\n  web:\n    image: busybox\n    command: ${SERVER}\n` });
    const up = new BackgroundCompose(d, app, ['-p', 'sock', 'up', '-t', '1']);
    await up.waitFor(/web-1 +\| serving/);
    up.signalCli('SIGINT');
    const end = await up.end();
    assert.equal(end.code, 130, `${up.stdout}\n${up.stderr}`);
    assert.match(up.stderr, /Gracefully stopping\.\.\./);
    assert.equal(state('sock-web-1'), 'exited');
    ok(dc(d, app, ['-p', 'sock', 'down']), 'down');
  });

  await t.test('--abort-on-container-exit returns the first exit code; --exit-code-from the named service\'s', () => {
    const app = composeDir({
      'compose.yaml': `services:\n  job:\n    image: busybox\n    command: ["sh", "-c", "sleep 1; echo job done; exit 3"]\n  server:\n    image: busybox\n    command: ${SERVER}\n`,
    });
    const abort = dc(d, app, ['-p', 'abort', 'up', '--no-color', '--abort-on-container-exit', '-t', '1']);
    assert.equal(abort.code, 3, `${abort.stdout}\n${abort.stderr}`);
    assert.match(abort.stdout, /^job-1 +\| job done$/m);
    assert.match(abort.stdout, /^server-1 +\| serving$/m);
    assert.match(abort.stdout, /job-1 exited with code 3/);
    assert.match(abort.stderr, /Aborting on container exit\.\.\./);
    assert.equal(state('abort-server-1'), 'exited');

    // The server is stopped by the abort: killed after the 1 s timeout (sleep as PID 1 ignores SIGTERM).
    const from = dc(d, app, ['-p', 'abort', 'up', '--exit-code-from', 'server', '-t', '1']);
    assert.equal(from.code, 137, `${from.stdout}\n${from.stderr}`);
    assert.equal(dc(d, app, ['-p', 'abort', 'up', '--exit-code-from', 'job', '-t', '1']).code, 3);
    const bad = dc(d, app, ['-p', 'abort', 'up', '-d', '--abort-on-container-exit']);
    assert.equal(bad.code, 1);
    ok(dc(d, app, ['-p', 'abort', 'down']), 'down');
  });

  await t.test('logs -f ends when every container of the selection has stopped; --since/--until/-t/-n/--index', async () => {
    const app = composeDir({
      'compose.yaml': `services:\n  count:\n    image: busybox\n    command: ["sh", "-c", "for i in 1 2 3 4 5; do echo line $$i; done; sleep 2; echo last"]\n`,
    });
    ok(dc(d, app, ['-p', 'lg', 'up', '-d', '--scale', 'count=2']), 'up');
    const follow = dc(d, app, ['-p', 'lg', 'logs', '-f', '--no-color', '--index', '2'], {}, 60_000);
    assert.equal(follow.code, 0, follow.stderr);
    assert.match(follow.stdout, /^count-2 +\| line 1$/m);
    assert.match(follow.stdout, /^count-2 +\| last$/m);
    assert.doesNotMatch(follow.stdout, /count-1/);
    // Every container has stopped now: -f prints what there is and ends at once.
    const again = dc(d, app, ['-p', 'lg', 'logs', '-f', '--no-log-prefix', 'count'], {}, 30_000);
    assert.equal(again.code, 0);
    assert.equal(again.stdout.split('\n').filter((l) => l === 'last').length, 2);

    assert.equal(ok(dc(d, app, ['-p', 'lg', 'logs', '-n', '2', '--no-log-prefix', '--index', '1']), 'logs -n'), 'line 5\nlast\n');
    assert.match(ok(dc(d, app, ['-p', 'lg', 'logs', '-t', '--no-color', '--index', '1']), 'logs -t'), /^count-1 +\| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line 1$/m);
    assert.equal(ok(dc(d, app, ['-p', 'lg', 'logs', '--since', '2100-01-01T00:00:00Z']), 'logs --since future'), '');
    assert.equal(ok(dc(d, app, ['-p', 'lg', 'logs', '--until', '2000-01-01T00:00:00Z']), 'logs --until past'), '');
    assert.equal(ok(dc(d, app, ['-p', 'lg', 'logs', '--since', '1h', '--no-log-prefix', '--index', '1']), 'logs --since 1h').split('\n').filter(Boolean).length, 6);

    // Following a running container: Ctrl-C ends it with Compose's 130.
    ok(dc(d, app, ['-p', 'lg', 'start']), 'start');
    const live = new BackgroundCompose(d, app, ['-p', 'lg', 'logs', '-f']);
    await live.waitFor(/line 5/);
    live.interruptGroup();
    assert.equal((await live.end()).code, 130);
    ok(dc(d, app, ['-p', 'lg', 'down', '-t', '0']), 'down');
  });
});
