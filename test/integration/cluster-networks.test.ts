// Swarm networks on one berthd through the real docker CLI, compared with what dockerd prints (shapes, not IDs): the
// `ingress` network made at init, `network create -d overlay` with every flag, ls filters, the refusals in moby's
// words, a service's Endpoint (VIPs, ingress ports from the dynamic range) and its tasks' NetworksAttachments, and
// removal once nothing uses a network.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../helpers/daemon';
import { killSwarmEtcd, swarmPortArgs } from '../helpers/cluster';
import { until } from '../helpers/wait';

describe('swarm networks on one node', () => {
  let d: TestDaemon;
  /** The swarm networks' IDs (their names may also be local bridges the agent made for tasks, before overlays reach the engine). */
  const ids: Record<string, string> = {};
  const ok = (args: string[]) => String(d.dockerOk(args)).trim();
  before(async () => {
    d = new TestDaemon('swarmnet', { args: swarmPortArgs() });
    await d.startWithBusybox();
    ok(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
  });
  after(async () => {
    d.docker(['swarm', 'leave', '--force']);
    killSwarmEtcd(d.dataRoot);
    await d.cleanup();
  });

  test('init makes `ingress`: the first free /24 of 10.0.0.0/8 (10.0.0.0/24 on a host that routes none), Ingress, VNI 4096, as dockerd shows it', () => {
    assert.equal(ok(['network', 'ls', '--filter', 'scope=swarm', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']), 'ingress overlay swarm');
    // dockerd 28: {"Driver":"default","Options":null,"Config":[{"Subnet":"10.0.0.0/24","Gateway":"10.0.0.1"}]} true false swarm
    // (another test's swarm daemon in this namespace may hold 10.0.0.0/24: the next one is taken, as the allocator skips routed subnets)
    assert.match(ok(['network', 'inspect', '-f', '{{json .IPAM}} {{.Ingress}} {{.Attachable}} {{.Scope}} {{json .Options}} {{json .Labels}}', 'ingress']),
      /^\{"Driver":"default","Options":null,"Config":\[\{"Subnet":"10\.0\.(\d+)\.0\/24","Gateway":"10\.0\.\1\.1"\}\]\} true false swarm \{"com\.docker\.network\.driver\.overlay\.vxlanid_list":"4096"\} \{\}$/);
  });

  test('network create -d overlay with every flag; refusals in moby\'s words; ls filters', () => {
    // (encryption is cluster-overlay's: this kernel has no ESP, and `--opt encrypted` is refused on it)
    ok(['network', 'create', '-d', 'overlay', '--attachable', '--internal', '--subnet', '10.10.0.0/24', '--gateway', '10.10.0.254', '--ip-range', '10.10.0.128/25',
      '--opt', 'mtu=1400', '--label', 'team=a', 'backnet']);
    const n = JSON.parse(ok(['network', 'inspect', 'backnet']))[0];
    assert.deepEqual({ ...n, Id: '', Created: '' }, {
      Name: 'backnet', Id: '', Created: '', Scope: 'swarm', Driver: 'overlay', EnableIPv4: true, EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '10.10.0.0/24', IPRange: '10.10.0.128/25', Gateway: '10.10.0.254' }] },
      Internal: true, Attachable: true, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: null,
      Options: { mtu: '1400', 'com.docker.network.driver.overlay.vxlanid_list': '4097' }, Labels: { team: 'a' },
    });
    ids.backnet = n.Id;
    ids.frontnet = ok(['network', 'create', '-d', 'overlay', 'frontnet']);
    assert.match(d.dockerFail(['network', 'create', '-d', 'overlay', '--subnet', '10.10.0.0/16', 'clash']), /Pool overlaps with other one on this address space: 10\.10\.0\.0\/16 overlaps 10\.10\.0\.0\/24 of swarm network backnet/);
    assert.match(d.dockerFail(['network', 'create', '-d', 'overlay', '--ingress', '--attachable', 'ing2']), /rpc error: code = InvalidArgument desc = ingress network cannot be attachable/);
    assert.match(d.dockerFail(['network', 'create', '-d', 'overlay', '--ingress', 'ing2']), /rpc error: code = AlreadyExists desc = ingress network \([0-9a-z]{25}\) is already present/);
    const names = (filter: string) => ok(['network', 'ls', '--filter', filter, '--format', '{{.Name}}']).split('\n').sort().join(' ');
    assert.equal(names('driver=overlay'), 'backnet frontnet ingress');
    assert.equal(names('label=team=a'), 'backnet');
    assert.equal(names('scope=swarm'), 'backnet frontnet ingress');
    assert.ok(!names('scope=local').includes('ingress'));
    assert.equal(d.api('GET', '/networks/backnet?scope=local').status, 404);
    assert.equal(d.api('GET', '/networks/backnet?scope=swarm').status, 200);
  });

  test('a service: a VIP per network (ingress first), ingress ports (dynamic from 30000), tasks attached; in-use refusals', async () => {
    ok(['service', 'create', '-d', '--no-resolve-image', '--name', 'web', '--replicas', '2', '--restart-condition', 'none', '--network', 'backnet',
      '-p', '8080:80', '-p', '81', 'busybox', 'sleep', '1d']);
    const ep = JSON.parse(ok(['service', 'inspect', '-f', '{{json .Endpoint}}', 'web']));
    const ingressId = ok(['network', 'inspect', '-f', '{{.Id}}', 'ingress']);
    const backId = ids.backnet!;
    // dockerd: Spec as given, Ports with the published ones filled, VirtualIPs [{NetworkID, Addr: "10.0.0.x/24"}, ...]
    assert.deepEqual(ep.Spec, { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }, { Protocol: 'tcp', TargetPort: 81, PublishMode: 'ingress' }] });
    assert.deepEqual(ep.Ports, [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }, { Protocol: 'tcp', TargetPort: 81, PublishedPort: 30000, PublishMode: 'ingress' }]);
    assert.deepEqual(ep.VirtualIPs.map((v: { NetworkID: string }) => v.NetworkID), [ingressId, backId]);
    const ingressSubnet = ok(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'ingress']);
    assert.equal(ep.VirtualIPs[0].Addr.replace(/\.\d+\/24$/, '.0/24'), ingressSubnet);
    assert.match(ep.VirtualIPs[1].Addr, /^10\.10\.0\.(1[2-9]\d|2[0-5]\d)\/24$/, 'inside --ip-range');
    await until(() => ok(['service', 'ps', '-q', 'web']).split('\n').filter(Boolean).length === 2, 'two tasks', 300);
    const taskIds = ok(['service', 'ps', '-q', 'web']).split('\n');
    const atts = taskIds.map((id) => JSON.parse(ok(['inspect', '-f', '{{json .NetworksAttachments}}', id])));
    for (const a of atts) {
      assert.deepEqual(a.map((x: { Network: { Spec: { Name: string } } }) => x.Network.Spec.Name), ['ingress', 'backnet']);
      assert.equal(a[0].Network.DriverState.Name, 'overlay');
    }
    assert.equal(new Set(atts.flatMap((a) => a.map((x: { Addresses: string[] }) => x.Addresses[0]))).size, 4);
    assert.match(d.dockerFail(['service', 'create', '-d', '--no-resolve-image', '--name', 'api', '-p', '8080:90', 'busybox', 'sleep', '1d']),
      /port '8080' is already in use by service 'web' \([0-9a-z]{25}\) as an ingress port/);
    // By ID: until overlays reach the engine, the agent realizes a task's network as a local bridge of the same name.
    assert.match(d.dockerFail(['network', 'rm', backId]), new RegExp(`network ${backId} is in use by service [0-9a-z]{25}`));
    assert.match(d.dockerFail(['network', 'rm', 'ingress'], { input: 'y\n' }), /ingress network cannot be removed because service [0-9a-z]{25} depends on it/);
    // An update onto frontnet without 8080 (the CLI's --publish-rm matches the target port): a VIP there too, the dynamic port kept.
    ok(['service', 'update', '-d', '--publish-rm', '80', '--network-add', 'frontnet', 'web']);
    const ep2 = JSON.parse(ok(['service', 'inspect', '-f', '{{json .Endpoint}}', 'web']));
    const [first, ...rest] = ep2.VirtualIPs as { NetworkID: string; Addr: string }[];
    assert.equal(first!.NetworkID, ingressId);
    assert.deepEqual(rest.map((v) => v.NetworkID).sort(), [backId, ids.frontnet].sort(), 'the CLI orders the networks; the VIPs follow the spec');
    assert.deepEqual(rest.find((v) => v.NetworkID === backId), ep.VirtualIPs[1], 'the VIP on backnet kept');
    assert.deepEqual(ep2.Ports, [{ Protocol: 'tcp', TargetPort: 81, PublishedPort: 30000, PublishMode: 'ingress' }]);
  });

  test('removal once nothing uses it; the subnet is free again', async () => {
    ok(['service', 'rm', 'web']);
    for (const id of Object.values(ids)) await until(() => d.docker(['network', 'rm', id]).code === 0, `${id} removable`, 600);
    assert.equal(ok(['network', 'ls', '--filter', 'driver=overlay', '--format', '{{.Name}}']), 'ingress');
    ok(['network', 'create', '-d', 'overlay', '--subnet', '10.10.0.0/16', 'wide']);
    ok(['network', 'rm', 'wide']);
  });
});
