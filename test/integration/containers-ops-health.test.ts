// Health checks (--health-* flags and HEALTHCHECK in the image) and --init (tini as pid 1, zombies reaped) on berthd.
import test from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, type RunOpts } from '../helpers/daemon';
import { until } from '../helpers/wait';
import type { HealthState } from '../helpers/api-types';

test('health checks and --init on berthd', { timeout: 120_000 }, async (t) => {
  const d = new TestDaemon('health');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const ok = (args: string[], opts?: RunOpts) => d.dockerOk(args, opts);
  const out = (args: string[], opts?: RunOpts) => ok(args, opts).trim();
  const health = (name: string): HealthState => JSON.parse(out(['inspect', '-f', '{{json .State.Health}}', name])) as HealthState;

  await t.test('starting, then healthy once the check passes: ps, inspect and events', async () => {
    ok(['run', '-d', '--name', 'h1', '--health-cmd', 'test -f /tmp/ready', '--health-interval', '500ms', '--health-retries', '50', 'busybox', 'sh', '-c', 'sleep 2; touch /tmp/ready; sleep 1000']);
    assert.match(out(['ps', '--filter', 'name=h1', '--format', '{{.Status}}']), /\(health: starting\)$/);
    await until(() => health('h1').Status === 'healthy', 'h1 healthy', 200);
    const h = health('h1');
    assert.equal(h.FailingStreak, 0);
    assert.ok(h.Log.length >= 1 && h.Log.length <= 5);
    assert.equal(h.Log.at(-1)!.ExitCode, 0);
    assert.match(out(['ps', '--filter', 'name=h1', '--format', '{{.Status}}']), /^Up .* \(healthy\)$/);
    assert.equal(out(['ps', '-q', '--filter', 'health=healthy']).length > 0, true);
    const events = out(['events', '--since', '60s', '--until', '0s', '--filter', 'container=h1', '--filter', 'event=health_status', '--format', '{{.Action}}']);
    assert.match(events, /health_status: healthy/);
  });

  await t.test('unhealthy after the retries fail; output and exit code kept in the log', async () => {
    ok(['run', '-d', '--name', 'h2', '--health-cmd', 'echo failing; exit 1', '--health-interval', '300ms', '--health-retries', '2', 'busybox', 'sleep', '1000']);
    await until(() => health('h2').Status === 'unhealthy', 'h2 unhealthy', 200);
    const h = health('h2');
    assert.ok(h.FailingStreak >= 2);
    assert.equal(h.Log.at(-1)!.ExitCode, 1);
    assert.equal(h.Log.at(-1)!.Output, 'failing\n');
    assert.match(out(['ps', '--filter', 'name=h2', '--format', '{{.Status}}']), /\(unhealthy\)$/);
  });

  await t.test('the probe runs as the container\'s user, in its working directory, with its environment', async () => {
    ok(['run', '-d', '--name', 'h-user', '--user', '1234:2345', '-w', '/tmp', '-e', 'PROBE=yes', '--health-cmd', 'echo "$(id -u):$(id -g) $(pwd) $PROBE"', '--health-interval', '300ms', 'busybox', 'sleep', '1000']);
    await until(() => health('h-user').Status === 'healthy', 'h-user healthy', 200);
    assert.equal(health('h-user').Log.at(-1)!.Output, '1234:2345 /tmp yes\n');
  });

  await t.test('a check that runs too long times out', async () => {
    ok(['run', '-d', '--name', 'h3', '--health-cmd', 'sleep 2; touch /tmp/survived', '--health-interval', '300ms', '--health-timeout', '300ms', '--health-retries', '1', 'busybox', 'sleep', '1000']);
    await until(() => health('h3').Status === 'unhealthy', 'h3 unhealthy', 200);
    assert.match(health('h3').Log.at(-1)!.Output, /^Health check exceeded timeout \(300ms\)$/);
    // The timeout kills the probe (its shell): no probe lives long enough to touch the file.
    await new Promise((r) => setTimeout(r, 3000));
    assert.notEqual(d.docker(['exec', 'h3', 'test', '-e', '/tmp/survived']).code, 0, 'a timed-out probe ran to its end');
    // Probes are exec sessions: Docker's exec events, and the sessions are not kept once done.
    const ev = out(['events', '--since', '60s', '--until', '0s', '--filter', 'container=h3', '--format', '{{.Action}}']);
    assert.match(ev, /^exec_create: \/bin\/sh -c sleep 2; touch \/tmp\/survived$/m);
    assert.match(ev, /^exec_die$/m);
    assert.ok(Number(out(['inspect', '-f', '{{len .ExecIDs}}', 'h3'])) <= 1);
  });

  await t.test('a probe that cannot start is a failure with the runtime\'s error', async () => {
    const r = d.api('POST', '/containers/create?name=h7', { Image: 'busybox', Cmd: ['sleep', '1000'], Healthcheck: { Test: ['CMD', '/no/such/probe'], Interval: 300e6, Retries: 1 } });
    assert.equal(r.status, 201, r.body);
    ok(['start', 'h7']);
    await until(() => health('h7').Status === 'unhealthy', 'h7 unhealthy', 200);
    const last = health('h7').Log.at(-1)!;
    assert.equal(last.ExitCode, -1);
    assert.match(last.Output, /no such file or directory|not found/i);
    ok(['rm', '-f', 'h7']);
    // Output beyond 4096 bytes is cut, and the cut marked with "...", as moby's limitedBuffer does.
    ok(['run', '-d', '--name', 'h8', '--health-cmd', 'head -c 5000 /dev/zero | tr "\\0" a', '--health-interval', '300ms', 'busybox', 'sleep', '1000']);
    await until(() => health('h8').Status === 'healthy', 'h8 healthy', 200);
    assert.equal(health('h8').Log.at(-1)!.Output, 'a'.repeat(4096) + '...');
    ok(['rm', '-f', 'h8']);
  });

  await t.test('HEALTHCHECK from the image config', async () => {
    // `docker commit --change` refuses HEALTHCHECK (as Docker does): give the image its check through the commit body.
    const r = d.api('POST', '/commit?container=h2&repo=withhealth', { Healthcheck: { Test: ['CMD', 'true'], Interval: 300e6 } });
    assert.equal(r.status, 201, r.body);
    assert.equal(out(['image', 'inspect', '-f', '{{json .Config.Healthcheck.Test}}', 'withhealth']), '["CMD","true"]');
    ok(['run', '-d', '--name', 'h4', 'withhealth', 'sleep', '1000']);
    await until(() => health('h4').Status === 'healthy', 'h4 healthy from the image HEALTHCHECK', 200);
    ok(['run', '-d', '--name', 'h5', '--no-healthcheck', 'withhealth', 'sleep', '1000']);
    assert.equal(out(['inspect', '-f', '{{.State.Health}}', 'h5']), '<nil>');
  });

  await t.test('--init runs docker-init as pid 1, which reaps orphaned zombies', async () => {
    const script = '(sleep 0.1 &); exec sleep 1000';
    ok(['run', '-d', '--name', 'noinit', 'busybox', 'sh', '-c', script]);
    ok(['run', '-d', '--name', 'init', '--init', 'busybox', 'sh', '-c', script]);
    const zombies = (name: string) => d.dockerOk(['exec', name, 'ps', '-o', 'stat,comm']).split('\n').filter((l) => /^Z/.test(l.trim())).length;
    await until(() => zombies('noinit') === 1, 'the orphan to be a zombie without --init', 100);
    assert.equal(zombies('init'), 0);
    assert.match(d.dockerOk(['exec', 'init', 'ps', '-o', 'pid,comm']), /^\s*1 docker-init$/m);
    assert.equal(out(['inspect', '-f', '{{.HostConfig.Init}} {{.Path}}', 'init']), 'true sh');
    const r = d.docker(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'echo $$; exit 7']);
    assert.equal(r.code, 7, 'the command\'s exit code comes through the init');
    assert.notEqual(r.stdout.trim(), '1');
  });
});
