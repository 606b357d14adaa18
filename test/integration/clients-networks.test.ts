// Networks as real clients use them, against berthd: IPv6 and dual-stack networks through the docker CLI v28 (subnets,
// --ip6, addresses in inspect, ping6 between containers, ip6tables rules gone after rm, bad input refused in moby's
// words), network names with spaces and odd characters, and what docker-py (Debian's python3-docker) and dockerode
// users rely on: connect and disconnect, labels, filters and prune, the networks model, ?scope=, IPAM pools with
// auxiliary addresses, fixed IPv4, IPv6 and link-local endpoint addresses.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import Docker from 'dockerode';
import { TestDaemon, type RunOpts } from '../helpers/daemon';
import { unroutedSubnet } from '../helpers/netstate';
import type { ContainerInspect, ErrorBody, ModemError, NetworkInspect } from '../helpers/api-types';

/** netavark's chain suffix for a network (Berth gives netavark the network's ID as its name). */
const ip6tablesSave = () => spawnSync('ip6tables-save', [], { encoding: 'utf8' }).stdout;

/** A ULA /64 prefix ("fdXX:XXXX:XXXX:N") of this test run, away from other runs and from the host's fd00::/64. */
function ulaPrefix(n: number) {
  const h = createHash('sha256').update(`${process.pid}-${Date.now()}`).digest('hex');
  // Groups written as the daemon writes them back (no leading zeros), so messages echoing a subnet match.
  const group = (hex: string) => parseInt(hex, 16).toString(16);
  return `fd${h.slice(0, 2)}:${group(h.slice(2, 6))}:${group(h.slice(6, 10))}:${n}`;
}

/**
 * Runs Python with Debian's python3-docker (5.0.3; only /usr/bin/python3 has it) against the daemon. The code sees
 * `client` (a DockerClient at API 1.41), `api` (its APIClient) and `outcome(fn, *args)`: 'ok', or the APIError's class
 * and HTTP status; it records what it sees in `facts`, which comes back as an object for the test to judge.
 */
function dockerPy(d: TestDaemon, code: string): Record<string, unknown> {
  const prelude = `import json, docker
client = docker.DockerClient(base_url='unix://${d.sock}', version='1.41', timeout=60)
api = client.api
facts = {}
def outcome(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
        return 'ok'
    except docker.errors.APIError as e:
        return [type(e).__name__, e.status_code]
`;
  const r = spawnSync('/usr/bin/python3', ['-c', `${prelude}${code}\nprint(json.dumps(facts))`], { encoding: 'utf8', timeout: 240_000 });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

test('networks through real clients', { timeout: 900_000 }, async (t) => {
  const d = new TestDaemon('netcli');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const docker = new Docker({ socketPath: d.sock });
  const ok = (args: string[], opts?: RunOpts) => d.dockerOk(args, opts);
  const fail = (args: string[]) => d.dockerFail(args);
  const inspect = (name: string) => (JSON.parse(ok(['inspect', name])) as ContainerInspect[])[0];
  const netInspect = (name: string) => (JSON.parse(ok(['network', 'inspect', name])) as NetworkInspect[])[0];

  await t.test('IPv6 networks: create, inspect, addresses, --ip6, ping6 between containers, rules gone after rm', () => {
    const v6 = `${ulaPrefix(1)}::/64`;
    const p6 = v6.replace('::/64', '');
    const id = ok(['network', 'create', '--ipv6', '--subnet', v6, 'six']).trim();
    const n = netInspect('six');
    assert.equal(n.EnableIPv6, true);
    const c6 = n.IPAM.Config.find((c) => c.Subnet.includes(':'));
    assert.deepEqual(c6, { Subnet: v6, Gateway: `${p6}::1` });
    // The network keeps an IPv4 subnet too, as dockerd's do unless --ipv4=false.
    assert.ok(n.IPAM.Config.some((c) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c.Subnet)), JSON.stringify(n.IPAM.Config));

    ok(['run', '-d', '--name', 'a6', '--network', 'six', '-p', '80', 'busybox', 'sleep', '300']);
    ok(['run', '-d', '--name', 'b6', '--network', 'six', '--ip6', `${p6}::99`, 'busybox', 'sleep', '300']);
    const a = inspect('a6').NetworkSettings.Networks.six;
    assert.equal(a.GlobalIPv6Address, `${p6}::2`);
    assert.equal(a.GlobalIPv6PrefixLen, 64);
    assert.equal(a.IPv6Gateway, `${p6}::1`);
    assert.match(a.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    const b = inspect('b6').NetworkSettings.Networks.six;
    assert.equal(b.GlobalIPv6Address, `${p6}::99`);
    assert.deepEqual(b.IPAMConfig, { IPv6Address: `${p6}::99` });
    // The address is on the container's interface, and the containers reach each other over IPv6.
    assert.match(ok(['exec', 'a6', 'ip', '-6', 'addr', 'show', 'eth0']), new RegExp(`inet6 ${p6}::2/64 scope global`));
    const ping = d.docker(['exec', 'a6', 'ping6', '-c', '1', '-W', '5', `${p6}::99`]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.equal(d.docker(['exec', 'b6', 'ping6', '-c', '1', '-W', '5', `${p6}::1`]).code, 0, 'the gateway answers on IPv6');
    assert.equal(spawnSync('busybox', ['ping6', '-c', '1', '-W', '5', `${p6}::99`]).status, 0, 'the host reaches the container over IPv6');
    // Names resolve to both addresses; the container's own /etc/hosts has both.
    assert.match(ok(['exec', 'a6', 'nslookup', '-type=AAAA', 'b6']), new RegExp(`Address: ${p6}::99`));
    assert.match(ok(['exec', 'b6', 'cat', '/etc/hosts']), new RegExp(`${p6}::99\\t`));
    const members = netInspect('six').Containers;
    assert.deepEqual(Object.values(members ?? {}).map((m) => m.IPv6Address).sort(), [`${p6}::2/64`, `${p6}::99/64`]);
    // The bridge driver's ip6tables rules: the network's (they name its bridge), and a6's published port's DNAT.
    const bridge = `br-${id.slice(0, 12)}`;
    const hostPort = ok(['port', 'a6', '80/tcp']).split('\n')[0]!.split(':').pop()!;
    const dnat6 = () => ip6tablesSave().split('\n').filter((l) => l.includes(`--dport ${hostPort} `) && l.includes(`${p6}::2`));
    assert.ok(ip6tablesSave().includes(bridge), 'ip6tables rules for the network');
    assert.notDeepEqual(dnat6(), [], 'a6\'s port in ip6tables');

    // A stopped container shows no address, and its port's rules are gone; the network's stay until it is removed.
    ok(['stop', '-t', '0', 'a6']);
    assert.equal(inspect('a6').NetworkSettings.Networks.six.GlobalIPv6Address, '');
    assert.deepEqual(dnat6(), []);
    ok(['rm', '-f', 'a6', 'b6']);
    ok(['network', 'rm', 'six']);
    assert.ok(!ip6tablesSave().includes(bridge), `ip6tables rules of the network are left:\n${ip6tablesSave().split('\n').filter((l) => l.includes(bridge)).join('\n')}`);
  });

  await t.test('dual stack with both subnets given; --ipv6 alone gets a ULA /64; connect with --ip6; the default bridge stays IPv4', () => {
    const base = unroutedSubnet('10.216', process.pid % 256);
    const v6 = `${ulaPrefix(2)}::/64`;
    const p6 = v6.replace('::/64', '');
    ok(['network', 'create', '--ipv6', '--subnet', `${base}.0/24`, '--subnet', v6, '--gateway', `${p6}::fe`, 'dual']);
    assert.deepEqual(netInspect('dual').IPAM.Config, [{ Subnet: `${base}.0/24`, Gateway: `${base}.1` }, { Subnet: v6, Gateway: `${p6}::fe` }]);
    ok(['network', 'create', '--ipv6', 'auto6']);
    ok(['network', 'create', '--ipv6', 'auto6b']);
    const autoSubnet = (name: string) => {
      const n = netInspect(name);
      assert.equal(n.EnableIPv6, true);
      const c = n.IPAM.Config.find((x) => x.Subnet.includes(':'))!;
      assert.match(c.Subnet, /^fd[0-9a-f:]+\/64$/);
      return c.Subnet;
    };
    assert.notEqual(autoSubnet('auto6'), autoSubnet('auto6b'), 'two automatic /64s differ');
    ok(['network', 'create', 'plain']);
    assert.equal(netInspect('plain').EnableIPv6, false);

    ok(['run', '-d', '--name', 'd1', '--network', 'dual', 'busybox', 'sleep', '300']);
    const first = inspect('d1').NetworkSettings.Networks.dual;
    assert.equal(first.IPAddress, `${base}.2`);
    assert.equal(first.GlobalIPv6Address, `${p6}::1`, 'the first address of the subnet (the gateway is ::fe)');
    assert.equal(first.IPv6Gateway, `${p6}::fe`);
    // --ip6 outside the network's subnets, or on a network without IPv6: refused with moby's words.
    assert.match(fail(['network', 'connect', '--ip6', `${p6}::77`, 'auto6', 'd1']), new RegExp(`no configured subnet or ip-range contain the IP address ${p6}::77`));
    assert.match(fail(['network', 'connect', '--ip6', `${p6}::77`, 'plain', 'd1']), /user specified IP address is supported only when connecting to networks with user configured subnets/);
    ok(['network', 'connect', 'auto6', 'd1']);
    const onAuto = inspect('d1').NetworkSettings.Networks.auto6;
    assert.match(onAuto.GlobalIPv6Address, /^fd[0-9a-f:]+::2$/);
    assert.match(ok(['exec', 'd1', 'ip', '-6', 'addr', 'show', 'eth1']), new RegExp(`inet6 ${onAuto.GlobalIPv6Address}/64`));
    ok(['network', 'disconnect', 'dual', 'd1']);
    ok(['network', 'connect', '--ip6', `${p6}::77`, 'dual', 'd1']);
    const again = inspect('d1').NetworkSettings.Networks.dual;
    assert.equal(again.GlobalIPv6Address, `${p6}::77`);
    assert.deepEqual(again.IPAMConfig, { IPv6Address: `${p6}::77` });
    assert.match(ok(['exec', 'd1', 'ip', '-6', 'addr']), new RegExp(`inet6 ${p6}::77/64`));

    // The default bridge is IPv4 only, as dockerd's is by default.
    assert.equal(netInspect('bridge').EnableIPv6, false);
    ok(['run', '-d', '--name', 'onbridge', 'busybox', 'sleep', '300']);
    assert.equal(inspect('onbridge').NetworkSettings.Networks.bridge.GlobalIPv6Address, '');
    assert.doesNotMatch(ok(['exec', 'onbridge', 'ip', '-6', 'addr', 'show', 'eth0']), /scope global/);
    ok(['rm', '-f', 'd1', 'onbridge']);
    for (const x of ['dual', 'auto6', 'auto6b', 'plain']) ok(['network', 'rm', x]);
  });

  await t.test('network names with spaces and odd characters: create, run, resolve, inspect, filter, rm', () => {
    // moby refuses only blank names and the predefined ones (docker-py's test_create_remove_network_with_space_in_name).
    for (const name of ['test 01', 'odd näme:+@x']) {
      const id = ok(['network', 'create', '--ipv6', name]).trim();
      assert.equal(netInspect(name).Id, id);
      assert.equal(netInspect(name).Name, name);
      ok(['run', '-d', '--name', 'sp1', '--network', name, 'busybox', 'sleep', '300']);
      ok(['run', '-d', '--name', 'sp2', '--network', name, '--network-alias', 'other one', 'busybox', 'sleep', '300']);
      assert.equal(d.docker(['exec', 'sp2', 'ping', '-c', '1', '-W', '5', 'sp1']).code, 0, `sp1 resolves and answers on "${name}"`);
      assert.match(ok(['exec', 'sp1', 'nslookup', 'sp2']), /Name:\s+sp2/);
      assert.ok(inspect('sp2').NetworkSettings.Networks[name].Aliases?.includes('other one'), 'an alias no DNS name can be is kept, not resolved');
      const ep = inspect('sp1').NetworkSettings.Networks[name];
      assert.equal(ep.NetworkID, id);
      assert.match(ep.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
      assert.deepEqual(Object.keys(netInspect(name).Containers ?? {}).length, 2);
      assert.equal(ok(['network', 'ls', '--filter', `name=${name}`, '--format', '{{.Name}}']).trim(), name);
      assert.equal(ok(['ps', '--filter', `network=${name}`, '--format', '{{.Names}}']).trim().split('\n').sort().join(','), 'sp1,sp2');
      ok(['network', 'disconnect', name, 'sp2']);
      ok(['network', 'connect', name, 'sp2']);
      assert.match(fail(['network', 'rm', name]), /has active endpoints/);
      ok(['rm', '-f', 'sp1', 'sp2']);
      ok(['network', 'rm', name]);
      assert.match(fail(['network', 'inspect', name]), /not found/);
    }
    for (const name of ['bridge', 'host', 'none', 'default', 'container:x']) {
      const r = d.api('POST', '/networks/create', { Name: name });
      assert.equal(r.status, 403, `${name}: ${r.body}`);
      assert.match((JSON.parse(r.body) as ErrorBody).message, new RegExp(`operation is not permitted on predefined ${name} network`));
    }
    const blank = d.api('POST', '/networks/create', { Name: ' \t' });
    assert.equal(blank.status, 400, blank.body);
  });

  // What docker-py and dockerode users rely on, each case checked through the client's own calls.
  await t.test('python3-docker: connect and disconnect a running container, twice each, and by force', () => {
    const f = dockerPy(d, `
net = api.create_network('pyconn')['Id']
ctr = api.create_container('busybox', 'sleep 300')['Id']
api.start(ctr)
members = lambda: sorted((api.inspect_network(net).get('Containers') or {}).keys())
facts['ctr'] = ctr
facts['before'] = members()
api.connect_container_to_network(ctr, net)
facts['connected'] = members()
facts['connect_again'] = outcome(api.connect_container_to_network, ctr, net)
api.disconnect_container_from_network(ctr, 'pyconn')
facts['disconnected'] = members()
facts['disconnect_again'] = outcome(api.disconnect_container_from_network, ctr, net)
api.connect_container_to_network(ctr, 'pyconn')
facts['forced'] = outcome(api.disconnect_container_from_network, ctr, net, force=True)
facts['after_force'] = members()
facts['force_again'] = outcome(api.disconnect_container_from_network, ctr, net, force=True)
api.remove_container(ctr, force=True)
api.remove_network(net)
`);
    assert.deepEqual(f.before, [], 'a new network has no members');
    assert.deepEqual(f.connected, [f.ctr], "the connected container is listed in the network's Containers");
    assert.deepEqual(f.connect_again, ['APIError', 403], 'a container already on the network cannot join it again');
    assert.deepEqual(f.disconnected, []);
    assert.deepEqual(f.disconnect_again, ['APIError', 403], 'a container not on the network cannot leave it');
    assert.equal(f.forced, 'ok');
    assert.deepEqual(f.after_force, []);
    assert.deepEqual(f.force_again, ['APIError', 403], 'force does not make leaving a network twice succeed');
  });

  await t.test('python3-docker: labels, internal, duplicate names, list filters, prune, and the networks model', () => {
    const f = dockerPy(d, `
db = api.create_network('pydb', labels={'tier': 'db'}, internal=True, check_duplicate=True)['Id']
info = api.inspect_network(db)
facts['labels'], facts['internal'] = info['Labels'], info['Internal']
facts['duplicate'] = outcome(api.create_network, 'pydb', check_duplicate=True)
api.create_network('pyweb', labels={'tier': 'web'})
listed = lambda **kw: sorted(n['Name'] for n in api.networks(**kw))
facts['by_name'] = listed(names=['pydb'])
facts['by_short_id'] = listed(ids=[db[:12]])
facts['by_label'] = listed(filters={'label': 'tier=db'})
facts['by_label_key'] = listed(filters={'label': 'tier'})
facts['by_unknown_name'] = listed(names=['nosuchnet'])
api.create_network('pybusy')
busy = client.containers.run('busybox', 'sleep 300', network='pybusy', detach=True)
facts['pruned_db'] = api.prune_networks(filters={'label': 'tier=db'})['NetworksDeleted']
facts['pruned_rest'] = sorted(api.prune_networks()['NetworksDeleted'])
facts['left'] = listed()
busy.remove(force=True)
api.remove_network('pybusy')

m = client.networks.create('pymodel', labels={'owner': 'berth'})
ids = lambda **kw: [n.id for n in client.networks.list(**kw)]
facts['model'] = {'name': m.name, 'labels': m.attrs['Labels'], 'got_by_id': client.networks.get(m.id).name,
                  'got_by_name': client.networks.get('pymodel').id == m.id, 'listed': m.id in ids(),
                  'by_id': ids(ids=[m.id]) == [m.id], 'by_name': ids(names=['pymodel']) == [m.id],
                  'by_other_name': ids(names=['nosuchnet'])}
ctr = client.containers.create('busybox', 'sleep 300')
m.connect(ctr)
ctr.start()
m.reload()
facts['model']['members'] = [c.id == ctr.id for c in m.containers]
facts['model']['greedy'] = [c.id == ctr.id for n in client.networks.list(ids=[m.id], greedy=True) for c in n.containers]
m.disconnect(ctr)
m.reload()
facts['model']['after_disconnect'] = m.containers
ctr.remove(force=True)
m.remove()
facts['model']['removed'] = outcome(client.networks.get, m.id)
`);
    assert.deepEqual(f.labels, { tier: 'db' });
    assert.equal(f.internal, true);
    assert.deepEqual(f.duplicate, ['APIError', 409], 'a second network of the same name is a conflict');
    assert.deepEqual(f.by_name, ['pydb']);
    assert.deepEqual(f.by_short_id, ['pydb'], 'an ID prefix selects the network');
    assert.deepEqual(f.by_label, ['pydb']);
    assert.deepEqual(f.by_label_key, ['pydb', 'pyweb'], 'a label key alone matches any value');
    assert.deepEqual(f.by_unknown_name, []);
    assert.deepEqual(f.pruned_db, ['pydb'], "prune's label filter spares the other unused networks");
    assert.deepEqual(f.pruned_rest, ['pyweb'], 'prune spares a network in use and the predefined ones');
    assert.deepEqual(f.left, ['bridge', 'host', 'none', 'pybusy']);
    assert.deepEqual(f.model, {
      name: 'pymodel', labels: { owner: 'berth' }, got_by_id: 'pymodel', got_by_name: true, listed: true, by_id: true,
      by_name: true, by_other_name: [], members: [true], greedy: [true], after_disconnect: [], removed: ['NotFound', 404],
    });
  });

  await t.test('python3-docker: a network named with a space is created, used by a container, inspected and removed', () => {
    const f = dockerPy(d, `
net = api.create_network('two words')['Id']
facts['inspected'] = api.inspect_network('two words')['Id'] == net
ctr = client.containers.run('busybox', 'sleep 300', network='two words', detach=True)
ctr.reload()
facts['ctr_networks'] = list(ctr.attrs['NetworkSettings']['Networks'])
facts['members'] = list(api.inspect_network('two words')['Containers']) == [ctr.id]
ctr.remove(force=True)
facts['removed'] = api.remove_network('two words')
facts['gone'] = outcome(api.inspect_network, 'two words')
`);
    assert.deepEqual(f, { inspected: true, ctr_networks: ['two words'], members: true, removed: null, gone: ['NotFound', 404] });
  });

  await t.test('dockerode: ?scope=local finds a local network, global and swarm do not', async () => {
    const net = await docker.createNetwork({ Name: 'scoped' });
    assert.equal((await net.inspect({ scope: 'local' })).Name, 'scoped');
    for (const scope of ['global', 'swarm']) {
      await assert.rejects(net.inspect({ scope }), (e) => (e as ModemError).statusCode === 404, `scope=${scope}`);
      await assert.rejects(docker.getNetwork('scoped').inspect({ scope }), (e) => (e as ModemError).statusCode === 404, `by name, scope=${scope}`);
    }
    await net.remove();
  });

  await t.test('dockerode: an IPAM pool with a range, a gateway and auxiliary addresses; a fixed IPv4 address in it', async () => {
    const base = unroutedSubnet('10.217', process.pid % 256);
    const pool = { Subnet: `${base}.0/24`, IPRange: `${base}.128/25`, Gateway: `${base}.254`, AuxiliaryAddresses: { router: `${base}.10`, printer: `${base}.11` } };
    const net = await docker.createNetwork({ Name: 'pooled', IPAM: { Driver: 'default', Config: [pool] } });
    const ipam = (await net.inspect()).IPAM;
    assert.equal(ipam?.Driver, 'default');
    assert.deepEqual(ipam?.Config, [pool], 'the pool comes back as given, auxiliary addresses included');
    const ctr = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '300'], HostConfig: { NetworkMode: 'pooled' } });
    await ctr.start();
    const given = (await ctr.inspect()).NetworkSettings.Networks.pooled.IPAddress;
    assert.ok(given.startsWith(`${base}.`) && Number(given.split('.')[3]) >= 128, `${given} is in the range`);
    await net.disconnect({ Container: ctr.id });
    await net.connect({ Container: ctr.id, EndpointConfig: { IPAMConfig: { IPv4Address: `${base}.24` } } });
    const ep = (await ctr.inspect()).NetworkSettings.Networks.pooled;
    assert.deepEqual([ep.IPAMConfig, ep.IPAddress, ep.Gateway], [{ IPv4Address: `${base}.24` }, `${base}.24`, `${base}.254`]);
    await ctr.remove({ force: true });
    await net.remove();
  });

  await t.test('dockerode: fixed IPv4 and IPv6 addresses on an IPv6 network are kept, inspected and on the interface', async () => {
    const base = unroutedSubnet('10.218', process.pid % 256);
    const p6 = ulaPrefix(4);
    const net = await docker.createNetwork({ Name: 'fixed6', EnableIPv6: true, IPAM: { Config: [{ Subnet: `${base}.0/24` }, { Subnet: `${p6}::/64`, Gateway: `${p6}::ffff` }] } });
    assert.equal((await net.inspect()).EnableIPv6, true);
    const want = { IPv4Address: `${base}.23`, IPv6Address: `${p6}::f00d` };
    const ctr = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '300'], HostConfig: { NetworkMode: 'fixed6' }, NetworkingConfig: { EndpointsConfig: { fixed6: { IPAMConfig: want } } } });
    await ctr.start();
    const ep = (await ctr.inspect()).NetworkSettings.Networks.fixed6;
    assert.deepEqual(ep.IPAMConfig, want);
    assert.deepEqual([ep.IPAddress, ep.GlobalIPv6Address, ep.IPv6Gateway], [`${base}.23`, `${p6}::f00d`, `${p6}::ffff`]);
    const addr = ok(['exec', ctr.id, 'ip', 'addr', 'show', 'eth0']);
    assert.match(addr, new RegExp(`inet ${base}\\.23/24 `));
    assert.match(addr, new RegExp(`inet6 ${p6}::f00d/64 scope global`));
    await ctr.remove({ force: true });
    await net.remove();
  });

  await t.test('dockerode: link-local addresses (EndpointConfig LinkLocalIPs) are kept, inspected and on the interface', async () => {
    const ctr = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '300'], HostConfig: { NetworkMode: 'bridge' }, NetworkingConfig: { EndpointsConfig: { bridge: { IPAMConfig: { LinkLocalIPs: ['169.254.8.8'] } } } } });
    await ctr.start();
    assert.deepEqual((await ctr.inspect()).NetworkSettings.Networks.bridge.IPAMConfig, { LinkLocalIPs: ['169.254.8.8'] });
    assert.match(ok(['exec', ctr.id, 'ip', '-4', 'addr', 'show', 'eth0']), /inet 169\.254\.8\.8\/16 /);
    // And when joining a user network with IPv6, where an IPv6 link-local address can be added too.
    const net = await docker.createNetwork({ Name: 'linklocal', EnableIPv6: true });
    await net.connect({ Container: ctr.id, EndpointConfig: { IPAMConfig: { LinkLocalIPs: ['169.254.9.9', 'fe80::99'] } } });
    assert.deepEqual((await ctr.inspect()).NetworkSettings.Networks.linklocal.IPAMConfig, { LinkLocalIPs: ['169.254.9.9', 'fe80::99'] });
    const addr = ok(['exec', ctr.id, 'ip', 'addr', 'show', 'eth1']);
    assert.match(addr, /inet 169\.254\.9\.9\/16 /);
    assert.match(addr, /inet6 fe80::99\/64 /);
    await ctr.remove({ force: true });
    await net.remove();
  });

  await t.test('bad IPv6 input is a clear 400 and makes nothing', () => {
    const v6 = `${ulaPrefix(3)}::/64`;
    const p6 = v6.replace('::/64', '');
    const before = ok(['network', 'ls', '-q']);
    assert.match(fail(['network', 'create', '--ipv6', '--subnet', 'fd00:zz::/64', 'bad6']), /invalid subnet fd00:zz::\/64/);
    assert.match(fail(['network', 'create', '--ipv6', '--subnet', `${p6}::5/64`, 'bad6']), new RegExp(`invalid subnet ${p6}::5/64: it has host bits set \\(did you mean ${p6}::/64\\?\\)`));
    // (the docker CLI pairs gateways with subnets itself: ask the API)
    const gw = d.api('POST', '/networks/create', { Name: 'bad6', EnableIPv6: true, IPAM: { Config: [{ Subnet: v6, Gateway: 'fd99::1' }] } });
    assert.equal(gw.status, 400, gw.body);
    assert.match((JSON.parse(gw.body) as ErrorBody).message, new RegExp(`invalid gateway fd99::1: it is not a host address of subnet ${p6}::/64`));
    const two = d.api('POST', '/networks/create', { Name: 'bad6', EnableIPv6: true, IPAM: { Config: [{ Subnet: v6 }, { Subnet: `${p6}:8000::/65` }] } });
    assert.equal(two.status, 403, two.body);
    assert.match((JSON.parse(two.body) as ErrorBody).message, /invalid pool request: Pool overlaps with other one on this address space/);
    ok(['network', 'create', '--ipv6', '--subnet', v6, 'good6']);
    assert.match(fail(['network', 'create', '--ipv6', '--subnet', `${p6}:8000::/65`, 'bad6']), /invalid pool request: Pool overlaps with other one on this address space/);
    assert.match(fail(['network', 'create', '--ipv6', '--subnet', v6.replace('/64', '/48').replace(/:[0-9a-f]+::\/48$/, '::/48'), 'bad6']), /Pool overlaps/);
    assert.match(fail(['run', '--rm', '--network', 'good6', '--ip6', 'fd99::9', 'busybox', 'true']), /no configured subnet or ip-range contain the IP address fd99::9/);
    assert.match(fail(['run', '--rm', '--network', 'good6', '--ip6', `${p6}::1`, 'busybox', 'true']), /gateway|already in use/);
    assert.match(fail(['run', '--rm', '--ip6', `${p6}::9`, 'busybox', 'true']), /user specified IP address is supported on user defined networks only/);
    const api = d.api('POST', '/networks/create', { Name: 'bad6', EnableIPv6: true, IPAM: { Config: [{ Subnet: v6.replace('::/64', '::/129') }] } });
    assert.equal(api.status, 400, api.body);
    const c = d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { NetworkMode: 'good6' }, NetworkingConfig: { EndpointsConfig: { good6: { IPAMConfig: { IPv6Address: '10.1.2.3' } } } } });
    assert.equal(c.status, 400, c.body);
    assert.match((JSON.parse(c.body) as ErrorBody).message, /invalid IPv6 address: 10\.1\.2\.3/);
    // An IPv6 subnet on a network without IPv6 is refused rather than ignored.
    const noV6 = d.api('POST', '/networks/create', { Name: 'bad6', IPAM: { Config: [{ Subnet: v6 }] } });
    assert.equal(noV6.status, 400, noV6.body);
    ok(['network', 'rm', 'good6']);
    assert.equal(ok(['network', 'ls', '-q']), before);
  });
});
