// Resource limits through the docker CLI, read back from the container's own cgroup files, and their effects.
import test from 'node:test';
import assert from 'node:assert';
import * as os from 'node:os';
import { TestDaemon } from '../helpers/daemon';

test('resource limits', async (t) => {
  const d = new TestDaemon('limits');
  t.after(() => d.cleanup());
  await d.startWithBusybox();

  await t.test('the container sees its own limits under /sys/fs/cgroup', () => {
    assert.strictEqual(d.dockerOk(['run', '--rm', '--memory', '64m', 'busybox', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']).trim(), '67108864');
    const out = d.dockerOk(['run', '--rm', '--memory', '64m', '--memory-reservation', '32m', '--memory-swap', '128m', '--cpu-shares', '512',
      '--cpus', '1.5', '--cpuset-cpus', '0', '--pids-limit', '50', '--shm-size', '8m', 'busybox', 'sh', '-c',
      'cd /sys/fs/cgroup; cat memory/memory.soft_limit_in_bytes cpu/cpu.shares cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpuset/cpuset.cpus pids/pids.max; df -k /dev/shm | tail -1']);
    const lines = out.trim().split('\n');
    assert.deepStrictEqual(lines.slice(0, 6), ['33554432', '512', '150000', '100000', '0', '50']);
    assert.match(lines[6], /^shm\s+8192\s/);
  });

  await t.test('--pids-limit stops forks', () => {
    const r = d.docker(['run', '--rm', '--pids-limit', '5', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 5 & done']);
    assert.notStrictEqual(r.code, 0);
    assert.match(r.stderr, /can't fork|Resource temporarily unavailable/);
  });

  await t.test('--ulimit soft:hard, and a hard limit above the daemon\'s is a 400', () => {
    assert.deepStrictEqual(d.dockerOk(['run', '--rm', '--ulimit', 'nofile=1000:2000', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn']).trim().split('\n'), ['1000', '2000']);
    assert.strictEqual(d.dockerOk(['run', '--rm', '--ulimit', 'core=0:0', 'busybox', 'sh', '-c', 'ulimit -c']).trim(), '0');
    const r = d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Ulimits: [{ Name: 'nofile', Soft: 1 << 30, Hard: 1 << 30 }] } });
    assert.strictEqual(r.status, 400);
    assert.match(r.body, /above the daemon's own hard limit/);
    const bad = d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] } });
    assert.strictEqual(bad.status, 400);
    assert.match(bad.body, /invalid ulimit type: bogus/);
  });

  await t.test('out-of-range limits are 400s with Docker\'s messages', () => {
    const cases: [string[], RegExp][] = [
      [['--memory', '3m'], /Minimum memory limit allowed is 6MB/],
      [['--memory', '64m', '--memory-swap', '32m'], /Minimum memoryswap limit should be larger than memory limit/],
      [['--memory', '32m', '--memory-reservation', '64m'], /Minimum memory limit can not be less than memory reservation limit/],
      [['--cpus', String(os.availableParallelism() + 1)], /Range of CPUs is from 0.01 to \d+\.00, as there are only \d+ CPUs available/],
      [['--cpuset-cpus', '99'], /Requested CPUs are not available - requested 99/],
      [['--cpuset-cpus', 'x-1'], /Invalid value x-1 for cpuset cpus/],
    ];
    for (const [flags, re] of cases) {
      const r = d.docker(['create', ...flags, 'busybox', 'true']);
      assert.notStrictEqual(r.code, 0, flags.join(' '));
      assert.match(r.stderr, re);
    }
  });

  await t.test('a process over --memory is OOM-killed: OOMKilled true and an oom event', () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = d.docker(['run', '--name', 'oom', '--memory', '32m', '--memory-swap', '32m', 'busybox', 'sh', '-c', 'x=a; while true; do x=$x$x; done']);
    assert.strictEqual(r.code, 137);
    assert.strictEqual(d.dockerOk(['inspect', '-f', '{{.State.OOMKilled}}', 'oom']).trim(), 'true');
    const events = d.dockerOk(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'container=oom', '--format', '{{.Action}}']);
    assert.deepStrictEqual(events.trim().split('\n').filter((a) => a === 'oom' || a === 'die'), ['oom', 'die']);
    d.dockerOk(['rm', 'oom']);
  });
});
