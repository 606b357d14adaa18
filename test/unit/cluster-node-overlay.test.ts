// NodeOverlay (src/cluster/overlay/node-overlay.ts) with fake adapters, a fake allocator and the in-memory store:
// the order of host effects around a container's join and leave, the kill -9 reconcile, cleanup on leave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClusterStore } from '../fakes/cluster-store';
import { NodeOverlay } from '../../src/cluster/overlay/node-overlay';
import { overlayKeys, type AddressOwner, type OverlayConfig } from '../../src/cluster/overlay/model';
import type { OverlayAllocator } from '../../src/cluster/overlay/allocator';
import type { OverlayHost, OverlayLink, OverlayPeer } from '../../src/network/overlay/host-overlay';
import type { MeshRules, MeshState } from '../../src/network/overlay/mesh';
import type { DnsRecord, OverlayDns } from '../../src/network/overlay/overlay-dns';
import type { IpsecTunnel, IpsecTunnels } from '../../src/network/overlay/xfrm';
import { objectKey } from '../../src/cluster/store/objects';
import { heartbeatKey } from '../../src/cluster/manager/heartbeat-keys';
import { overlayNetwork } from '../fakes/overlay-swarm';

const INGRESS = 'ing0000000000000000000000';
const NET = 'net1111111111111111111111';

class FakeHost implements OverlayHost {
  readonly log: string[] = [];
  readonly devices = new Set<string>();
  peers = new Map<string, OverlayPeer[]>();
  async ensure(link: OverlayLink, extra: string[]) { this.log.push(`ensure ${link.bridge} ${extra.join(',')}`); this.devices.add(link.networkId.slice(0, 12)); }
  async setPeers(link: OverlayLink, peers: OverlayPeer[]) { this.peers.set(link.networkId, peers); }
  async detach(link: OverlayLink) { this.log.push(`detach ${link.bridge}`); }
  async remove(link: OverlayLink) { this.log.push(`remove ${link.bridge}`); this.devices.delete(link.networkId.slice(0, 12)); }
  async present() { return [...this.devices]; }
}

class FakeAllocator implements OverlayAllocator {
  next = 10;
  readonly released: string[] = [];
  async allocateNetwork(): Promise<OverlayConfig> { throw new Error('not here'); }
  async releaseNetwork() {}
  async allocateAddress(_n: string, cfg: OverlayConfig, _o: AddressOwner, want?: string) { return want ?? `${cfg.Subnet.split('.').slice(0, 3).join('.')}.${this.next++}`; }
  async releaseAddress(_n: string, owner: AddressOwner) { this.released.push(owner.kind); }
  async lbAddress(networkId: string, cfg: OverlayConfig) { void networkId; return `${cfg.Subnet.split('.').slice(0, 3).join('.')}.2`; }
}

function setup(store = new FakeClusterStore(), host = new FakeHost(), running = new Set<string>()) {
  const mesh: MeshState[] = [];
  const tunnels: IpsecTunnel[][] = [];
  const dns = new Map<string, DnsRecord[]>();
  const meshRules: MeshRules = { apply: async (s) => { mesh.push(s); }, clear: async () => { mesh.push({ vips: [], ingress: [] }); host.log.push('mesh clear'); } };
  const ipsec: IpsecTunnels = { set: async (t) => { tunnels.push(t); } };
  const overlayDns: OverlayDns = { set: async (id, r) => { dns.set(id, r); } };
  const allocator = new FakeAllocator();
  const node = new NodeOverlay({
    nodeId: 'node1', nodeAddr: '192.168.0.1', store, allocator, host, mesh: meshRules, tunnels: ipsec, dns: overlayDns,
    runningContainers: async () => running, log: { error: () => undefined }, debounceMs: 5, retryMs: 20,
  });
  return { node, store, host, mesh, tunnels, dns, allocator };
}

async function seed(store: FakeClusterStore): Promise<void> {
  const put = (key: string, v: unknown) => store.txn([{ op: 'put', key, value: JSON.stringify(v) }]);
  const { Version: _a, ...ing } = overlayNetwork(INGRESS, 'ingress', '10.0.0.0/24', { Ingress: true });
  const { Version: _b, ...net } = overlayNetwork(NET, 'web', '10.0.1.0/24', {}, true);
  await put(objectKey('networks', INGRESS), ing);
  await put(objectKey('networks', NET), net);
  await put(heartbeatKey('node1'), {});
  await put(heartbeatKey('node2'), {});
}

const until = async (what: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('start realizes ingress; a container joins, is published, leaves (detach before teardown) and is left (remove after)', async () => {
  const { node, store, host, allocator } = setup();
  await seed(store);
  await node.start();
  assert.deepEqual(host.log, ['ensure bo-ing000000000 10.0.0.2/24']);
  assert.equal(node.find('web')?.id, NET);
  assert.equal(node.find('net1')?.bridge, 'bo-net111111111');
  await assert.rejects(node.join(INGRESS, { containerId: 'c'.repeat(64), containerName: 'x', aliases: [] }), /not manually attachable/);

  const cid = 'a'.repeat(64);
  const j = await node.join(NET, { containerId: cid, containerName: 'box', aliases: ['box'] });
  assert.deepEqual(j, { ip: '10.0.1.10', prefixLen: 24, gateway: '10.0.1.1', mac: '02:42:0a:00:01:0a', bridge: 'bo-net111111111' });
  assert.equal(host.log.at(-1), 'ensure bo-net111111111 10.0.1.2/24', 'present before join returns');
  await node.joined(NET, cid);
  const rec = JSON.parse((await store.get(overlayKeys.endpoint(NET, 'node1', cid)))!.value);
  assert.deepEqual([rec.ip, rec.name, rec.aliases, rec.serving, rec.nodeAddr], ['10.0.1.10', 'box', ['aaaaaaaaaaaa'], true, '192.168.0.1']);
  await node.serving(NET, cid, false);
  assert.equal(JSON.parse((await store.get(overlayKeys.endpoint(NET, 'node1', cid)))!.value).serving, false);

  host.log.length = 0;
  await node.leave(NET, cid);
  assert.equal(await store.get(overlayKeys.endpoint(NET, 'node1', cid)), undefined);
  assert.deepEqual(host.log, ['detach bo-net111111111']);
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(host.log, ['detach bo-net111111111'], 'a held network is not ensured again before the teardown');
  await node.left(NET, cid);
  assert.deepEqual(host.log, ['detach bo-net111111111', 'remove bo-net111111111']);
  assert.deepEqual(allocator.released, ['container']);
  await node.stop({ leave: false });
});

test('remote endpoints become peers; a dead node\'s are dropped within the debounce', async () => {
  const { node, store, host } = setup();
  await seed(store);
  await node.start();
  const cid = 'b'.repeat(64);
  await node.join(NET, { containerId: cid, containerName: 'box', aliases: [] });
  await node.joined(NET, cid);
  const remote = { networkId: NET, nodeId: 'node2', nodeAddr: '192.168.0.2', containerId: 'r'.repeat(64), name: 'far', ip: '10.0.1.50', mac: '', aliases: [], serving: true };
  await store.txn([{ op: 'put', key: overlayKeys.endpoint(NET, 'node2', remote.containerId), value: JSON.stringify(remote) }]);
  await until(() => host.peers.get(NET)?.some((p) => p.ip === '10.0.1.50') ?? false);
  await store.txn([{ op: 'delete', key: heartbeatKey('node2') }]);
  await until(() => !(host.peers.get(NET)?.some((p) => p.ip === '10.0.1.50') ?? true));
  await node.stop({ leave: false });
});

test('after kill -9: stale devices removed, endpoints of containers gone deleted, running ones kept', async () => {
  const store = new FakeClusterStore();
  const host = new FakeHost();
  host.devices.add('deadbeef0000');
  host.devices.add(NET.slice(0, 12));
  await seed(store);
  const kept = 'k'.repeat(64);
  const gone = 'g'.repeat(64);
  for (const [cid, ip] of [[kept, '10.0.1.20'], [gone, '10.0.1.21']] as const) {
    const r = { networkId: NET, nodeId: 'node1', nodeAddr: '192.168.0.1', containerId: cid, name: cid.slice(0, 3), ip, mac: '', aliases: [], serving: true };
    await store.txn([{ op: 'put', key: overlayKeys.endpoint(NET, 'node1', cid), value: JSON.stringify(r) }]);
  }
  const { node, allocator } = setup(store, host, new Set([kept]));
  await node.start();
  assert.deepEqual(allocator.released, ['container'], 'the standalone container that died while berthd was down gives its address back');
  // the engine pays a teardown it owed from before the restart: an untracked container's lease goes too
  await node.left(NET, 'o'.repeat(64));
  assert.deepEqual(allocator.released, ['container', 'container']);
  assert.ok(host.log.includes('remove bo-deadbeef0000'));
  assert.ok(!host.log.includes('remove bo-net111111111'), 'a network with a running local container stays');
  assert.equal(await store.get(overlayKeys.endpoint(NET, 'node1', gone)), undefined);
  assert.ok(await store.get(overlayKeys.endpoint(NET, 'node1', kept)));
  // its container leaves as usual after the restart
  await node.leave(NET, kept);
  await node.left(NET, kept);
  assert.deepEqual(host.log.slice(-2), ['detach bo-net111111111', 'remove bo-net111111111']);

  host.log.length = 0;
  await node.stop({ leave: true });
  assert.ok(host.log.includes('mesh clear'));
  assert.ok(host.log.includes('remove bo-ing000000000'));
  assert.deepEqual(host.devices.size, 0);
  assert.deepEqual((await store.list(overlayKeys.allEndpoints())).items, []);
  assert.deepEqual((await store.list(`${overlayKeys.lbOf(INGRESS)}`)).items, []);
});
