// Networks across berthd restarts: networks and endpoints survive a restart; while berthd is down a running
// container's published port, outbound route and DNS keep working; after a kill -9 (with a container dying while the
// daemon is down, or the daemon dying half-way through a start) the start-up reconciles: interfaces, iptables rules,
// namespaces, leases and DNS entries are exactly as before that container. Nothing is left at the end.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { TestDaemon, type RunOpts } from '../helpers/daemon';
import { NetState, freePort, curl } from '../helpers/netstate';
import { until } from '../helpers/wait';
import type { ContainerInspect, NetworkInspect } from '../helpers/api-types';


/** Whether a host process can take the TCP port (nobody holds it). */
function portFree(port: number) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}


test('networks across berthd restarts and crashes', { timeout: 600_000 }, async (t) => {
  const d = new TestDaemon('netrst');
  const state = new NetState(d);
  t.after(() => { delete process.env.BERTH_FAILPOINTS; return d.cleanup(); });
  await d.startWithBusybox();
  const ok = (args: string[], opts?: RunOpts) => d.dockerOk(args, opts);
  const inspect = (name: string) => (JSON.parse(ok(['inspect', name])) as ContainerInspect[])[0];
  /** Runs a command inside a running container's namespaces without berthd (nsenter, the container's own busybox). */
  const inside = (pid: number, cmd: string[]) => spawnSync('nsenter', ['-t', String(pid), '-n', '-m', '-u', ...cmd], { encoding: 'utf8', timeout: 20_000 });
  const port = await freePort();

  ok(['run', '--name', 'seed', 'busybox', 'sh', '-c', 'mkdir -p /www && echo kept-page > /www/index.html']);
  ok(['commit', '--change', 'CMD ["httpd", "-f", "-p", "80", "-h", "/www"]', 'seed', 'web']);
  ok(['rm', 'seed']);
  ok(['network', 'create', '--label', 'keep=1', 'keep']);
  ok(['run', '-d', '--name', 'web', '-p', `${port}:80`, 'web']);
  ok(['run', '-d', '--name', 'db', '--network', 'keep', '--network-alias', 'database', 'busybox', 'sleep', '3000']);
  ok(['run', '-d', '--name', 'app', '--network', 'keep', 'busybox', 'sleep', '3000']);
  state.learn();
  await until(() => curl(`http://127.0.0.1:${port}/`).out === 'kept-page\n', 'httpd to answer');
  const view = () => ({
    networks: ok(['network', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Name}} {{.Labels}}']),
    keep: (JSON.parse(ok(['network', 'inspect', 'keep'])) as NetworkInspect[])[0],
    ips: ['web', 'db', 'app'].map((n) => JSON.stringify(inspect(n).NetworkSettings.Networks)),
    port: ok(['port', 'web']),
  });

  await t.test('while berthd is down, published ports, names and the way out keep working; after a restart all is as before', async () => {
    const before = view();
    const snap = state.snapshot();
    const appPid = inspect('app').State.Pid;
    await d.stop();
    assert.equal(d.ping(), false);
    assert.equal(curl(`http://127.0.0.1:${port}/`).out, 'kept-page\n');
    const r = inside(appPid, ['/bin/ping', '-c1', '-W2', 'database']);
    assert.equal(r.status, 0, `app → database with berthd down: ${r.stdout}${r.stderr}`);
    const out = inside(appPid, ['/bin/sh', '-c', 'wget -qO- http://deb.debian.org/debian/dists/bookworm/Release | head -1']);
    assert.match(out.stdout, /Origin: Debian/, out.stderr);
    await d.start();
    assert.deepEqual(view(), before);
    assert.deepEqual(await state.settledSnapshot(snap), snap);
    // The restarted daemon still owns the host port, and new containers find the old ones by name.
    assert.match(d.docker(['run', '--rm', '-p', `${port}:80`, 'busybox', 'true']).stderr, /port is already allocated/);
    ok(['run', '--rm', '--network', 'keep', 'busybox', 'ping', '-c1', '-W2', 'db']);
    ok(['exec', 'db', 'ping', '-c1', '-W2', 'app']);
    assert.equal(curl(`http://127.0.0.1:${port}/`).out, 'kept-page\n');
    for (const id of ok(['ps', '-aq', '--filter', 'status=created']).split('\n').filter(Boolean)) ok(['rm', id]);
  });

  await t.test('kill -9 of berthd, then its container dies while it is down: start-up removes exactly what that container had', async () => {
    const snap = state.snapshot();
    const vport = await freePort();
    ok(['run', '-d', '--name', 'victim', '-p', `${vport}:80`, '--network', 'keep', '--network-alias', 'prey', 'web']);
    const pid = inspect('victim').State.Pid;
    const during = state.snapshot();
    assert.equal(during.netns.length, snap.netns.length + 1);
    assert.equal(during.leases.length, snap.leases.length + 1);
    assert.ok(during.rules.some((l) => l.includes(`--dport ${vport} `)), 'its DNAT rule is there');
    assert.ok(during.dns.some((l) => l.includes('prey')), 'its DNS entry is there');
    await d.kill9();
    process.kill(pid, 'SIGKILL');
    await until(() => spawnSync('kill', ['-0', String(pid)]).status !== 0, 'the container to die');
    await d.start();
    await until(() => inspect('victim').State.Status === 'exited', 'the exit to be seen');
    assert.deepEqual(await state.settledSnapshot(snap), snap, 'no veth, rule, namespace, lease or DNS entry of the dead container');
    assert.equal(await portFree(vport), true, 'its host port is free again');
    // The others were left alone.
    assert.equal(curl(`http://127.0.0.1:${port}/`).out, 'kept-page\n');
    ok(['exec', 'app', 'ping', '-c1', '-W2', 'db']);
    // And the container starts again cleanly, with its port.
    ok(['start', 'victim']);
    await until(() => curl(`http://127.0.0.1:${vport}/`).out === 'kept-page\n', 'the restarted victim to answer');
    ok(['rm', '-f', 'victim']);
    assert.deepEqual(await state.settledSnapshot(snap), snap);
  });

  await t.test('berthd killed half-way through a container\'s start (after netavark set it up): start-up undoes it', async () => {
    const snap = state.snapshot();
    const hport = await freePort();
    await d.stop();
    process.env.BERTH_FAILPOINTS = 'network-attached';
    try {
      await d.start();
      const r = d.docker(['run', '-d', '--name', 'half', '-p', `${hport}:80`, '--network', 'keep', 'web']);
      assert.notEqual(r.code, 0);
      await until(() => !d.ping(), 'the daemon to die at the failpoint');
      // It died with the namespace, veth, rules and lease made: the crash left them.
      const crashed = state.snapshot();
      assert.equal(crashed.netns.length, snap.netns.length + 1, JSON.stringify(crashed.netns));
      assert.ok(crashed.rules.some((l) => l.includes(`--dport ${hport} `)));
    } finally {
      delete process.env.BERTH_FAILPOINTS;
    }
    await d.start();
    assert.deepEqual(await state.settledSnapshot(snap), snap);
    assert.equal(await portFree(hport), true);
    assert.notEqual(inspect('half').State.Status, 'running');
    ok(['start', 'half']);
    await until(() => curl(`http://127.0.0.1:${hport}/`).out === 'kept-page\n', 'half to answer once started');
    ok(['rm', '-f', 'half']);
    assert.deepEqual(await state.settledSnapshot(snap), snap);
  });

  await t.test('nothing is left once the containers and the network are gone', async () => {
    for (const id of ok(['ps', '-aq']).split('\n').filter(Boolean)) ok(['rm', '-f', id]);
    ok(['network', 'rm', 'keep']);
    assert.deepEqual(await state.settledLeftovers(), []);
  });
});
