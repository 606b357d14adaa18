// top, stats, update, pause/unpause, port and events, driven by the docker CLI v28 against berthd.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { TestDaemon, type RunOpts } from '../helpers/daemon';
import { until } from '../helpers/wait';
import type { StatsSample } from '../helpers/api-types';

test('top, stats, update, pause, port and events on berthd', { timeout: 120_000 }, async (t) => {
  const d = new TestDaemon('ops');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const ok = (args: string[], opts?: RunOpts) => d.dockerOk(args, opts);
  const out = (args: string[], opts?: RunOpts) => ok(args, opts).trim();
  ok(['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'sleep 1001 & sleep 1002 & wait']);

  await t.test('top lists the container\'s processes only, with ps arguments', async () => {
    const text = await until(() => { const o = out(['top', 'busy']); return o.includes('sleep 1001') && o; }, 'both sleeps in top');
    const lines = text.split('\n');
    assert.match(lines[0], /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    assert.equal(lines.length, 4, text); // sh and two sleeps, nothing of the host
    assert.match(text, /sleep 1002/);
    const custom = out(['top', 'busy', '-o', 'pid,comm']).split('\n');
    assert.match(custom[0], /^PID\s+COMMAND$/);
    assert.equal(custom.length, 4);
    const r = d.docker(['top', 'nosuch']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No such container: nosuch/);
  });

  await t.test('stats --no-stream and the stats JSON', () => {
    const line = out(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', 'busy']);
    assert.match(line, /^busy \S+ \/ \S+ 3$/);
    const r = d.api('GET', '/containers/busy/stats?stream=false&one-shot=true');
    assert.equal(r.status, 200);
    const s = JSON.parse(r.body) as StatsSample;
    assert.ok(s.cpu_stats.system_cpu_usage > 0);
    assert.ok(s.cpu_stats.online_cpus >= 1);
    assert.ok(s.memory_stats.usage > 0);
    assert.ok(s.memory_stats.limit > 0);
    assert.equal(s.pids_stats.current, 3);
    assert.equal(s.name, '/busy');
  });

  await t.test('stats streams a sample a second until the client leaves', async () => {
    const child = spawn('curl', ['-sN', '--unix-socket', d.sock, 'http://berth/containers/busy/stats']);
    let text = '';
    child.stdout.on('data', (b) => { text += b; });
    await until(() => text.split('\n').filter(Boolean).length >= 2, 'two stats samples', 100);
    child.kill();
    const [, second] = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as StatsSample);
    assert.ok(second.precpu_stats.system_cpu_usage > 0, 'precpu from the first sample');
  });

  await t.test('update changes limits of a running container and its restart policy', () => {
    out(['update', '--memory', '64m', '--cpus', '0.5', '--pids-limit', '50', '--cpu-shares', '512', '--restart', 'on-failure:3', 'busy']);
    assert.equal(out(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.CpuShares}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'busy']),
      '67108864 500000000 50 512 on-failure:3');
    assert.match(out(['stats', '--no-stream', '--format', '{{.MemUsage}}', 'busy']), / \/ 64MiB$/);
    const s = JSON.parse(d.api('GET', '/containers/busy/stats?stream=false&one-shot=true').body) as StatsSample;
    assert.equal(s.pids_stats.limit, 50);
  });

  await t.test('update refuses the limits create refuses, also for a stopped container: nothing stored, its next start works', () => {
    ok(['create', '--name', 'upd-stopped', 'busybox', 'true']);
    for (const name of ['upd-stopped']) {
      const r = d.docker(['update', '--cpu-period', '5000000', name]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /CPU cfs period can not be less than 1ms \(i\.e\. 1000\) or larger than 1s \(i\.e\. 1000000\)/);
      assert.notEqual(out(['inspect', '-f', '{{.HostConfig.CpuPeriod}}', name]), '5000000');
    }
    ok(['start', 'upd-stopped']);
    ok(['rm', '-f', 'upd-stopped']);
  });

  await t.test('pause freezes the container, unpause thaws it', () => {
    ok(['pause', 'busy']);
    assert.equal(out(['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'busy']), 'paused true');
    assert.match(out(['ps', '--filter', 'name=busy', '--format', '{{.Status}}']), /\(Paused\)$/);
    const r = d.docker(['pause', 'busy']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is already paused|is not running/);
    ok(['unpause', 'busy']);
    assert.equal(out(['inspect', '-f', '{{.State.Status}}', 'busy']), 'running');
  });

  await t.test('port prints nothing while there is no networking', () => {
    const r = d.docker(['port', 'busy']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
  });

  await t.test('events: Docker\'s actions for each operation, and --since/--until', () => {
    ok(['create', '--name', 'ev', 'busybox', 'sleep', '100']);
    ok(['start', 'ev']);
    ok(['pause', 'ev']);
    ok(['unpause', 'ev']);
    ok(['top', 'ev']);
    ok(['update', '--cpu-shares', '256', 'ev']);
    ok(['rename', 'ev', 'ev2']);
    ok(['restart', '-t', '0', 'ev2']);
    ok(['kill', 'ev2']);
    ok(['wait', 'ev2']);
    ok(['commit', 'ev2', 'evimage']);
    ok(['export', '-o', path.join(d.base, 'ev2.tar'), 'ev2']);
    ok(['rm', 'ev2']);
    const id = out(['create', '--name', 'evx', 'busybox', 'true']);
    ok(['start', 'evx']);
    const events = out(['events', '--since', '60s', '--until', '0s', '--filter', 'container=evx', '--format', '{{.Action}}']).split('\n');
    assert.ok(events.includes('create') && events.includes('start'), events.join(','));
    const all = out(['events', '--since', '60s', '--until', '0s', '--filter', 'type=container', '--format', '{{.Action}} {{.Actor.Attributes.name}}']).split('\n');
    for (const want of ['create ev', 'start ev', 'pause ev', 'unpause ev', 'top ev', 'update ev', 'rename ev2', 'stop ev2', 'restart ev2', 'kill ev2', 'die ev2', 'commit ev2', 'export ev2', 'destroy ev2']) {
      assert.ok(all.includes(want), `${want} in ${all.join(', ')}`);
    }
    assert.ok(id);
  });
});
