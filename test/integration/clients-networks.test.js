// Networks as real clients use them, against berthd: IPv6 and dual-stack networks through the docker CLI v28 (subnets,
// --ip6, addresses in inspect, ping6 between containers, ip6tables rules gone after rm, bad input refused in moby's
// words), network names with spaces and odd characters, and the logic of docker-py's own network integration tests
// (tests/integration/api_network_test.py and models_networks_test.py) run with Debian's python3-docker.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const path = require('node:path');
const { TestDaemon } = require('../helpers/daemon');
const { unroutedSubnet } = require('../helpers/netstate');

/** netavark's chain suffix for a network (Berth gives netavark the network's ID as its name). */
const chainHash = (id) => createHash('sha512').update(id).digest('hex').toUpperCase().slice(0, 13);
const ip6tablesSave = () => spawnSync('ip6tables-save', [], { encoding: 'utf8' }).stdout;

/** A ULA /64 prefix ("fdXX:XXXX:XXXX:N") of this test run, away from other runs and from the host's fd00::/64. */
function ulaPrefix(n) {
  const h = createHash('sha256').update(`${process.pid}-${Date.now()}`).digest('hex');
  // Groups written as the daemon writes them back (no leading zeros), so messages echoing a subnet match.
  const group = (hex) => parseInt(hex, 16).toString(16);
  return `fd${h.slice(0, 2)}:${group(h.slice(2, 6))}:${group(h.slice(6, 10))}:${n}`;
}

/** Runs a Python file with Debian's python3-docker against the daemon; returns its stdout, throws with stderr. */
function python(d, file, args = []) {
  const r = spawnSync('/usr/bin/python3', [file, ...args], { env: { ...d.env, PYTHONDONTWRITEBYTECODE: '1' }, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`python exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

test('networks through real clients', { timeout: 900_000 }, async (t) => {
  const d = new TestDaemon('netcli');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const ok = (args, opts) => d.dockerOk(args, opts);
  const fail = (args) => d.dockerFail(args);
  const inspect = (name) => JSON.parse(ok(['inspect', name]))[0];
  const netInspect = (name) => JSON.parse(ok(['network', 'inspect', name]))[0];

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
    assert.deepEqual(Object.values(members).map((m) => m.IPv6Address).sort(), [`${p6}::2/64`, `${p6}::99/64`]);
    assert.ok(ip6tablesSave().includes(chainHash(id)), 'netavark made ip6tables rules for the network');

    // A stopped container shows no address. It published a port: netavark 1.4 leaves the network's port chain
    // behind, empty, in ip6tables as in iptables when such a container leaves before the last one.
    assert.match(ip6tablesSave(), new RegExp(`:NETAVARK-DN-${chainHash(id)} `));
    ok(['stop', '-t', '0', 'a6']);
    assert.equal(inspect('a6').NetworkSettings.Networks.six.GlobalIPv6Address, '');
    assert.doesNotMatch(ip6tablesSave(), new RegExp(`:NETAVARK-DN-${chainHash(id)} `));
    ok(['rm', '-f', 'a6', 'b6']);
    ok(['network', 'rm', 'six']);
    assert.ok(!ip6tablesSave().includes(chainHash(id)), `ip6tables rules of the network are left:\n${ip6tablesSave().split('\n').filter((l) => l.includes(chainHash(id))).join('\n')}`);
  });

  await t.test('dual stack with both subnets given; --ipv6 alone gets a ULA /64; connect with --ip6; the default bridge stays IPv4', () => {
    const base = unroutedSubnet('10.216', process.pid % 256);
    const v6 = `${ulaPrefix(2)}::/64`;
    const p6 = v6.replace('::/64', '');
    ok(['network', 'create', '--ipv6', '--subnet', `${base}.0/24`, '--subnet', v6, '--gateway', `${p6}::fe`, 'dual']);
    assert.deepEqual(netInspect('dual').IPAM.Config, [{ Subnet: `${base}.0/24`, Gateway: `${base}.1` }, { Subnet: v6, Gateway: `${p6}::fe` }]);
    ok(['network', 'create', '--ipv6', 'auto6']);
    ok(['network', 'create', '--ipv6', 'auto6b']);
    const autoSubnet = (name) => {
      const n = netInspect(name);
      assert.equal(n.EnableIPv6, true);
      const c = n.IPAM.Config.find((x) => x.Subnet.includes(':'));
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
      assert.ok(inspect('sp2').NetworkSettings.Networks[name].Aliases.includes('other one'), 'an alias no DNS name can be is kept, not resolved');
      const ep = inspect('sp1').NetworkSettings.Networks[name];
      assert.equal(ep.NetworkID, id);
      assert.match(ep.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
      assert.deepEqual(Object.keys(netInspect(name).Containers).length, 2);
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
      assert.match(JSON.parse(r.body).message, new RegExp(`operation is not permitted on predefined ${name} network`));
    }
    const blank = d.api('POST', '/networks/create', { Name: ' \t' });
    assert.equal(blank.status, 400, blank.body);
  });

  await t.test("docker-py's network integration tests (api_network_test.py, models_networks_test.py) with Debian's python3-docker", () => {
    const results = JSON.parse(python(d, path.join(__dirname, '../helpers/docker_py_networks.py')));
    assert.ok(Object.keys(results).length >= 29, JSON.stringify(Object.keys(results)));
    const failed = Object.entries(results).filter(([, r]) => r !== 'ok');
    assert.deepEqual(failed.map(([name]) => name), [], failed.map(([name, r]) => `${name}:\n${r}`).join('\n'));
    assert.equal(ok(['ps', '-aq']).trim(), '', 'the tests removed their containers');
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
    assert.match(JSON.parse(gw.body).message, new RegExp(`invalid gateway fd99::1: it is not a host address of subnet ${p6}::/64`));
    const two = d.api('POST', '/networks/create', { Name: 'bad6', EnableIPv6: true, IPAM: { Config: [{ Subnet: v6 }, { Subnet: `${p6}:8000::/65` }] } });
    assert.equal(two.status, 403, two.body);
    assert.match(JSON.parse(two.body).message, /invalid pool request: Pool overlaps with other one on this address space/);
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
    assert.match(JSON.parse(c.body).message, /invalid IPv6 address: 10\.1\.2\.3/);
    // An IPv6 subnet on a network without IPv6 is refused rather than ignored.
    const noV6 = d.api('POST', '/networks/create', { Name: 'bad6', IPAM: { Config: [{ Subnet: v6 }] } });
    assert.equal(noV6.status, 400, noV6.body);
    ok(['network', 'rm', 'good6']);
    assert.equal(ok(['network', 'ls', '-q']), before);
  });
});
