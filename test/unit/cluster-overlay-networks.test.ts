// The manager side of swarm networks on the in-memory store: network objects as dockerd shows them (ingress,
// attachable, encrypted, in-use refusals in swarmkit's words), service endpoints (VIPs per network, ingress ports
// from the dynamic range, kept and freed across updates), task NetworksAttachments leased and freed by the manager's
// writes, and the encryption keyring's rotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdOverlayAllocator } from '../../src/cluster/overlay/allocator-etcd';
import { rotated, KEYS_KEPT, rotateIfDue } from '../../src/cluster/overlay/encryption-keys';
import { KEY_ROTATION_MS, overlayKeys, type EncryptionKeys } from '../../src/cluster/overlay/model';
import { SwarmNetworksApi, VXLANID_OPTION } from '../../src/cluster/overlay/networks-api';
import { allocateEndpoint, assignPorts, releaseEndpoint, releaseStale } from '../../src/cluster/overlay/service-endpoints';
import { TaskAttachments } from '../../src/cluster/overlay/task-attachments';
import { newTask } from '../../src/cluster/manager/task-factory';
import { ManagerWrites } from '../../src/cluster/manager/writes';
import { ObjectsStore } from '../../src/cluster/store/objects-store';
import type { Service, ServiceSpec } from '../../src/wire/swarm';
import { FakeClusterStore } from '../fakes/cluster-store';

function setup() {
  const store = new FakeClusterStore();
  const objects = new ObjectsStore(store);
  const allocator = new EtcdOverlayAllocator(store);
  return { store, objects, allocator, networks: new SwarmNetworksApi(objects, allocator, 'node1') };
}

async function addService(objects: ObjectsStore, spec: Partial<ServiceSpec> & { Name: string }, endpoint?: Service['Endpoint']): Promise<Service> {
  const full: ServiceSpec = { Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'busybox' } }, ...spec };
  return objects.create<Service>('services', { ID: `svc-${spec.Name}`, CreatedAt: '', UpdatedAt: '', Spec: full, Endpoint: endpoint ?? { Spec: full.EndpointSpec ?? {} } }, spec.Name);
}

test('networks: ingress at init and user overlays shown as dockerd shows them; one ingress; ingress not attachable', async () => {
  const { networks, store } = setup();
  const ingressId = await networks.createIngress();
  assert.equal(await networks.createIngress(), ingressId, 'init again keeps the one there');
  const { Id } = await networks.create({ Name: 'front', Driver: 'overlay', Attachable: true, Labels: { a: 'b' }, Options: { encrypted: '' } });
  const ingress = await networks.find('ingress');
  assert.deepEqual({ ...ingress, Id: '', Created: '' }, {
    Name: 'ingress', Id: '', Created: '', Scope: 'swarm', Driver: 'overlay', EnableIPv4: true, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '10.0.0.0/24', Gateway: '10.0.0.1' }] },
    Internal: false, Attachable: false, Ingress: true, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: null,
    Options: { [VXLANID_OPTION]: '4096' }, Labels: {},
  });
  const front = (await networks.find(Id.slice(0, 6)))!;
  assert.deepEqual([front.Attachable, front.Options, front.Labels, front.IPAM.Config], [true, { encrypted: '', [VXLANID_OPTION]: '4097' }, { a: 'b' }, [{ Subnet: '10.0.1.0/24', Gateway: '10.0.1.1' }]]);
  assert.ok(await store.get(overlayKeys.keys()), 'the first encrypted network makes the keyring');
  await assert.rejects(networks.create({ Name: 'x', Driver: 'overlay', Ingress: true, Attachable: true }), { message: 'rpc error: code = InvalidArgument desc = ingress network cannot be attachable' });
  await assert.rejects(networks.create({ Name: 'x', Driver: 'overlay', Ingress: true }), { message: `rpc error: code = AlreadyExists desc = ingress network (${ingressId}) is already present` });
  await assert.rejects(networks.create({ Name: 'front', Driver: 'overlay' }), /network with name front already exists/);
  await assert.rejects(networks.create({ Name: 'host', Driver: 'overlay' }), { message: 'host is a pre-defined network and cannot be created' });
  const sub = await networks.create({ Name: 'sub', Driver: 'overlay', Internal: true, IPAM: { Config: [{ Subnet: '10.9.0.0/16', Gateway: '10.9.0.254', IPRange: '10.9.1.0/24' }] } });
  const s = (await networks.find(sub.Id))!;
  assert.deepEqual([s.Internal, s.IPAM.Config], [true, [{ Subnet: '10.9.0.0/16', IPRange: '10.9.1.0/24', Gateway: '10.9.0.254' }]]);
  assert.deepEqual((await networks.resources()).map((n) => n.Name).sort(), ['front', 'ingress', 'sub']);
});

test('networks: removal refused while a service uses it (the ingress network while a service publishes); removal frees the subnet', async () => {
  const { networks, objects } = setup();
  await networks.createIngress();
  const { Id } = await networks.create({ Name: 'back', Driver: 'overlay' });
  const svc = await addService(objects, { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: Id }] }, EndpointSpec: { Ports: [{ TargetPort: 80, PublishMode: 'ingress' }] } });
  await assert.rejects(networks.remove('back'), { message: `rpc error: code = FailedPrecondition desc = network ${Id} is in use by service ${svc.ID}` });
  await assert.rejects(networks.remove('ingress'), { message: `rpc error: code = FailedPrecondition desc = ingress network cannot be removed because service ${svc.ID} depends on it` });
  await objects.remove('services', svc.ID, undefined, 'web');
  await networks.remove('ingress');
  await networks.remove('back');
  assert.deepEqual(await networks.list(), []);
  const again = await networks.create({ Name: 'again', Driver: 'overlay', Ingress: true });
  assert.deepEqual((await networks.find(again.Id))!.IPAM.Config, [{ Subnet: '10.0.0.0/24', Gateway: '10.0.0.1' }], 'the ingress subnet came back');
});

test('service endpoints: a VIP per overlay (ingress first when publishing), ingress ports from 30000, kept and freed across updates', async () => {
  const { networks, objects, allocator } = setup();
  await networks.createIngress();
  const a = (await networks.create({ Name: 'a', Driver: 'overlay' })).Id;
  const b = (await networks.create({ Name: 'b', Driver: 'overlay' })).Id;
  const all = await networks.list();
  const spec: ServiceSpec = {
    Name: 'web', Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: a }] },
    EndpointSpec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishMode: 'ingress' }, { Protocol: 'tcp', TargetPort: 81, PublishedPort: 8081, PublishMode: 'host' }] },
  };
  const first = await allocateEndpoint(allocator, 'S1', spec, undefined, all, []);
  const ingressId = all.find((n) => n.Overlay?.Ingress)!.ID;
  assert.deepEqual(first.endpoint, {
    Spec: spec.EndpointSpec,
    Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 30000, PublishMode: 'ingress' }, { Protocol: 'tcp', TargetPort: 81, PublishedPort: 8081, PublishMode: 'host' }],
    VirtualIPs: [{ NetworkID: ingressId, Addr: '10.0.0.2/24' }, { NetworkID: a, Addr: '10.0.1.2/24' }],
  });
  // Another service: the next dynamic port; asking for the first one's published port is refused.
  const other = await addService(objects, { ...spec, Name: 'web' }, first.endpoint);
  assert.equal(assignPorts({ ...spec, Name: 'api' }, undefined, [other])![0]!.PublishedPort, 30001);
  assert.throws(() => assignPorts({ ...spec, Name: 'api', EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 30000, PublishMode: 'ingress', Protocol: 'tcp' }] } }, undefined, [other]),
    { message: `rpc error: code = InvalidArgument desc = port '30000' is already in use by service 'web' (${other.ID}) as an ingress port` });
  // Update: moved from a to b → a's VIP stale, b's new; the dynamic port kept.
  const moved = { ...spec, TaskTemplate: { ...spec.TaskTemplate, Networks: [{ Target: b }] } };
  const second = await allocateEndpoint(allocator, 'S1', moved, first.endpoint, all, []);
  assert.deepEqual(second.endpoint.VirtualIPs, [{ NetworkID: ingressId, Addr: '10.0.0.2/24' }, { NetworkID: b, Addr: '10.0.2.2/24' }]);
  assert.equal(second.endpoint.Ports![0]!.PublishedPort, 30000);
  assert.deepEqual(second.stale, [a]);
  await releaseStale(allocator, 'S1', second.stale);
  assert.deepEqual((await allocator.leases(a)).map((l) => l.owner.kind), ['reserved']);
  // dnsrr: no VIPs at all.
  const dnsrr = { ...moved, EndpointSpec: { Mode: 'dnsrr' as const } };
  const third = await allocateEndpoint(allocator, 'S1', dnsrr, second.endpoint, all, []);
  assert.deepEqual([third.endpoint, third.stale.sort()], [{ Spec: { Mode: 'dnsrr' } }, [ingressId, b].sort()]);
  await releaseEndpoint(allocator, 'S1', second.endpoint);
  assert.deepEqual((await allocator.leases(b)).map((l) => l.owner.kind), ['reserved']);
});

test('tasks: NetworksAttachments leased when the manager creates the task (ingress first), freed when it deletes it', async () => {
  const { networks, objects, allocator } = setup();
  await networks.createIngress();
  const a = (await networks.create({ Name: 'a', Driver: 'overlay', Attachable: true })).Id;
  const svc = await addService(objects, { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: a }] }, EndpointSpec: { Ports: [{ TargetPort: 80, PublishMode: 'ingress' }] } });
  const writes = new ManagerWrites(objects, () => 0, new TaskAttachments(objects, allocator));
  const [t1, t2] = await Promise.all([writes.createTask(newTask(svc, { slot: 1, desired: 'running' }, 0)), writes.createTask(newTask(svc, { slot: 2, desired: 'running' }, 0))]);
  const att = t1!.NetworksAttachments!;
  assert.deepEqual(att.map((x) => (x.Network as { Spec: { Name: string } }).Spec.Name), ['ingress', 'a']);
  const ingressNet = att[0]!.Network as Record<string, unknown>;
  assert.deepEqual({ ...ingressNet, ID: '', Version: {}, CreatedAt: '', UpdatedAt: '' }, {
    ID: '', Version: {}, CreatedAt: '', UpdatedAt: '',
    Spec: { Name: 'ingress', Labels: {}, DriverConfiguration: {}, Ingress: true, IPAMOptions: { Driver: {} }, Scope: 'swarm' },
    DriverState: { Name: 'overlay', Options: { [VXLANID_OPTION]: '4096' } },
    IPAMOptions: { Driver: { Name: 'default' }, Configs: [{ Subnet: '10.0.0.0/24', Gateway: '10.0.0.1' }] },
  });
  assert.deepEqual((att[1]!.Network as { Spec: unknown }).Spec, { Name: 'a', Labels: {}, DriverConfiguration: { Name: 'overlay' }, Attachable: true, IPAMOptions: { Driver: {} }, Scope: 'swarm' });
  const ips = [...att, ...t2!.NetworksAttachments!].map((x) => x.Addresses[0]);
  assert.equal(new Set(ips).size, 4, 'two tasks created at once never share');
  assert.ok(ips.every((ip) => /^10\.0\.[01]\.\d+\/24$/.test(ip!)));
  await assert.rejects(networks.remove('a'), /is in use by service/);
  assert.ok(await writes.deleteTask(t1!));
  const owners = (await allocator.leases(a)).map((l) => (l.owner.kind === 'task' ? l.owner.taskId : l.owner.kind));
  assert.deepEqual(owners.sort(), [t2!.ID, 'reserved'].sort());
  // A service on no overlay: no attachments, no reads of the allocator's keys needed.
  const plain = await addService(objects, { Name: 'plain' });
  assert.equal((await writes.createTask(newTask(plain, { slot: 1, desired: 'running' }, 0))).NetworksAttachments, undefined);
});

test('encryption keys: a first generation, a new one every KEY_ROTATION_MS, three kept', async () => {
  let n = 0;
  const key = () => `k${++n}`;
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  let ring = rotated(undefined, t0, key)!;
  assert.deepEqual(ring.keys.map((k) => [k.generation, k.key]), [[1, 'k1']]);
  assert.equal(rotated(ring, t0 + KEY_ROTATION_MS - 1, key), undefined, 'not due yet');
  for (let i = 1; i <= 4; i++) ring = rotated(ring, t0 + i * KEY_ROTATION_MS, key)!;
  assert.equal(ring.keys.length, KEYS_KEPT);
  assert.deepEqual(ring.keys.map((k) => k.generation), [3, 4, 5]);
  const store = new FakeClusterStore();
  assert.equal(await rotateIfDue(store, t0), true);
  assert.equal(await rotateIfDue(store, t0 + 1000), false);
  assert.equal(await rotateIfDue(store, t0 + KEY_ROTATION_MS), true);
  const stored = JSON.parse((await store.get(overlayKeys.keys()))!.value) as EncryptionKeys;
  assert.deepEqual(stored.keys.map((k) => k.generation), [1, 2]);
  assert.match(stored.keys[0]!.key, /^[0-9a-f]{40}$/);
});
