// `berth node ls`, `service ls` and `service ps` tables from fake API answers: docker's columns, the self
// marker, replicas and ports columns, task names with history indented, and -q.
import test from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main';
import { displayImage, servicePorts, taskRows } from '../../src/cli/swarm/render';
import type { Node, Service, Task } from '../../src/wire/swarm';
import { swarmDaemon } from '../fakes/swarm-daemon';

const node = (id: string, host: string, extra: Partial<Node> = {}): Node => ({
  ID: id, Version: { Index: 1 }, CreatedAt: '', UpdatedAt: '',
  Spec: { Labels: {}, Role: 'manager', Availability: 'active' },
  Description: { Hostname: host, Platform: { Architecture: 'x86_64', OS: 'linux' }, Resources: { NanoCPUs: 1e9, MemoryBytes: 1 }, Engine: { EngineVersion: '28.5.2', Plugins: [] }, TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' } },
  Status: { State: 'ready', Addr: '10.0.0.1' }, ...extra,
});

test('node ls: self marked with *, sorted by hostname, manager status capitalised', async () => {
  const nodes = [
    node('bbbbbbbbbbbbbbbbbbbbbbbbb', 'node10', { Spec: { Labels: {}, Role: 'worker', Availability: 'drain' }, Status: { State: 'down', Addr: '' } }),
    node('aaaaaaaaaaaaaaaaaaaaaaaaa', 'node2', { ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: '10.0.0.1:2377' } }),
    node('ccccccccccccccccccccccccc', 'node3', { ManagerStatus: { Reachability: 'unreachable', Addr: '10.0.0.3:2377' } }),
  ];
  const d = await swarmDaemon({ 'GET /nodes': () => nodes, 'GET /info': () => ({ Swarm: { NodeID: 'aaaaaaaaaaaaaaaaaaaaaaaaa' } }) });
  assert.equal(await main(d.argv('node', 'ls'), d.cli), 0);
  assert.equal(d.out(), [
    'ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION',
    'aaaaaaaaaaaaaaaaaaaaaaaaa *   node2      Ready     Active         Leader           28.5.2',
    'ccccccccccccccccccccccccc     node3      Ready     Active         Unreachable      28.5.2',
    'bbbbbbbbbbbbbbbbbbbbbbbbb     node10     Down      Drain                           28.5.2',
    '',
  ].join('\n'));
  const before = d.out().length;
  assert.equal(await main(d.argv('node', 'ls', '-q'), d.cli), 0);
  assert.equal(await main(d.argv('node', 'ls', '--format', '{{.Self}} {{.Status}} {{.Availability}} {{.ManagerStatus}}', '-f', 'role=manager'), d.cli), 0);
  await d.close();
  assert.equal(d.out().slice(before), 'aaaaaaaaaaaaaaaaaaaaaaaaa\nccccccccccccccccccccccccc\nbbbbbbbbbbbbbbbbbbbbbbbbb\n'
    + 'true Ready Active Leader\nfalse Ready Active Unreachable\nfalse Down Drain \n');
  assert.equal(d.log.filter((r) => r.path === '/info').length, 2, '-q does not ask /info');
  assert.deepEqual(JSON.parse(d.log.at(-2)!.query.filters!), { role: { manager: true } });
});

const service = (id: string, name: string, extra: Partial<Service> = {}): Service => ({
  ID: id, Version: { Index: 3 }, CreatedAt: '', UpdatedAt: '',
  Spec: { Name: name, Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'nginx:1.27@sha256:abcd' } }, Mode: { Replicated: { Replicas: 3 } } },
  Endpoint: { Spec: {} }, ServiceStatus: { RunningTasks: 2, DesiredTasks: 3, CompletedTasks: 0 }, ...extra,
});

test('service ls: ID NAME MODE REPLICAS IMAGE PORTS with status=true', async () => {
  const list = [
    service('zz0123456789abcdefghijklm', 'web', { Endpoint: { Spec: {}, Ports: [
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
      { Protocol: 'tcp', TargetPort: 81, PublishedPort: 8081, PublishMode: 'ingress' },
      { Protocol: 'udp', TargetPort: 53, PublishedPort: 53, PublishMode: 'host' }] } }),
    service('aa0123456789abcdefghijklm', 'agent', { Spec: { Name: 'agent', Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'busybox' } }, Mode: { Global: {} } }, ServiceStatus: { RunningTasks: 1, DesiredTasks: 1, CompletedTasks: 0 } }),
  ];
  const d = await swarmDaemon({ 'GET /services': () => list });
  assert.equal(await main(d.argv('service', 'ls'), d.cli), 0);
  await d.close();
  assert.equal(d.log[0]!.query.status, 'true');
  assert.equal(d.out(), [
    'ID             NAME      MODE         REPLICAS   IMAGE        PORTS',
    'aa0123456789   agent     global       1/1        busybox      ',
    'zz0123456789   web       replicated   2/3        nginx:1.27   *:8080-8081->80-81/tcp',
    '',
  ].join('\n'));
});

test('ports, images and replicas as docker shows them', () => {
  assert.equal(servicePorts([
    { Protocol: 'tcp', TargetPort: 80, PublishedPort: 80, PublishMode: 'ingress' },
    { Protocol: 'tcp', TargetPort: 80, PublishedPort: 81, PublishMode: 'ingress' },
    { Protocol: 'udp', TargetPort: 80, PublishedPort: 80, PublishMode: 'ingress' },
  ]), '*:80-81->80/tcp, *:80->80/udp');
  assert.equal(displayImage('nginx@sha256:abcd'), 'nginx@sha256:abcd');
  assert.equal(displayImage('docker.io/library/redis:7@sha256:ab'), 'redis:7');
  assert.equal(displayImage('localhost:5000/app'), 'localhost:5000/app');
});

const task = (id: string, slot: number, created: string, state: Task['Status']['State'], desired: Task['DesiredState'], err?: string): Task => ({
  ID: id, Version: { Index: 1 }, CreatedAt: created, UpdatedAt: created, Labels: {}, Spec: { ContainerSpec: { Image: 'busybox:latest@sha256:ff' } },
  ServiceID: 'svc1', Slot: slot, NodeID: 'n1', DesiredState: desired, Volumes: null,
  Status: { Timestamp: new Date(Date.now() - 65_000).toISOString(), State: state, Message: '', PortStatus: {}, ...(err ? { Err: err } : {}) },
});

test('service ps: names svc.slot, history indented, node names, errors quoted and cut', async () => {
  const tasks = [
    task('t20000000000000000000000', 2, '2025-01-01T00:00:02Z', 'running', 'running'),
    task('t1old0000000000000000000', 1, '2025-01-01T00:00:00Z', 'failed', 'shutdown', 'task: non-zero exit (1): and a much longer explanation'),
    task('t1new0000000000000000000', 1, '2025-01-01T00:00:05Z', 'running', 'running'),
  ];
  const d = await swarmDaemon({
    'GET /services/web': () => ({ ID: 'svc1', Spec: { Name: 'web' } }),
    'GET /services/svc1': () => ({ ID: 'svc1', Spec: { Name: 'web' } }),
    'GET /tasks': () => tasks,
    'GET /nodes/n1': () => node('n1', 'node-one'),
    'GET /services/nope': () => ({ status: 404, body: { message: 'service nope not found' } }),
  });
  assert.equal(await main(d.argv('service', 'ps', 'web'), d.cli), 0);
  assert.deepEqual(JSON.parse(d.log.find((r) => r.path === '/tasks')!.query.filters!), { service: { svc1: true } });
  assert.equal(d.out(), [
    'ID             NAME        IMAGE            NODE       DESIRED STATE   CURRENT STATE                ERROR                              PORTS',
    't1new0000000   web.1       busybox:latest   node-one   Running         Running about a minute ago                                      ',
    't1old0000000    \\_ web.1   busybox:latest   node-one   Shutdown        Failed about a minute ago    "task: non-zero exit (1): and …"   ',
    't20000000000   web.2       busybox:latest   node-one   Running         Running about a minute ago                                      ',
    '',
  ].join('\n'));
  assert.equal(await main(d.argv('service', 'ps', 'nope'), d.cli), 1);
  await d.close();
  assert.match(d.err(), /no such service: nope/);
});

test('task rows: global tasks are named by node ID', () => {
  const t = { ...task('g1', 0, '2025-01-01T00:00:00Z', 'running', 'running'), Slot: undefined };
  const rows = taskRows([t], { service: () => 'agent', node: () => 'host' }, { trunc: true, table: true });
  assert.equal(rows[0]!.Name, 'agent.n1');
});
