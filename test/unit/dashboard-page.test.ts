// The dashboard page's logic that has no DOM (src/dashboard/web/model): Docker's multiplexed log frames, NDJSON
// streams, grouping and windowing of the containers table, the stats ring, layers and savings, events, actions.
import test from 'node:test';
import assert from 'node:assert/strict';
import { LogLineAssembler, StdcopyDemuxer, splitTimestamp } from '../../src/dashboard/web/model/stdcopy';
import { NdjsonSplitter } from '../../src/dashboard/web/model/ndjson';
import { groupOf, matchesFilter, tableRows } from '../../src/dashboard/web/model/grouping';
import { visibleRange } from '../../src/dashboard/web/model/window';
import { StatsHistory, pointsIn, type ContainerSample } from '../../src/dashboard/web/model/stats-history';
import { freedByRemoving, layerSizesFromHistory, layerTree, pruneCandidates, sharingSavings } from '../../src/dashboard/web/model/layers';
import { networkUsers, volumeUsers } from '../../src/dashboard/web/model/usage';
import { EventLog, Throttle, changesContainerList, eventMatches } from '../../src/dashboard/web/model/events';
import { healthOf, portLinks } from '../../src/dashboard/web/model/format';
import { actionRequest, actionsFor, CONSEQUENCE } from '../../src/dashboard/web/model/container-actions';
import { replicaCounts, tasksByNode } from '../../src/dashboard/web/model/cluster';
import type { ContainerSummary, EventMessage } from '../../src/wire/docker';
import type { Service, Task } from '../../src/wire/swarm';

function frame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

test('stdcopy: frames cut at any byte boundary come out whole, stdout and stderr apart', () => {
  const bytes = Buffer.concat([frame(1, 'hello\n'), frame(2, 'oops\n'), frame(1, 'wörld\n')]);
  for (let cut = 1; cut < bytes.length; cut++) {
    const demux = new StdcopyDemuxer();
    const frames = [...demux.push(bytes.subarray(0, cut)), ...demux.push(bytes.subarray(cut))];
    assert.deepEqual(frames.map((f) => [f.stream, Buffer.from(f.data).toString()]), [['stdout', 'hello\n'], ['stderr', 'oops\n'], ['stdout', 'wörld\n']], `cut at ${cut}`);
  }
});

test('stdcopy: a stream that is not multiplexed is refused, not misread', () => {
  assert.throws(() => new StdcopyDemuxer().push(Buffer.from('plain text output\n')), /not a multiplexed stream/);
});

test('log lines: assembled per stream across frames, UTF-8 split mid-character, timestamps split off', () => {
  const asm = new LogLineAssembler();
  const euro = Buffer.from('2026-12-07T07:15:47.123456789Z price 5€\n');
  const first = asm.push('stdout', euro.subarray(0, euro.length - 2));
  assert.deepEqual(first, []);
  assert.deepEqual(asm.push('stderr', Buffer.from('2026-12-07T07:15:48Z err\r\npartial')), [{ stream: 'stderr', time: '2026-12-07T07:15:48Z', text: 'err' }]);
  assert.deepEqual(asm.push('stdout', euro.subarray(euro.length - 2)), [{ stream: 'stdout', time: '2026-12-07T07:15:47.123456789Z', text: 'price 5€' }]);
  assert.deepEqual(asm.flush(), [{ stream: 'stderr', time: '', text: 'partial' }]);
  assert.deepEqual(splitTimestamp('no timestamp here'), { time: '', text: 'no timestamp here' });
});

test('ndjson: values split across chunks; a line that is not JSON is skipped', () => {
  const s = new NdjsonSplitter<{ a: number }>();
  assert.deepEqual(s.push(Buffer.from('{"a":1}\n{"a"')), [{ a: 1 }]);
  assert.deepEqual(s.push(Buffer.from(':2}\n<html>\n\n{"a":3}\n')), [{ a: 2 }, { a: 3 }]);
});

function ctr(name: string, labels: Record<string, string> = {}, state = 'running', extra: Partial<ContainerSummary> = {}): ContainerSummary {
  return { Id: `${name}-id`, Names: [`/${name}`], Image: 'busybox', ImageID: 'sha256:bb', Command: 'sh', Created: 0, Ports: [], Labels: labels, State: state, Status: 'Up 1 second', HostConfig: { NetworkMode: 'bridge' }, NetworkSettings: { Networks: {} }, Mounts: [], ...extra };
}

test('grouping: compose projects, then services, then the rest; a stack task groups under its project', () => {
  const rows = tableRows([
    ctr('zeta'), ctr('web-1', { 'com.docker.compose.project': 'shop' }, 'exited'), ctr('api.1.x', { 'com.docker.swarm.service.name': 'api' }),
    ctr('db-1', { 'com.docker.compose.project': 'shop' }), ctr('alpha'),
    ctr('st.1', { 'com.docker.compose.project': 'stack', 'com.docker.swarm.service.name': 'stack_web' }),
  ]);
  assert.deepEqual(rows.map((r) => (r.type === 'group' ? `[${r.kind}:${r.name} ${r.running}/${r.count}]` : r.container.Names[0])),
    ['[compose:shop 1/2]', '/db-1', '/web-1', '[compose:stack 1/1]', '/st.1', '[service:api 1/1]', '/api.1.x', '/alpha', '/zeta']);
  assert.equal(groupOf(ctr('x')), undefined);
  assert.ok(matchesFilter(ctr('x', { note: '<b>HTML</b>' }), 'html'));
  assert.ok(!matchesFilter(ctr('x'), 'nothing-like-it'));
});

test('window: only the rows in view (and the overscan) of 1,000', () => {
  assert.deepEqual(visibleRange(0, 340, 34, 1000, 5), { start: 0, end: 16 });
  assert.deepEqual(visibleRange(34 * 500, 340, 34, 1000, 5), { start: 495, end: 516 });
  assert.deepEqual(visibleRange(34 * 999, 340, 34, 1000, 5), { start: 994, end: 1000 });
  assert.deepEqual(visibleRange(0, 340, 34, 0), { start: 0, end: 0 });
});

const sample = (id: string, s: Partial<ContainerSample> = {}): ContainerSample => ({ Id: id, Name: id, Pids: 1, CPUPercent: 1, MemoryUsage: 100, MemoryLimit: 1000, NetRx: 0, NetTx: 0, BlockRead: 0, BlockWrite: 0, ...s });

test('stats history: one ring of ticks for all containers, counters become rates, gaps stay gaps', () => {
  const h = new StatsHistory(3);
  h.push({ time: '2026-12-07T00:00:00Z', containers: [sample('a', { NetRx: 1000 }), sample('b')] });
  h.push({ time: '2026-12-07T00:00:02Z', containers: [sample('a', { NetRx: 3000, CPUPercent: 50 })] });
  let s = h.series('a');
  assert.deepEqual(s.cpu, [1, 50]);
  assert.deepEqual(s.netRx, [null, 1000]); // (3000-1000) bytes over 2 s
  assert.deepEqual(h.series('b').cpu, [1, null]);
  assert.equal(h.latest('b'), undefined, 'b was not in the last tick');
  h.push({ time: '2026-12-07T00:00:03Z', containers: [sample('a', { NetRx: 10 })] }); // restarted: the counter went down
  h.push({ time: '2026-12-07T00:00:04Z', containers: [sample('a', { NetRx: 20 })] });
  s = h.series('a');
  assert.deepEqual(s.time, [Date.parse('2026-12-07T00:00:02Z') / 1000, Date.parse('2026-12-07T00:00:03Z') / 1000, Date.parse('2026-12-07T00:00:04Z') / 1000]);
  assert.deepEqual(s.netRx, [1000, null, 10]);
  assert.equal(pointsIn(s.netRx), 2);
  assert.deepEqual(h.ids(), ['a'], 'b, absent for the whole window, is dropped');
  assert.equal(h.series('a', 2).cpu.length, 2);
  h.push({ time: 'not a time', containers: [sample('a')] });
  assert.equal(h.series('a').time.length, 3, 'a tick without a time is ignored');
});

test('layers: a tree over shared chains, the savings, what removal and prune free', () => {
  const tree = layerTree([
    { id: 'i1', names: ['app:1'], layers: ['base', 'deps', 'app1'], layerSizes: [100, 50, 5] },
    { id: 'i2', names: ['app:2'], layers: ['base', 'deps', 'app2'], layerSizes: [100, 50, 7] },
    { id: 'i3', names: ['other'], layers: ['other'], layerSizes: [] },
  ]);
  assert.equal(tree.length, 2);
  assert.equal(tree[0]!.layer, 'base');
  assert.equal(tree[0]!.users, 2);
  assert.deepEqual(tree[0]!.children[0]!.children.map((n) => [n.layer, n.images[0]!.names[0]]), [['app1', 'app:1'], ['app2', 'app:2']]);
  const images = [{ Id: 'i1', Size: 155, SharedSize: 150, RepoTags: ['app:1'] }, { Id: 'i2', Size: 157, SharedSize: 150, RepoTags: ['app:2'] }, { Id: 'i3', Size: 9, SharedSize: 0, RepoTags: ['<none>:<none>'] }];
  assert.deepEqual(sharingSavings(images, tree), { total: 321, onDisk: 171, saved: 150 });
  assert.equal(freedByRemoving(images[0]!), 5);
  assert.deepEqual(pruneCandidates(images, new Set()), { ids: ['i3'], freed: 9 });
  assert.deepEqual(pruneCandidates(images, new Set(['i3'])), { ids: [], freed: 0 });
  assert.deepEqual(layerSizesFromHistory([{ Size: 5 }, { Size: 0 }, { Size: 100 }], 2), [100, 5]);
  assert.deepEqual(layerSizesFromHistory([{ Size: 5 }], 2), [], 'no guess when history and layers do not match');
});

test('usage: volumes and networks with the containers using them', () => {
  const cs = [
    ctr('a', {}, 'running', { Mounts: [{ Type: 'volume', Name: 'data', Source: '', Destination: '/d', Mode: '', RW: true, Propagation: '' }], NetworkSettings: { Networks: { bridge: { NetworkID: 'n1' } as never } } }),
    ctr('b', {}, 'exited', { Mounts: [{ Type: 'bind', Source: '/x', Destination: '/x', Mode: '', RW: true, Propagation: '' }], NetworkSettings: { Networks: { bridge: { NetworkID: 'n1' } as never } } }),
  ];
  assert.deepEqual([...volumeUsers(cs)], [['data', ['a']]]);
  assert.deepEqual(networkUsers(cs).get('n1'), ['a', 'b']);
  assert.deepEqual(networkUsers(cs).get('bridge'), ['a', 'b']);
});

const ev = (Type: EventMessage['Type'], Action: string, name: string): EventMessage => ({ Type, Action, Actor: { ID: `${name}-id`, Attributes: { name, image: 'busybox' } }, scope: 'local', time: 1, timeNano: 1e9 });

test('events: bounded newest-first log, word filter, which events refetch the list', () => {
  const log = new EventLog(2);
  log.add(ev('container', 'create', 'a'));
  log.add(ev('container', 'start', 'a'));
  log.add(ev('network', 'connect', 'bridge'));
  assert.deepEqual(log.list().map((e) => e.Action), ['connect', 'start']);
  assert.ok(eventMatches(ev('container', 'start', 'web'), 'container WEB'));
  assert.ok(!eventMatches(ev('container', 'start', 'web'), 'container db'));
  assert.ok(changesContainerList(ev('container', 'die', 'a')));
  assert.ok(!changesContainerList(ev('container', 'exec_start: sh', 'a')));
  assert.ok(!changesContainerList(ev('image', 'pull', 'a')));
});

test('throttle: a burst of requests runs once at once and once at the end of the interval', async () => {
  let now = 0;
  let runs = 0;
  const t = new Throttle(() => runs++, 40, () => now);
  t.request();
  assert.equal(runs, 1);
  for (let i = 0; i < 50; i++) t.request();
  assert.equal(runs, 1);
  now = 40;
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(runs, 2);
  now = 100;
  t.request();
  assert.equal(runs, 3, 'the interval had passed: ran at once');
  t.request();
  t.cancel();
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(runs, 3, 'a cancelled request does not run');
});

test('format: health from the status, ports as links (wildcards at the browser host, one per port)', () => {
  assert.equal(healthOf('Up 3 minutes (healthy)'), 'healthy');
  assert.equal(healthOf('Up 3 seconds (health: starting)'), 'starting');
  assert.equal(healthOf('Exited (0) 1 second ago'), '');
  assert.deepEqual(portLinks([
    { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }, { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
    { IP: '127.0.0.1', PrivatePort: 53, PublicPort: 5353, Type: 'udp' }, { PrivatePort: 9000, Type: 'tcp' }, { IP: '::1', PrivatePort: 1, PublicPort: 2, Type: 'tcp' },
  ], 'example.test'), [
    { label: '2→1/tcp', href: 'http://[::1]:2/' }, { label: '5353→53/udp' }, { label: '8080→80/tcp', href: 'http://example.test:8080/' }, { label: '9000/tcp' },
  ]);
});

test('actions: by state, destructive ones ask, the API call of each', () => {
  assert.deepEqual(actionsFor('running'), ['stop', 'restart', 'pause', 'kill', 'remove']);
  assert.deepEqual(actionsFor('exited'), ['start', 'remove']);
  assert.deepEqual(actionsFor('paused'), ['unpause', 'kill', 'remove']);
  assert.deepEqual(Object.entries(CONSEQUENCE).filter(([, why]) => why).map(([a]) => a), ['stop', 'restart', 'kill', 'remove']);
  assert.deepEqual(actionRequest('stop', 'a/b'), ['POST', '/containers/a%2Fb/stop']);
  assert.deepEqual(actionRequest('remove', 'x'), ['DELETE', '/containers/x?force=1']);
});

test('cluster: replicas from ServiceStatus or counted from tasks; tasks per node', () => {
  const svc = { ID: 's1', Spec: { Name: 'web', Mode: { Replicated: { Replicas: 3 } } } } as unknown as Service;
  const task = (id: string, node: string, state: string, desired = 'running') => ({ ID: id, ServiceID: 's1', NodeID: node, Status: { State: state }, DesiredState: desired }) as unknown as Task;
  const tasks = [task('t1', 'n1', 'running'), task('t2', 'n2', 'running'), task('t3', 'n1', 'shutdown', 'shutdown'), task('t4', 'n2', 'preparing')];
  assert.deepEqual(replicaCounts(svc, tasks), { running: 2, desired: 3 });
  assert.deepEqual(replicaCounts({ ...svc, ServiceStatus: { RunningTasks: 1, DesiredTasks: 1, CompletedTasks: 0 } }, tasks), { running: 1, desired: 1 });
  assert.deepEqual([...tasksByNode(tasks)].map(([n, ts]) => [n, ts.map((t) => t.ID)]), [['n1', ['t1']], ['n2', ['t2', 't4']]]);
});
