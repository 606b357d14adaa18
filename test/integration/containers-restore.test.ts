// Live restore: berthd killed with SIGKILL and started again finds its containers as they are — still running,
// or exited meanwhile with their real exit code — with no gap in their logs, and can still stop and remove them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { TestDaemon, DOCKER, type RunResult } from '../helpers/daemon';
import { sleep, until } from '../helpers/wait';

function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs the docker CLI in the background; resolves with its output when it exits. */
function dockerAsync(d: TestDaemon, args: string[]) {
  const child = spawn(DOCKER, args, { env: d.env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b) => { stdout += b; });
  child.stderr.on('data', (b) => { stderr += b; });
  const done = new Promise<RunResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

test('containers survive a kill -9 of berthd', { timeout: 180_000 }, async (t) => {
  const d = new TestDaemon('restore');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const ok = (args: string[]) => d.dockerOk(args).trim();
  const inspect = (name: string, fmt: string) => ok(['inspect', '-f', fmt, name]);
  const counter = 'i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.1; done';

  ok(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', counter]);
  ok(['run', '-d', '--name', 'sleeper', 'busybox', 'sleep', '1000']);
  ok(['run', '-d', '--name', 'waited', 'busybox', 'sleep', '1000']);
  ok(['run', '-d', '--name', 'doomed', 'busybox', 'sh', '-c', 'trap "exit 9" USR1; echo ready; while true; do sleep 0.1; done']);
  ok(['run', '-d', '--rm', '--name', 'autorm', 'busybox', 'sh', '-c', 'trap "exit 0" USR1; echo ready; while true; do sleep 0.1; done']);
  await until(() => d.docker(['logs', 'doomed']).stdout.includes('ready') && d.docker(['logs', 'autorm']).stdout.includes('ready'), 'ready');
  const pids = Object.fromEntries(['ticker', 'sleeper', 'waited', 'doomed', 'autorm'].map((n) => [n, Number(inspect(n, '{{.State.Pid}}'))]));
  const autormId = inspect('autorm', '{{.Id}}');

  const linesBefore = d.docker(['logs', 'ticker']).stdout.split('\n').filter(Boolean).length;
  await d.kill9();
  assert.ok(!d.ping(), 'the daemon is gone');
  // While berthd is down: two containers exit, the others keep running and writing.
  process.kill(pids.doomed, 'SIGUSR1');
  process.kill(pids.autorm, 'SIGUSR1');
  await until(() => !alive(pids.doomed) && !alive(pids.autorm), 'the containers to exit while berthd is down');
  const downAt = Date.now();
  await sleep(1000);
  for (const n of ['ticker', 'sleeper', 'waited']) assert.ok(alive(pids[n]), `${n} survives the daemon`);
  await d.start();

  await t.test('running containers still run and are listed', () => {
    const ps = ok(['ps', '--format', '{{.Names}} {{.Status}}']).split('\n').sort();
    assert.equal(ps.length, 3, ps.join('\n'));
    assert.match(ps[0], /^sleeper Up (\d+ seconds?|Less than a second)$/);
    assert.match(ps[1], /^ticker Up (\d+ seconds?|Less than a second)$/);
    assert.match(ps[2], /^waited Up (\d+ seconds?|Less than a second)$/);
    for (const n of ['ticker', 'sleeper', 'waited']) assert.equal(Number(inspect(n, '{{.State.Pid}}')), pids[n]);
  });

  await t.test('a container that exited meanwhile shows its real exit code and time', () => {
    assert.equal(inspect('doomed', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 9');
    const finished = Date.parse(inspect('doomed', '{{.State.FinishedAt}}'));
    assert.ok(finished <= downAt, `FinishedAt ${new Date(finished).toISOString()} is the exit, not the restart`);
    assert.match(ok(['ps', '-a', '--filter', 'name=doomed', '--format', '{{.Status}}']), /^Exited \(9\) \d+ seconds? ago$/);
    assert.equal(ok(['wait', 'doomed']), '9');
  });

  await t.test('a --rm container that exited meanwhile is removed', () => {
    assert.equal(ok(['ps', '-aq', '--filter', `id=${autormId}`]), '');
  });

  await t.test('logs have no gap across the daemon restart', async () => {
    await sleep(300);
    const lines = d.docker(['logs', 'ticker']).stdout.split('\n').filter(Boolean);
    assert.ok(lines.length > linesBefore + 5, `lines written while berthd was down are there (${linesBefore} → ${lines.length})`);
    lines.forEach((l, i) => assert.equal(l, `line ${i + 1}`));
  });

  await t.test('logs -f, wait, stop and rm work on restored containers', async () => {
    const follow = dockerAsync(d, ['logs', '-f', '--tail', '1', 'ticker']);
    const wait = dockerAsync(d, ['wait', 'waited']);
    await sleep(500);
    assert.equal(ok(['stop', '-t', '1', 'ticker']), 'ticker');
    const f = await follow.done;
    assert.equal(f.code, 0);
    const followed = f.stdout.split('\n').filter(Boolean);
    assert.ok(followed.length >= 3, `logs -f saw new lines until the stop: ${followed.length}`);
    const first = Number(followed[0].split(' ')[1]);
    followed.forEach((l, i) => assert.equal(l, `line ${first + i}`));
    assert.equal(inspect('ticker', '{{.State.ExitCode}}'), '137');
    assert.ok(!alive(pids.ticker));
    assert.equal(ok(['kill', 'waited']), 'waited');
    assert.equal((await wait.done).stdout, '137\n');
    assert.equal(ok(['rm', '-f', 'sleeper']), 'sleeper');
    assert.ok(!alive(pids.sleeper));
    ok(['rm', 'ticker', 'waited', 'doomed']);
    assert.equal(ok(['ps', '-aq']), '');
  });
});
