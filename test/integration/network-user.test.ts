// User networks against berthd through the docker CLI v28: network create/ls/inspect/rm/prune with --subnet,
// --gateway, --internal and --label; names and --network-alias resolved by aardvark-dns; --ip and --mac-address;
// isolation between networks; connect and disconnect of running and stopped containers; an overlapping subnet and
// other bad input refused with nothing made; no bridge, veth, rule, namespace, lease or DNS entry left at the end.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { DOCKER, TestDaemon, type RunOpts } from '../helpers/daemon';
import { NetState, unroutedSubnet } from '../helpers/netstate';
import type { ContainerInspect, NetworkInspect } from '../helpers/api-types';

test('user networks against berthd', { timeout: 600_000 }, async (t) => {
  const d = new TestDaemon('netusr');
  const state = new NetState(d);
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const ok = (args: string[], opts?: RunOpts) => d.dockerOk(args, opts);
  const fail = (args: string[]) => d.dockerFail(args);
  const inspect = (name: string) => (JSON.parse(ok(['inspect', name])) as ContainerInspect[])[0];
  const netInspect = (name: string) => (JSON.parse(ok(['network', 'inspect', name])) as NetworkInspect[])[0];
  const base = unroutedSubnet('10.213', process.pid % 256);
  const subnet = `${base}.0/24`;
  const ping = (from: string, to: string) => d.docker(['exec', from, 'ping', '-c1', '-W2', to]).code === 0;
  const resolves = (from: string, name: string) => d.docker(['exec', from, 'nslookup', name]).stdout.includes(`Name:\t${name}`);

  await t.test('network create, ls and inspect with --subnet, --gateway, --label, --internal', () => {
    const id = ok(['network', 'create', '--subnet', subnet, '--gateway', `${base}.254`, '--label', 'team=a', '--label', 'tier', 'front']).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    ok(['network', 'create', '--internal', '--label', 'team=b', 'back']);
    ok(['network', 'create', 'other']);
    ok(['network', 'create', '--subnet', '10.214.9.0/24', '--ip-range', '10.214.9.128/25', 'ranged']);
    assert.deepEqual(netInspect('ranged').IPAM.Config, [{ Subnet: '10.214.9.0/24', IPRange: '10.214.9.128/25', Gateway: '10.214.9.1' }]);
    assert.equal(ok(['run', '--rm', '--network', 'ranged', 'busybox', 'sh', '-c', 'ip -o -4 addr show eth0']).match(/inet (\S+)\//)![1], '10.214.9.129');
    ok(['network', 'rm', 'ranged']);
    const n = netInspect('front');
    assert.equal(n.Id, id);
    assert.equal(n.Driver, 'bridge');
    assert.equal(n.Scope, 'local');
    assert.deepEqual(n.IPAM.Config, [{ Subnet: subnet, Gateway: `${base}.254` }]);
    assert.deepEqual(n.Labels, { team: 'a', tier: '' });
    assert.equal(n.Internal, false);
    assert.deepEqual(n.Containers, {});
    assert.equal(netInspect('back').Internal, true);
    // Networks without --subnet get a /24 of their own that nothing else on the host routes.
    const others = ['back', 'other'].map((x) => netInspect(x).IPAM.Config[0]);
    assert.notEqual(others[0].Subnet, others[1].Subnet);
    for (const c of others) {
      assert.match(c.Subnet, /^\d+\.\d+\.\d+\.0\/24$/);
      assert.equal(c.Gateway, c.Subnet.replace(/0\/24$/, '1'));
    }
    state.learn();
    const names = (args: string[]) => ok(['network', 'ls', '--format', '{{.Name}}', ...args]).split('\n').filter(Boolean).sort();
    assert.deepEqual(names([]), ['back', 'bridge', 'front', 'host', 'none', 'other']);
    assert.deepEqual(names(['--filter', 'label=team']), ['back', 'front']);
    assert.deepEqual(names(['--filter', 'label=team=a']), ['front']);
    assert.deepEqual(names(['--filter', 'type=custom']), ['back', 'front', 'other']);
    assert.deepEqual(names(['--filter', 'driver=null']), ['none']);
    assert.deepEqual(names(['--filter', 'name=oth']), ['other']);
    assert.deepEqual(names(['--filter', `id=${id.slice(0, 10)}`]), ['front']);
    assert.equal(ok(['network', 'inspect', '-f', '{{.Name}}', id.slice(0, 12)]).trim(), 'front');
  });

  await t.test('bad input: a duplicate name, an overlapping subnet, a gateway outside, unknown driver — nothing made', () => {
    const before = ok(['network', 'ls', '-q']);
    assert.match(fail(['network', 'create', 'front']), /network with name front already exists/);
    assert.match(fail(['network', 'create', '--subnet', `${base}.128/25`, 'overlap']), /Pool overlaps with other one on this address space/);
    // A subnet the host already routes (here: another bridge holding an address in it).
    const hostBase = unroutedSubnet('10.213', process.pid % 256 + 1);
    const br = `bu${process.pid.toString(36)}`.slice(0, 15);
    spawnSync('ip', ['link', 'add', br, 'type', 'bridge']);
    t.after(() => spawnSync('ip', ['link', 'del', br]));
    assert.equal(spawnSync('ip', ['addr', 'add', `${hostBase}.1/24`, 'dev', br]).status, 0);
    spawnSync('ip', ['link', 'set', br, 'up']);
    assert.match(fail(['network', 'create', '--subnet', `${hostBase}.0/24`, 'routed']), new RegExp(`overlaps .*the host routes ${hostBase.replace(/\./g, '\\.')}\\.0/24 via ${br}`));
    spawnSync('ip', ['link', 'del', br]);
    assert.match(fail(['network', 'create', '--subnet', '10.214.0.0/24', '--gateway', '10.214.0.255', 'gwout']), /invalid gateway 10\.214\.0\.255: it is not a host address of subnet 10\.214\.0\.0\/24/);
    const r = d.api('POST', '/networks/create', { Name: 'gwout', IPAM: { Config: [{ Subnet: '10.214.0.0/24', Gateway: '10.215.0.1' }] } });
    assert.equal(r.status, 400);
    assert.match(fail(['network', 'create', '--subnet', '10.214.0.7/24', 'hostbits']), /has host bits set/);
    assert.match(fail(['network', 'create', '--subnet', 'nonsense', 'badsub']), /invalid subnet|invalid CIDR/i);
    // As dockerd on a node in no swarm: overlay networks are cluster objects.
    assert.match(fail(['network', 'create', '-d', 'overlay', 'ovl']), /This node is not a swarm manager/);
    assert.match(fail(['network', 'create', '-d', 'nosuchdriver', 'nodrv']), /plugin nosuchdriver not found|could not find plugin nosuchdriver/);
    assert.match(fail(['network', 'create', 'host']), /operation is not permitted on predefined host network/);
    assert.equal(ok(['network', 'ls', '-q']), before);
    assert.match(fail(['network', 'inspect', 'ghost']), /network ghost not found/);
    assert.match(fail(['network', 'rm', 'bridge']), /bridge is a pre-defined network and cannot be removed/);
  });

  await t.test('containers resolve each other by name, --network-alias and short ID; --ip and --mac-address stick', async () => {
    ok(['run', '-d', '--name', 'c1', '--network', 'front', '--network-alias', 'db', '--network-alias', 'primary',
      '--ip', `${base}.50`, '--mac-address', '02:42:0a:0b:0c:0d', 'busybox', 'sleep', '600']);
    ok(['run', '-d', '--name', 'c2', '--network', 'front', 'busybox', 'sleep', '600']);
    const c1 = inspect('c1');
    const ep = c1.NetworkSettings.Networks.front;
    assert.equal(ep.IPAddress, `${base}.50`);
    assert.equal(ep.Gateway, `${base}.254`);
    assert.equal(ep.MacAddress, '02:42:0a:0b:0c:0d');
    assert.deepEqual([...ep.Aliases ?? []].sort(), ['db', 'primary'].concat(ep.Aliases?.includes(c1.Id.slice(0, 12)) ? [c1.Id.slice(0, 12)] : []).sort());
    assert.ok(ep.DNSNames?.includes('c1') && ep.DNSNames.includes('db'), String(ep.DNSNames));
    const inside = ok(['exec', 'c1', 'sh', '-c', 'ip -o -4 addr show eth0; cat /sys/class/net/eth0/address']);
    assert.ok(inside.includes(`inet ${base}.50/24`) && inside.includes('02:42:0a:0b:0c:0d'), inside);
    for (const name of ['c1', 'db', 'primary', c1.Id.slice(0, 12)]) {
      const out = ok(['exec', 'c2', 'nslookup', name]);
      assert.match(out, new RegExp(`Address: ${base.replace(/\./g, '\\.')}\\.50`), `${name}: ${out}`);
    }
    assert.ok(ping('c2', 'db'));
    // A container already running resolves one started after it at once (the bridge's MAC stays put; see decision 0013).
    assert.ok(ping('c1', 'c2'));
    // The resolver is aardvark-dns on the gateway; it forwards other names to the host's servers.
    assert.match(ok(['exec', 'c2', 'cat', '/etc/resolv.conf']), new RegExp(`^nameserver ${base.replace(/\./g, '\\.')}\\.254$`, 'm'));
    assert.match(ok(['exec', 'c2', 'nslookup', 'deb.debian.org']), /Name:\s+deb\.debian\.org/);
    // --dns on a user network: aardvark-dns stays the resolver, the servers noted as Docker notes them (aardvark-dns
    // 1.4 forwards other names to the host's resolvers, not to these: see the README).
    const resolv = ok(['run', '--rm', '--network', 'front', '--dns', '10.1.2.3', '--dns-search', 'corp.example', 'busybox', 'cat', '/etc/resolv.conf']);
    assert.equal(resolv, `# ExtServers: [10.1.2.3]\nsearch corp.example\nnameserver ${base}.254\n`);
    assert.notEqual(d.docker(['exec', 'c2', 'nslookup', 'ghost-ctr']).code, 0);
    // network inspect lists both with their addresses.
    const n = netInspect('front');
    assert.deepEqual(Object.values(n.Containers).map((c) => c.Name).sort(), ['c1', 'c2']);
    assert.equal(n.Containers[c1.Id].IPv4Address, `${base}.50/24`);
    assert.equal(n.Containers[c1.Id].MacAddress, '02:42:0a:0b:0c:0d');
    // An address in use, outside the subnet, or the gateway: refused, nothing left.
    const before = state.snapshot();
    assert.match(fail(['run', '--rm', '--network', 'front', '--ip', `${base}.50`, 'busybox', 'true']), /Address already in use/);
    assert.match(fail(['run', '--rm', '--network', 'front', '--ip', '10.99.99.99', 'busybox', 'true']), /no configured subnet or ip-range contain the IP address 10\.99\.99\.99/);
    assert.match(fail(['run', '--rm', '--network', 'front', '--ip', `${base}.254`, 'busybox', 'true']), /is the gateway of network front/);
    for (const id of ok(['ps', '-aq', '--filter', 'status=created']).split('\n').filter(Boolean)) ok(['rm', id]);
    assert.deepEqual(await state.settledSnapshot(before), before);
  });

  await t.test('networks are isolated from each other; --internal has no way out', () => {
    ok(['run', '-d', '--name', 'o1', '--network', 'other', 'busybox', 'sleep', '600']);
    ok(['run', '-d', '--name', 'b1', '--network', 'back', 'busybox', 'sleep', '600']);
    ok(['run', '-d', '--name', 'b2', '--network', 'back', 'busybox', 'sleep', '600']);
    ok(['run', '-d', '--name', 'd1', 'busybox', 'sleep', '600']);
    const c1ip = inspect('c1').NetworkSettings.Networks.front.IPAddress;
    assert.equal(ping('o1', c1ip), false, 'other → front');
    assert.equal(ping('d1', c1ip), false, 'default bridge → front');
    assert.equal(ping('c1', inspect('o1').NetworkSettings.Networks.other.IPAddress), false, 'front → other');
    assert.notEqual(d.docker(['exec', 'o1', 'nslookup', 'c1']).code, 0, 'names do not leak across networks');
    // Internal: the two containers reach each other by name, but nothing outside (no default route, no NAT).
    assert.ok(ping('b1', 'b2'));
    assert.doesNotMatch(ok(['exec', 'b1', 'ip', 'route']), /^default/m);
    assert.equal(ping('b1', c1ip), false);
    assert.equal(ping('b1', netInspect('other').IPAM.Config[0].Gateway), false);
    assert.equal(netInspect('back').Internal, true);
    assert.ok(!state.rules().some((r) => r.includes(`-s ${netInspect('back').IPAM.Config[0].Subnet}`) && r.includes('NETAVARK-')), 'no masquerade for the internal network');
  });

  await t.test('connect and disconnect: a running container gets and loses an interface and its names', async () => {
    const c1ip = inspect('c1').NetworkSettings.Networks.front.IPAddress;
    ok(['network', 'connect', '--alias', 'bridged', '--ip', `${base}.77`, 'front', 'o1']);
    const nets = inspect('o1').NetworkSettings.Networks;
    assert.deepEqual(Object.keys(nets).sort(), ['front', 'other']);
    assert.equal(nets.front.IPAddress, `${base}.77`);
    assert.match(ok(['exec', 'o1', 'ip', '-o', '-4', 'addr']), new RegExp(`eth1\\s+inet ${base.replace(/\./g, '\\.')}\\.77/24`));
    assert.ok(ping('o1', c1ip));
    assert.ok(ping('c2', 'bridged'));
    assert.ok(ping('c2', 'o1'));
    assert.match(fail(['network', 'connect', 'front', 'o1']), /endpoint with name o1 already exists in network front/);
    assert.match(fail(['network', 'connect', 'ghostnet', 'o1']), /network ghostnet not found/);
    assert.match(fail(['network', 'connect', 'front', 'ghostctr']), /No such container: ghostctr/);
    ok(['network', 'disconnect', 'front', 'o1']);
    assert.deepEqual(Object.keys(inspect('o1').NetworkSettings.Networks), ['other']);
    assert.doesNotMatch(ok(['exec', 'o1', 'ip', '-o', 'link']), /eth1/);
    assert.equal(ping('o1', c1ip), false);
    assert.equal(resolves('c2', 'bridged'), false);
    assert.match(fail(['network', 'disconnect', 'front', 'o1']), /is not connected to network front/);
    // A stopped container is connected on its next start.
    ok(['create', '--name', 's1', '--network', 'other', 'busybox', 'sleep', '600']);
    ok(['network', 'connect', 'front', 's1']);
    ok(['start', 's1']);
    assert.deepEqual(Object.keys(inspect('s1').NetworkSettings.Networks).sort(), ['front', 'other']);
    assert.ok(ping('c2', inspect('s1').NetworkSettings.Networks.front.IPAddress));
    assert.ok(ping('c2', 's1'));
    ok(['rm', '-f', 's1']);
  });

  await t.test('containers started together on a new network: its bridge and rules made once, an address and a name each', async () => {
    // berthd sets their interfaces up side by side (outside its networks lock): the first ones on the network race to
    // make its bridge, its rules and its DNS server, which must come out made once.
    ok(['network', 'create', 'together']);
    state.learn();
    const names = ['t1', 't2', 't3', 't4', 't5', 't6'];
    const started = await Promise.all(names.map((name) => new Promise<string>((resolve) => {
      execFile(DOCKER, ['run', '-d', '--name', name, '--network', 'together', '--network', 'other', 'busybox', 'sleep', '600'], { env: d.env }, (err, _out, stderr) => resolve(err ? `${name}: ${stderr}` : ''));
    })));
    assert.deepEqual(started.filter(Boolean), [], 'every run -d succeeded');
    const ips = names.map((name) => inspect(name).NetworkSettings.Networks.together.IPAddress);
    assert.equal(new Set(ips).size, names.length, `distinct addresses: ${ips.join(' ')}`);
    assert.ok(names.every((name) => inspect(name).NetworkSettings.Networks.other.IPAddress), 'each on its second network too');
    for (const name of names.slice(1)) assert.ok(ping('t1', name), `t1 reaches ${name} by name`);
    assert.ok(ping('t6', 'o1'), 'and the containers already on the second network');
    const together = netInspect('together');
    const rules = state.rules().filter((r) => r.startsWith('-A ') && r.includes(together.IPAM.Config[0].Subnet));
    assert.ok(rules.length > 0, 'the network has its rules');
    assert.deepEqual(rules.filter((r, i) => rules.indexOf(r) !== i), [], 'none twice');
    ok(['rm', '-f', ...names]);
    ok(['network', 'rm', 'together']);
  });

  await t.test('rm and prune: a network in use is refused; unused ones go, by label too', () => {
    assert.match(fail(['network', 'rm', 'front']), /network front has active endpoints/);
    ok(['network', 'create', '--label', 'tmp=1', 'spare1']);
    ok(['network', 'create', 'spare2']);
    const pruned = ok(['network', 'prune', '-f', '--filter', 'label=tmp']);
    assert.match(pruned, /spare1/);
    assert.doesNotMatch(pruned, /spare2|front|back|other/);
    ok(['network', 'rm', 'spare2']);
    for (const id of ok(['ps', '-aq']).split('\n').filter(Boolean)) ok(['rm', '-f', id]);
    const all = ok(['network', 'prune', '-f']);
    for (const name of ['front', 'back', 'other']) assert.match(all, new RegExp(`^${name}$`, 'm'));
    assert.deepEqual(ok(['network', 'ls', '--format', '{{.Name}}']).split('\n').filter(Boolean).sort(), ['bridge', 'host', 'none']);
  });

  await t.test('nothing is left behind: no bridge, veth, namespace, rule, lease or DNS entry', async () => {
    assert.deepEqual(await state.settledLeftovers(), []);
    assert.ok(state.bridges.size >= 4 && state.subnets.size >= 4, 'the tracker knew every network');
  });
});
