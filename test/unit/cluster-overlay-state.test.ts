// The node's desired overlay state (src/cluster/overlay/node-state.ts): presence of networks, peers, DNS lines,
// VIP and ingress rules, tunnels, from a made-up swarm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredNodeState, type SwarmView } from '../../src/cluster/overlay/node-state';

import { endpoint, overlayNetwork } from '../fakes/overlay-swarm';
import type { Service } from '../../src/wire/swarm';

const INGRESS = 'ing0000000000000000000000';
const NET = 'net1111111111111111111111';
const OTHER = 'net2222222222222222222222';

function service(id: string, name: string, o: { vips?: [string, string][]; mode?: 'vip' | 'dnsrr'; nets?: string[]; ports?: Service['Endpoint']['Ports'] } = {}): Service {
  return {
    ID: id, Version: { Index: 1 }, CreatedAt: '', UpdatedAt: '',
    Spec: { Name: name, TaskTemplate: { Networks: (o.nets ?? []).map((Target) => ({ Target })) }, EndpointSpec: { Mode: o.mode ?? 'vip' } },
    Endpoint: { Spec: { Mode: o.mode ?? 'vip' }, Ports: o.ports, VirtualIPs: (o.vips ?? []).map(([NetworkID, Addr]) => ({ NetworkID, Addr })) },
  } as Service;
}

function view(o: Partial<SwarmView> = {}): SwarmView {
  return {
    nodeId: 'node1', nodeAddr: '192.168.0.1', underlayMtu: 1500,
    networks: [overlayNetwork(INGRESS, 'ingress', '10.0.0.0/24', { Ingress: true }), overlayNetwork(NET, 'web', '10.0.1.0/24'), overlayNetwork(OTHER, 'other', '10.0.2.0/24')],
    services: [], alive: new Set(['node1', 'node2', 'node3']),
    nodeAddrs: new Map([['node1', '192.168.0.1'], ['node2', '192.168.0.2'], ['node3', '192.168.0.3']]),
    endpoints: [],
    lbs: new Map([[INGRESS, new Map([['node1', '10.0.0.2'], ['node2', '10.0.0.3']])], [NET, new Map([['node1', '10.0.1.2'], ['node2', '10.0.1.3']])]]),
    keys: undefined, attached: new Map(), leaving: new Set(), ...o,
  };
}

test('ingress is present with no local endpoint; other networks only with one', () => {
  const s = desiredNodeState(view());
  assert.deepEqual(s.networks.map((n) => n.link.networkId), [INGRESS]);
  const ing = s.networks[0]!;
  assert.equal(ing.link.bridge, 'bo-ing000000000');
  assert.equal(ing.link.gateway, '10.0.0.1/24');
  assert.equal(ing.link.mtu, 1450);
  assert.equal(ing.link.port, 4789);
  assert.deepEqual(ing.extraAddrs, ['10.0.0.2/24']);
  assert.deepEqual(ing.peers, [{ ip: '10.0.0.3', mac: '02:42:0a:00:00:03', nodeAddr: '192.168.0.2' }]);
  assert.deepEqual(ing.dns, [], 'no names on ingress');

  const withLocal = desiredNodeState(view({ endpoints: [endpoint(NET, 'node1', '10.0.1.10')] }));
  assert.deepEqual(withLocal.networks.map((n) => n.link.networkId), [INGRESS, NET]);
  const joining = desiredNodeState(view({ attached: new Map([[OTHER, 1]]) }));
  assert.deepEqual(joining.networks.map((n) => n.link.networkId), [INGRESS, OTHER]);
  assert.deepEqual(joining.needLb, [OTHER], 'a network without this node\'s LB address asks for one');
});

test('a network whose local containers are all leaving is held, neither made nor removed', () => {
  const s = desiredNodeState(view({ endpoints: [endpoint(NET, 'node1', '10.0.1.10')], leaving: new Set([NET]) }));
  assert.deepEqual(s.networks.map((n) => n.link.networkId), [INGRESS]);
  assert.deepEqual(s.hold, [NET]);
});

test('peers: endpoints and LB addresses of other alive nodes; dead nodes are dropped', () => {
  const endpoints = [endpoint(NET, 'node1', '10.0.1.10'), endpoint(NET, 'node2', '10.0.1.11'), endpoint(NET, 'node3', '10.0.1.12')];
  const alive = desiredNodeState(view({ endpoints })).networks.find((n) => n.link.networkId === NET)!;
  assert.deepEqual(alive.peers.map((p) => p.ip), ['10.0.1.11', '10.0.1.12', '10.0.1.3']);
  const dead = desiredNodeState(view({ endpoints, alive: new Set(['node1', 'node3']) })).networks.find((n) => n.link.networkId === NET)!;
  assert.deepEqual(dead.peers.map((p) => p.ip), ['10.0.1.12'], 'node2 is dead: its endpoint and LB address go');
  assert.ok(!dead.dns.some((r) => r.ips.includes('10.0.1.11')));
});

test('DNS: remote endpoints by name, aliases and short ID; local ones are netavark\'s', () => {
  const remote = endpoint(NET, 'node2', '10.0.1.11', { name: 'web.1.abc', aliases: ['api'] });
  const s = desiredNodeState(view({ endpoints: [endpoint(NET, 'node1', '10.0.1.10'), remote] }));
  const dns = s.networks.find((n) => n.link.networkId === NET)!.dns;
  assert.deepEqual(dns.map((r) => [r.names, r.ips]), [[['web.1.abc', 'api', remote.containerId.slice(0, 12)], ['10.0.1.11']]]);
  assert.ok(dns.every((r) => r.key.startsWith('ovr')));
});

test('vip mode: the name → VIP, a /32 on the bridge, a VIP rule to serving tasks of alive nodes; tasks.<name> → serving tasks', () => {
  const svc = service('svc1', 'web', { vips: [[NET, '10.0.1.5/24']], nets: [NET] });
  const endpoints = [
    endpoint(NET, 'node1', '10.0.1.10', { serviceId: 'svc1' }),
    endpoint(NET, 'node2', '10.0.1.11', { serviceId: 'svc1' }),
    endpoint(NET, 'node2', '10.0.1.12', { serviceId: 'svc1', serving: false }),
    endpoint(NET, 'node3', '10.0.1.13', { serviceId: 'svc1' }),
  ];
  const s = desiredNodeState(view({ services: [svc], endpoints, alive: new Set(['node1', 'node2']) }));
  const net = s.networks.find((n) => n.link.networkId === NET)!;
  assert.deepEqual(net.extraAddrs, ['10.0.1.2/24', '10.0.1.5/32']);
  const names = Object.fromEntries(net.dns.filter((r) => r.names.length === 1).map((r) => [r.names[0], r.ips]));
  assert.deepEqual(names['web'], ['10.0.1.5']);
  assert.deepEqual(names['tasks.web'], ['10.0.1.10', '10.0.1.11'], 'unhealthy and dead-node tasks are not served');
  assert.deepEqual(s.mesh.vips, [{ serviceId: 'svc1', vip: '10.0.1.5', bridge: 'bo-net111111111', lbAddr: '10.0.1.2', backends: ['10.0.1.10', '10.0.1.11'] }]);
});

test('dnsrr mode: the name → every serving task, no VIP rule', () => {
  const svc = service('svc2', 'db', { mode: 'dnsrr', nets: ['web'] });
  const endpoints = [endpoint(NET, 'node1', '10.0.1.10', { serviceId: 'svc2' }), endpoint(NET, 'node2', '10.0.1.11', { serviceId: 'svc2' })];
  const s = desiredNodeState(view({ services: [svc], endpoints }));
  const net = s.networks.find((n) => n.link.networkId === NET)!;
  const names = Object.fromEntries(net.dns.filter((r) => r.names.length === 1).map((r) => [r.names[0], r.ips]));
  assert.deepEqual(names['db'], ['10.0.1.10', '10.0.1.11']);
  assert.deepEqual(names['tasks.db'], ['10.0.1.10', '10.0.1.11']);
  assert.deepEqual(s.mesh.vips, []);
  assert.deepEqual(net.extraAddrs, ['10.0.1.2/24']);
});

test('ingress rules: published ingress ports to serving tasks on ingress, local flag; host mode is not the mesh\'s', () => {
  const svc = service('svc1', 'web', {
    ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }, { Protocol: 'udp', TargetPort: 53, PublishedPort: 5353, PublishMode: 'host' }],
  });
  const endpoints = [
    endpoint(INGRESS, 'node1', '10.0.0.10', { serviceId: 'svc1' }),
    endpoint(INGRESS, 'node2', '10.0.0.11', { serviceId: 'svc1' }),
    endpoint(INGRESS, 'node3', '10.0.0.12', { serviceId: 'svc1' }),
    endpoint(INGRESS, 'node2', '10.0.0.13', { serviceId: 'svc1', serving: false }),
  ];
  const s = desiredNodeState(view({ services: [svc], endpoints, alive: new Set(['node1', 'node2']) }));
  assert.deepEqual(s.mesh.ingress, [{
    serviceId: 'svc1', proto: 'tcp', publishedPort: 8080, targetPort: 80, bridge: 'bo-ing000000000', lbAddr: '10.0.0.2',
    backends: [{ ip: '10.0.0.10', local: true }, { ip: '10.0.0.11', local: false }],
  }]);
});

test('no LB address yet: no rules that need it', () => {
  const svc = service('svc1', 'web', { vips: [[NET, '10.0.1.5/24']], ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080 }] });
  const s = desiredNodeState(view({ services: [svc], lbs: new Map(), attached: new Map([[NET, 1]]) }));
  assert.deepEqual(s.mesh, { vips: [], ingress: [] });
  assert.deepEqual(s.needLb, [INGRESS, NET]);
});

test('encrypted networks: port 4790 and a tunnel to each node with a peer there; both ends agree on keys', () => {
  const enc = overlayNetwork(NET, 'secret', '10.0.1.0/24', { Encrypted: true });
  const keys = { keys: [{ generation: 1, key: '01'.repeat(32), createdAt: '' }, { generation: 2, key: '02'.repeat(32), createdAt: '' }] };
  const s = desiredNodeState(view({ networks: [overlayNetwork(INGRESS, 'ingress', '10.0.0.0/24', { Ingress: true }), enc], endpoints: [endpoint(NET, 'node1', '10.0.1.10'), endpoint(NET, 'node3', '10.0.1.12')], keys }));
  assert.equal(s.networks.find((n) => n.link.networkId === NET)!.link.port, 4790);
  assert.deepEqual([...new Set(s.tunnels.map((t) => t.remoteAddr))], ['192.168.0.2', '192.168.0.3']);
  const toNode3 = s.tunnels.filter((t) => t.remoteAddr === '192.168.0.3');
  assert.deepEqual(toNode3.map((t) => !!t.inboundOnly), [false, true], 'the newest generation sends, the older one only receives');
  assert.deepEqual(desiredNodeState(view({ keys })).tunnels, [], 'no encrypted network here: no tunnels');
});

test('alone in the swarm: links are solo (no VXLAN device); with another node known, even down, they are not', () => {
  const alone = desiredNodeState(view({ nodeAddrs: new Map([['node1', '192.168.0.1']]), alive: new Set(['node1']) }));
  assert.equal(alone.networks[0]!.link.solo, true);
  const twoOneDown = desiredNodeState(view({ nodeAddrs: new Map([['node1', '192.168.0.1'], ['node2', '192.168.0.2']]), alive: new Set(['node1']) }));
  assert.equal(twoOneDown.networks[0]!.link.solo, undefined);
});
