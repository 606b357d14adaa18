// The scheduler's pure core: the filter pipeline in swarmkit's order, its "no suitable node (...)" texts,
// spread over nodes, constraints, placement preferences; and swarm IDs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scheduleTasks, explain } from '../../src/cluster/manager/scheduler';
import { newObjectID, newTask } from '../../src/cluster/manager/task-factory';
import { parseConstraints, constraintsMatch } from '../../src/cluster/manager/constraints';
import type { Node, Service, ServiceSpec, Task } from '../../src/wire/swarm';

const NOW = Date.parse('2026-01-01T00:00:00Z');

function node(id: string, o: { state?: Node['Status']['State']; availability?: Node['Spec']['Availability']; labels?: Record<string, string>; role?: 'manager' | 'worker'; cpus?: number } = {}): Node {
  return {
    ID: id, Version: { Index: 1 }, CreatedAt: '', UpdatedAt: '',
    Spec: { Labels: o.labels ?? {}, Role: o.role ?? 'worker', Availability: o.availability ?? 'active' },
    Description: {
      Hostname: `host-${id}`, Platform: { Architecture: 'x86_64', OS: 'linux' },
      Resources: { NanoCPUs: (o.cpus ?? 2) * 1e9, MemoryBytes: 2 ** 32 },
      Engine: { EngineVersion: '28', Labels: { zone: 'a' }, Plugins: [] },
      TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' },
    },
    Status: { State: o.state ?? 'ready', Addr: '192.168.1.5' },
  };
}

function service(id: string, spec: Partial<ServiceSpec> = {}): Service {
  return {
    ID: id, Version: { Index: 5 }, CreatedAt: '', UpdatedAt: '', Endpoint: { Spec: {} },
    Spec: { Name: id, Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'busybox' } }, ...spec },
  };
}

function tasks(s: Service, n: number): Task[] {
  return Array.from({ length: n }, (_, i) => ({ ...newTask(s, { slot: i + 1, desired: 'running' }, NOW), Version: { Index: 1 } }));
}

const services = (...list: Service[]) => new Map(list.map((s) => [s.ID, s]));

test('swarm IDs are 25 lowercase base-36 characters', () => {
  for (let i = 0; i < 50; i++) assert.match(newObjectID(), /^[0-9a-z]{25}$/);
});

test('new tasks snapshot the template without Runtime, state new "created", desired running, Volumes null', () => {
  const s = service('s1', { TaskTemplate: { ContainerSpec: { Image: 'x' }, Runtime: 'container' } });
  const t = newTask(s, { slot: 3, desired: 'running' }, NOW);
  assert.deepEqual(t.Spec, { ContainerSpec: { Image: 'x' } });
  assert.equal(t.Slot, 3);
  assert.equal(t.Status.State, 'new');
  assert.equal(t.Status.Message, 'created');
  assert.equal(t.Status.Timestamp, '2026-01-01T00:00:00.000Z');
  assert.equal(t.DesiredState, 'running');
  assert.equal(t.Volumes, null);
  assert.deepEqual(t.Labels, {});
  assert.equal(t.SpecVersion, 5);
  assert.equal(t.NodeID, undefined);
});

test('six tasks spread two per node over three nodes', () => {
  const s = service('web');
  const decisions = scheduleTasks([node('a'), node('b'), node('c')], [], services(s), tasks(s, 6), NOW);
  const per = new Map<string, number>();
  for (const d of decisions) {
    assert.ok('nodeID' in d);
    assert.equal(d.message, 'scheduler assigned task to node');
    per.set(d.nodeID, (per.get(d.nodeID) ?? 0) + 1);
  }
  assert.deepEqual([...per.values()], [2, 2, 2]);
});

test('spread counts the tasks already placed, of this service first', () => {
  const s = service('web');
  const placed = tasks(s, 2).map((t) => ({ ...t, NodeID: 'a', Status: { ...t.Status, State: 'running' as const } }));
  const [d] = scheduleTasks([node('a'), node('b')], placed, services(s), tasks(s, 1), NOW);
  assert.ok(d && 'nodeID' in d && d.nodeID === 'b');
});

test('a node counts against the first filter it fails; the texts are sorted by count', () => {
  const s = service('web', { TaskTemplate: { ContainerSpec: { Image: 'x' }, Placement: { Constraints: ['node.role==manager'] } } });
  const nodes = [node('a', { state: 'down' }), node('b'), node('c', { availability: 'drain' }), node('d', { role: 'worker' })];
  const [d] = scheduleTasks(nodes, [], services(s), tasks(s, 1), NOW);
  assert.deepEqual(d, { taskID: d!.taskID, err: 'no suitable node (2 nodes not available for new tasks; scheduling constraints not satisfied on 2 nodes)' });
  const [one] = scheduleTasks([node('a')], [], services(s), tasks(s, 1), NOW);
  assert.ok(one && 'err' in one && one.err === 'no suitable node (scheduling constraints not satisfied on 1 node)');
  const [none] = scheduleTasks([], [], services(s), tasks(s, 1), NOW);
  assert.ok(none && 'err' in none && none.err === 'no suitable node');
});

test('the texts of every filter', () => {
  assert.equal(explain([1, 0, 0, 0, 0, 0, 0]), 'no suitable node (1 node not available for new tasks)');
  assert.equal(explain([0, 2, 1, 0, 3, 0, 0]), 'no suitable node (unsupported platform on 3 nodes; insufficient resources on 2 nodes; missing plugin on 1 node)');
  assert.equal(explain([0, 0, 0, 0, 0, 4, 1]), 'no suitable node (host-mode port already in use on 4 nodes; max replicas per node limit exceed)');
});

test('resources: reservations count against what the node has left', () => {
  const s = service('big', { TaskTemplate: { ContainerSpec: { Image: 'x' }, Resources: { Reservations: { NanoCPUs: 1.5e9 } } } });
  const decisions = scheduleTasks([node('a'), node('b')], [], services(s), tasks(s, 3), NOW);
  assert.equal(decisions.filter((d) => 'nodeID' in d).length, 2);
  assert.deepEqual(decisions.filter((d) => 'err' in d).map((d) => 'err' in d && d.err), ['no suitable node (insufficient resources on 2 nodes)']);
});

test('max replicas per node and host-mode ports', () => {
  const s = service('mr', { TaskTemplate: { ContainerSpec: { Image: 'x' }, Placement: { MaxReplicas: 1 } } });
  const d = scheduleTasks([node('a'), node('b')], [], services(s), tasks(s, 3), NOW);
  assert.equal(d.filter((x) => 'err' in x && x.err === 'no suitable node (max replicas per node limit exceed)').length, 1);
  const hp = service('hp', { EndpointSpec: { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }] } });
  const e = scheduleTasks([node('a')], [], services(hp), tasks(hp, 2), NOW);
  assert.ok(e[1] && 'err' in e[1] && e[1].err === 'no suitable node (host-mode port already in use on 1 node)');
});

test('constraints: keys, case-insensitive equality, labels, node.ip CIDR, unknown keys match nothing', () => {
  const n = node('abc', { labels: { Disk: 'SSD' }, role: 'manager' });
  const ok = (expr: string) => constraintsMatch(n, parseConstraints([expr]));
  assert.ok(ok('node.role==manager'));
  assert.ok(ok('node.role == MANAGER'));
  assert.ok(ok('node.id==abc'));
  assert.ok(ok('node.hostname==host-abc'));
  assert.ok(ok('node.labels.Disk==ssd'));
  assert.ok(ok('node.labels.missing!=x'));
  assert.ok(ok('node.labels.missing=='));
  assert.ok(ok('engine.labels.zone==A'));
  assert.ok(ok('node.platform.os==linux'));
  assert.ok(ok('node.platform.arch==x86_64'));
  assert.ok(ok('node.ip==192.168.1.5'));
  assert.ok(ok('node.ip==192.168.0.0/16'));
  assert.ok(!ok('node.ip==10.0.0.0/8'));
  assert.ok(!ok('node.role!=manager'));
  assert.ok(!ok('node.labels.Disk==hdd'));
  assert.ok(!ok('node.colour==red'));
  assert.ok(!ok('node.role==m.*'), 'equality, not a regular expression');
  assert.throws(() => parseConstraints(['node.role=manager']));
});

test('platforms: amd64 matches x86_64', () => {
  const s = service('p', { TaskTemplate: { ContainerSpec: { Image: 'x' }, Placement: { Platforms: [{ Architecture: 'amd64', OS: 'linux' }] } } });
  assert.ok('nodeID' in scheduleTasks([node('a')], [], services(s), tasks(s, 1), NOW)[0]!);
  const arm = service('q', { TaskTemplate: { ContainerSpec: { Image: 'x' }, Placement: { Platforms: [{ Architecture: 'arm64' }] } } });
  const [d] = scheduleTasks([node('a')], [], services(arm), tasks(arm, 1), NOW);
  assert.ok(d && 'err' in d && d.err === 'no suitable node (unsupported platform on 1 node)');
});

test('placement preference spread=node.labels.az splits tasks evenly across label values', () => {
  const s = service('z', { TaskTemplate: { ContainerSpec: { Image: 'x' }, Placement: { Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.az' } }] } } });
  const nodes = [node('a1', { labels: { az: 'a' } }), node('a2', { labels: { az: 'a' } }), node('b1', { labels: { az: 'b' } })];
  const decisions = scheduleTasks(nodes, [], services(s), tasks(s, 4), NOW);
  const per = new Map<string, number>();
  for (const d of decisions) if ('nodeID' in d) per.set(d.nodeID, (per.get(d.nodeID) ?? 0) + 1);
  assert.equal(per.get('b1'), 2, 'half the tasks go to the only node of az=b');
  assert.equal((per.get('a1') ?? 0) + (per.get('a2') ?? 0), 2);
});

test('a preassigned (global) task is checked against its own node only', () => {
  const s = service('g', { Mode: { Global: {} } });
  const t = { ...newTask(s, { nodeID: 'a', desired: 'running' }, NOW), Version: { Index: 1 } };
  const [d] = scheduleTasks([node('a'), node('b')], [], services(s), [t], NOW);
  assert.deepEqual(d, { taskID: t.ID, nodeID: 'a', message: 'scheduler confirmed task can run on preassigned node' });
  const [e] = scheduleTasks([node('a', { availability: 'pause' }), node('b')], [], services(s), [t], NOW);
  assert.deepEqual(e, { taskID: t.ID, err: 'no suitable node (1 node not available for new tasks)' });
});
