// Restart policies: no, always, on-failure[:N], unless-stopped, RestartCount, user stops, and restarts across a kill -9 of berthd.
import test from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, type RunOpts } from '../helpers/daemon';
import { sleep, until } from '../helpers/wait';
import type { ErrorBody } from '../helpers/api-types';

test('restart policies on berthd', { timeout: 120_000 }, async (t) => {
  const d = new TestDaemon('restart');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const ok = (args: string[], opts?: RunOpts) => d.dockerOk(args, opts);
  const out = (args: string[], opts?: RunOpts) => ok(args, opts).trim();
  const state = (name: string) => out(['inspect', '-f', '{{.State.Status}} {{.RestartCount}}', name]);

  await t.test('on-failure:2 restarts a failing container twice, then leaves it exited', async () => {
    ok(['run', '-d', '--name', 'fail2', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3']);
    await until(() => state('fail2') === 'exited 2', 'two restarts then exited', 200);
    assert.equal(out(['inspect', '-f', '{{.State.ExitCode}}', 'fail2']), '3');
    await sleep(1000);
    assert.equal(state('fail2'), 'exited 2');
  });

  await t.test('on-failure leaves a clean exit alone; no never restarts', async () => {
    ok(['run', '-d', '--name', 'clean', '--restart', 'on-failure', 'busybox', 'true']);
    ok(['run', '-d', '--name', 'never', 'busybox', 'sh', '-c', 'exit 1']);
    ok(['wait', 'clean']);
    ok(['wait', 'never']);
    await sleep(500);
    assert.equal(state('clean'), 'exited 0');
    assert.equal(state('never'), 'exited 0');
  });

  await t.test('always restarts with a growing back-off; a user stop is final', async () => {
    ok(['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'true']);
    await until(() => Number(state('always').split(' ')[1]) >= 3, 'three restarts', 200);
    assert.match(out(['ps', '-a', '--filter', 'name=always', '--format', '{{.Status}}']), /^(Up|Restarting|Exited)/);
    ok(['stop', 'always']);
    const count = state('always').split(' ')[1];
    await sleep(1500);
    assert.equal(state('always'), `exited ${count}`);
  });

  await t.test('a user\'s restart or start resets RestartCount, as moby\'s containerStart does', async () => {
    // Fails once (restarted by the policy: RestartCount 1), then runs.
    const once = ['sh', '-c', 'test -e /ran && exec sleep 1000; touch /ran; exit 1'];
    ok(['run', '-d', '--name', 'once', '--restart', 'on-failure', 'busybox', ...once]);
    ok(['run', '-d', '--name', 'once2', '--restart', 'on-failure', 'busybox', ...once]);
    await until(() => state('once') === 'running 1' && state('once2') === 'running 1', 'one policy restart each', 200);
    ok(['restart', '-t', '0', 'once']);
    assert.equal(state('once'), 'running 0');
    ok(['stop', '-t', '0', 'once2']);
    assert.equal(state('once2'), 'exited 1');
    ok(['start', 'once2']);
    assert.equal(state('once2'), 'running 0');
    ok(['rm', '-f', 'once', 'once2']);
  });

  await t.test('--restart with --rm is refused with Docker\'s wording', () => {
    const r = d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } });
    assert.equal(r.status, 400);
    assert.match((JSON.parse(r.body) as ErrorBody).message, /can't create 'AutoRemove' container with restart policy/);
    const cli = d.docker(['run', '--rm', '--restart', 'always', 'busybox', 'true']);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /Conflicting options/i);
  });

  await t.test('across a kill -9 of berthd: always and unless-stopped come back, a user stop stays', async () => {
    ok(['run', '-d', '--name', 'dies', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 2; exit 1']);
    ok(['run', '-d', '--name', 'unless', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000']);
    ok(['run', '-d', '--name', 'stopped', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000']);
    ok(['stop', '-t', '0', 'stopped']);
    // Running, with however many restarts it had by now: its first 2 s run can be over before a loaded host's
    // `docker` commands above are (waiting for 'running 0' alone then waits for a state that never comes back).
    const before = Number((await until(() => /^running (\d+)$/.exec(state('dies')), 'dies running'))[1]);
    await d.kill9();
    await sleep(3000); // "dies" exits while berthd is down
    await d.start();
    await until(() => {
      const m = /^running (\d+)$/.exec(state('dies'));
      return m && Number(m[1]) > before;
    }, `dies restarted after berthd came back (it had ${before} restarts before)`, 200);
    assert.equal(state('unless'), 'running 0');
    assert.equal(state('stopped'), 'exited 0');
  });
});
