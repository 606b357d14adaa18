// Swarm mode end to end through the real docker CLI: the floor (/work/shared/checks/cluster) on one berthd (init,
// node ls, a replicated service that converges, scales, updates and rolls back, a secret read by a task, a stack,
// bad specs refused, service rm, leave); then 3 managers and 2 workers, each in its own network namespace (joins,
// spread, drain, a node killed, the leader killed, a worker refusing manager calls, service logs from other nodes,
// quorum loss and --force-new-cluster).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { TestDaemon } from '../helpers/daemon';
import { killSwarmEtcd, swarmPortArgs, TestCluster, type ClusterNode } from '../helpers/cluster';
import { eventually } from '../helpers/wait';

function running(d: TestDaemon, service: string): number {
  const out = d.docker(['service', 'ps', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}', service]).stdout;
  return out.split('\n').filter((l) => l.startsWith('Running')).length;
}

describe('swarm mode on one node (the floor)', () => {
  let d: TestDaemon;
  before(async () => {
    d = new TestDaemon('swarm1', { args: swarmPortArgs() });
    await d.startWithBusybox();
  });
  after(async () => {
    killSwarmEtcd(d.dataRoot);
    await d.cleanup();
  });

  test('init prints the join command; node ls shows this node as Leader', () => {
    const out = d.dockerOk(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
    assert.match(out, /Swarm initialized/);
    assert.match(out, /docker swarm join --token SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25} 127\.0\.0\.1:\d+/);
    assert.equal(d.dockerOk(['node', 'ls', '--format', '{{.Self}} {{.Status}} {{.Availability}} {{.ManagerStatus}}']).trim(), 'true Ready Active Leader');
    assert.equal(d.dockerOk(['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}']).trim(), 'active true');
    assert.match(d.dockerFail(['swarm', 'init']), /already part of a swarm/);
  });

  test('a replicated service converges, scales, updates and rolls back', async () => {
    d.dockerOk(['service', 'create', '-d', '--no-resolve-image', '--name', 'web', '--replicas', '3', 'busybox', 'sleep', '1d']);
    await eventually('3 running', () => running(d, 'web') === 3);
    d.dockerOk(['service', 'scale', '-d', 'web=5']);
    await eventually('5 running', () => running(d, 'web') === 5);
    await eventually('5 containers', () => d.dockerOk(['ps', '-q', '--filter', 'label=com.docker.swarm.service.name=web']).trim().split('\n').length === 5);
    d.dockerOk(['service', 'update', '-d', '--env-add', 'BAR=1', 'web']);
    d.dockerOk(['service', 'rollback', '-d', 'web']);
    await eventually('rollback_completed', () => d.dockerOk(['service', 'inspect', '-f', '{{.UpdateStatus.State}}', 'web']).trim() === 'rollback_completed');
  });

  test('a secret is read by a task; its logs come back through service logs', async () => {
    d.dockerOk(['secret', 'create', 'pw', '-'], { input: 's3cr3t' });
    d.dockerOk(['service', 'create', '-d', '--no-resolve-image', '--name', 'sec', '--secret', 'pw', '--restart-condition', 'none', 'busybox', 'cat', '/run/secrets/pw']);
    await eventually('the secret in the logs', () => d.docker(['service', 'logs', 'sec']).stdout.includes('s3cr3t'));
    assert.match(d.dockerFail(['secret', 'rm', 'pw']), /is in use by the following service: sec/);
  });

  test('stack deploy and rm', async () => {
    const file = `${d.base}/stack.yml`;
    fs.writeFileSync(file, 'version: "3.8"\nservices:\n  a:\n    image: busybox\n    command: sleep 1d\n    deploy: {replicas: 2}\n');
    d.dockerOk(['stack', 'deploy', '--resolve-image', 'never', '-c', file, 'st']);
    await eventually('st_a 2 running', () => running(d, 'st_a') === 2);
    d.dockerOk(['stack', 'rm', 'st']);
    await eventually('stack containers gone', () => d.dockerOk(['ps', '-aq', '--filter', 'label=com.docker.stack.namespace=st']).trim() === '');
  });

  test('bad specs are refused; service rm removes the containers', async () => {
    d.dockerFail(['service', 'create', '--name', 'bad name!', 'busybox', 'true']);
    d.dockerFail(['service', 'create', '-d', '--no-resolve-image', '--name', 'x', '--network', 'no-such-net', 'busybox', 'true']);
    d.dockerOk(['service', 'rm', 'web', 'sec']);
    await eventually('web containers gone', () => d.dockerOk(['ps', '-aq', '--filter', 'label=com.docker.swarm.service.name=web']).trim() === '');
    d.dockerOk(['secret', 'rm', 'pw']);
  });

  test('leave: refused without --force on the last manager, then inactive', () => {
    assert.match(d.dockerFail(['swarm', 'leave']), /Removing the last manager erases all current state of the swarm/);
    d.dockerOk(['swarm', 'leave', '--force']);
    assert.equal(d.dockerOk(['info', '--format', '{{.Swarm.LocalNodeState}}']).trim(), 'inactive');
    assert.match(d.dockerFail(['node', 'ls']), /This node is not a swarm manager. Use "docker swarm init"/);
  });
});

interface TaskView { ID: string; NodeID?: string; DesiredState: string; Status: { State: string } }

function tasksOf(d: TestDaemon, service: string): TaskView[] {
  const r = d.api('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service] }))}`);
  return r.status === 200 ? JSON.parse(r.body) as TaskView[] : [];
}

function runningOn(d: TestDaemon, service: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of tasksOf(d, service)) {
    if (t.DesiredState === 'running' && t.Status.State === 'running' && t.NodeID) counts.set(t.NodeID, (counts.get(t.NodeID) ?? 0) + 1);
  }
  return counts;
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe('swarm mode on 3 managers and 2 workers', () => {
  let c: TestCluster;
  const ids: string[] = [];
  let m: ClusterNode[];
  before(async () => {
    c = await new TestCluster(5).start();
    m = c.nodes;
  });
  after(async () => { await c?.cleanup(); });

  test('joins: managers and workers; node ls shows the leader and reachable managers', () => {
    m[0]!.dockerOk(['swarm', 'init', '--advertise-addr', m[0]!.address]);
    const managerToken = m[0]!.dockerOk(['swarm', 'join-token', '-q', 'manager']).trim();
    const workerToken = m[0]!.dockerOk(['swarm', 'join-token', '-q', 'worker']).trim();
    for (const i of [1, 2]) assert.match(m[i]!.dockerOk(['swarm', 'join', '--token', managerToken, `${m[0]!.address}:2377`]), /joined a swarm as a manager/);
    for (const i of [3, 4]) assert.match(m[i]!.dockerOk(['swarm', 'join', '--token', workerToken, `${m[0]!.address}:2377`]), /joined a swarm as a worker/);
    for (const n of m) ids.push(n.dockerOk(['info', '--format', '{{.Swarm.NodeID}}']).trim());
    const ls = m[1]!.dockerOk(['node', 'ls', '--format', '{{.ID}} {{.Status}} {{.ManagerStatus}}']).trim().split('\n').sort();
    assert.equal(ls.length, 5);
    assert.deepEqual(ls.map((l) => l.split(' ').slice(1).join(' ').trim()).sort(), ['Ready', 'Ready', 'Ready Leader', 'Ready Reachable', 'Ready Reachable']);
    assert.match(m[3]!.dockerFail(['node', 'ls']), /Worker nodes can't be used to view or modify cluster state/);
  });

  test('service create --replicas 6 spreads over the nodes; drain moves tasks off a node', async () => {
    m[0]!.dockerOk(['service', 'create', '-d', '--no-resolve-image', '--name', 'spread', '--replicas', '6', 'busybox', 'sleep', '1d']);
    await eventually('6 running', () => total(runningOn(m[0]!, 'spread')) === 6, 90_000);
    assert.ok(runningOn(m[0]!, 'spread').size >= 4, JSON.stringify([...runningOn(m[0]!, 'spread')]));
    m[0]!.dockerOk(['node', 'update', '--availability', 'drain', ids[4]!]);
    await eventually('none on the drained node', () => {
      const on = runningOn(m[0]!, 'spread');
      return !on.has(ids[4]!) && total(on) === 6;
    }, 60_000);
  });

  test('service logs merge tasks on other nodes', async () => {
    m[0]!.dockerOk(['service', 'create', '-d', '--no-resolve-image', '--name', 'talk', '--replicas', '3', 'busybox', 'sh', '-c', 'echo said-$(hostname); sleep 1d']);
    await eventually('3 running', () => total(runningOn(m[0]!, 'talk')) === 3, 60_000);
    assert.ok(runningOn(m[0]!, 'talk').size >= 2);
    await eventually('3 lines', () => (m[0]!.docker(['service', 'logs', 'talk']).stdout.match(/said-/g) ?? []).length === 3, 30_000);
  });

  test('promote a worker to manager and demote it again', async () => {
    await explained([m[0]!, m[3]!], () => promoteAndDemote());
  });

  /** A failure says what the leader and the node saw (CI shows only the test output). */
  async function explained(nodes: ClusterNode[], body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      (err as Error).message += `\n${nodes.map((n) => `${n.netns}: ${n.logTail(40)}`).join('\n')}`;
      throw err;
    }
  }

  async function promoteAndDemote(): Promise<void> {
    m[0]!.dockerOk(['node', 'promote', ids[3]!]);
    await eventually('node 3 answers manager calls', () => m[3]!.docker(['node', 'ls']).code === 0, 40_000);
    await eventually('node 3 reachable', () => m[0]!.docker(['node', 'inspect', '-f', '{{.ManagerStatus.Reachability}}', ids[3]!]).stdout.trim() === 'reachable', 30_000);
    m[0]!.dockerOk(['node', 'demote', ids[3]!]);
    await eventually('node 3 a worker again', () => /Worker nodes can't be used/.test(m[3]!.docker(['node', 'ls']).stderr), 40_000);
    await eventually('node 3 ready', () => m[0]!.docker(['node', 'inspect', '-f', '{{.Status.State}}', ids[3]!]).stdout.trim() === 'ready', 30_000);
  }

  test('kill -9 of a node: its tasks are rescheduled', async (t) => {
    const before = runningOn(m[0]!, 'spread');
    const victim = before.has(ids[3]!) ? 3 : [1, 2].find((i) => before.has(ids[i]!))!;
    const t0 = Date.now();
    await m[victim]!.crash();
    await eventually('6 running elsewhere', () => {
      const on = runningOn(m[0]!, 'spread');
      return !on.has(ids[victim]!) && total(on) === 6;
    }, 40_000);
    t.diagnostic(`rescheduled ${Date.now() - t0} ms after the kill`);
    assert.ok(Date.now() - t0 < 20_000, `rescheduled after ${Date.now() - t0} ms`);
    await m[victim]!.start();
    await eventually('the node ready again', () => m[0]!.docker(['node', 'inspect', '-f', '{{.Status.State}}', ids[victim]!]).stdout.trim() === 'ready', 40_000);
  });

  test('the leader killed: another manager leads and answers', async (t) => {
    const t0 = Date.now();
    await m[0]!.crash();
    await eventually('a new leader', () => {
      const r = m[1]!.docker(['node', 'ls', '--format', '{{.ID}} {{.ManagerStatus}}']);
      return r.code === 0 && r.stdout.split('\n').some((l) => l.endsWith('Leader') && !l.startsWith(ids[0]!));
    }, 40_000);
    t.diagnostic(`new leader ${Date.now() - t0} ms after the kill`);
    m[1]!.dockerOk(['service', 'scale', '-d', 'spread=4']);
  });

  test('quorum loss is reported with the recovery command; --force-new-cluster recovers', async () => {
    await m[2]!.crash();
    await eventually('no leader', () => /does not have a leader/.test(m[1]!.docker(['node', 'ls']).stderr), 30_000);
    assert.match(m[1]!.dockerOk(['info', '--format', '{{.Swarm.Error}}']), /--force-new-cluster/);
    m[1]!.dockerOk(['swarm', 'init', '--force-new-cluster', '--advertise-addr', m[1]!.address]);
    await eventually('node ls again', () => m[1]!.docker(['node', 'ls']).code === 0, 30_000);
    assert.equal(m[1]!.dockerOk(['node', 'inspect', '-f', '{{.ManagerStatus.Leader}}', 'self']).trim(), 'true');
  });
});
