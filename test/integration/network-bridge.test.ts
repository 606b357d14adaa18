// The default bridge against berthd through the docker CLI v28: each container its own IP and veth, NAT out,
// published ports (-p host:ctr[/udp], -p ip:host:ctr, -p ctr, -P) answering on 127.0.0.1, the host's address and
// from other containers, docker port, --network none|host|container:, --add-host/--dns/--dns-search, --link,
// a subnet away from what the host routes, bad input leaving nothing behind, apt-get update from a Debian base
// through NAT, and no interface, rule, namespace or lease left at the end.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import { TestDaemon, type RunOpts } from '../helpers/daemon';
import { NetState, freePort, curl } from '../helpers/netstate';
import { until } from '../helpers/wait';
import type { ContainerInspect, NetworkInspect } from '../helpers/api-types';


/** The host's own first IPv4 address that is not loopback and not one of the daemons' bridges. */
function defaultDev() {
  const route = spawnSync('ip', ['-j', '-4', 'route', 'show', 'default'], { encoding: 'utf8' }).stdout;
  return (JSON.parse(route || '[]') as { dev: string }[])[0]?.dev;
}

function hostAddress() {
  const a = (os.networkInterfaces()[defaultDev()] ?? []).find((i) => i.family === 'IPv4' && !i.internal);
  assert.ok(a, 'the host has an IPv4 address on its default route');
  return a.address;
}


/** Sends a UDP datagram and waits for the echo; UDP may drop one, so up to three tries a second apart. */
function udpEcho(host: string, port: number, text: string) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    let tries = 0;
    const send = () => {
      if (tries++ === 3) { s.close(); resolve(undefined); return; }
      s.send(text, port, host);
      timer = setTimeout(send, 1000);
    };
    let timer: NodeJS.Timeout | undefined;
    s.on('message', (m) => { clearTimeout(timer); s.close(); resolve(m.toString()); });
    send();
  });
}

test('the default bridge against berthd', { timeout: 600_000 }, async (t) => {
  const d = new TestDaemon('netbr');
  const state = new NetState(d);
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const ok = (args: string[], opts?: RunOpts) => d.dockerOk(args, opts);
  const fail = (args: string[]) => d.dockerFail(args);
  const inspect = (name: string) => (JSON.parse(ok(['inspect', name])) as ContainerInspect[])[0];
  const hostIp = hostAddress();
  const [bridgeNet] = (JSON.parse(ok(['network', 'inspect', 'bridge'])) as NetworkInspect[]);
  const subnet = bridgeNet.IPAM.Config[0].Subnet;
  const gateway = bridgeNet.IPAM.Config[0].Gateway;
  state.learn();
  ok(['run', '--name', 'webseed', 'busybox', 'sh', '-c', 'mkdir -p /www && echo bridge-page > /www/index.html']);
  ok(['commit', '--change', 'EXPOSE 80', '--change', 'EXPOSE 9999/udp', '--change', 'CMD ["httpd", "-f", "-p", "80", "-h", "/www"]', 'webseed', 'web']);
  ok(['rm', 'webseed']);

  await t.test('each container gets its own address and veth on the bridge, a route out, and NAT to the outside', () => {
    // A /21 of the pool: room for more containers than a bridge takes ports (1,023).
    assert.match(subnet, /^\d+\.\d+\.\d+\.0\/21$/);
    ok(['run', '-d', '--name', 'a1', 'busybox', 'sleep', '600']);
    ok(['run', '-d', '--name', 'a2', 'busybox', 'sleep', '600']);
    const [n1, n2] = ['a1', 'a2'].map((n) => inspect(n).NetworkSettings);
    assert.notEqual(n1.IPAddress, n2.IPAddress);
    for (const n of [n1, n2]) {
      assert.equal(n.Gateway, gateway);
      assert.equal(n.IPPrefixLen, 21);
      assert.equal(n.Networks.bridge.NetworkID, bridgeNet.Id);
      assert.match(n.MacAddress, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      assert.match(n.SandboxKey, /netns\//);
    }
    // Inside: one interface besides lo, with the address and MAC inspect shows, and the default route via the bridge.
    const addr = ok(['exec', 'a1', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
    assert.ok(addr.includes(`inet ${n1.IPAddress}/21`), addr);
    assert.ok(ok(['exec', 'a1', 'cat', '/sys/class/net/eth0/address']).includes(n1.MacAddress));
    assert.match(ok(['exec', 'a1', 'ip', 'route']), new RegExp(`^default via ${gateway.replace(/\./g, '\\.')} dev eth0`));
    // On the host: the bridge holds the gateway address and one veth per container.
    assert.ok(spawnSync('ip', ['-o', '-4', 'addr', 'show', d.bridge], { encoding: 'utf8' }).stdout.includes(`inet ${gateway}/21`));
    assert.equal(state.vethsOn(d.bridge).length, 2);
    // Its MAC is fixed (set from user space), so it does not follow its ports as containers come and go.
    assert.equal(fs.readFileSync(`/sys/class/net/${d.bridge}/addr_assign_type`, 'utf8').trim(), '3');
    // The containers reach each other, and the world through the host's masquerade.
    ok(['exec', 'a1', 'ping', '-c1', '-W2', n2.IPAddress]);
    assert.ok(state.rules().some((r) => r.includes(`-s ${subnet}`)), 'a NAT rule for the subnet');
    const release = ok(['exec', 'a1', 'sh', '-c', 'wget -qO- http://deb.debian.org/debian/dists/bookworm/Release | head -3']);
    assert.match(release, /Origin: Debian/);
    const [bn] = (JSON.parse(ok(['network', 'inspect', 'bridge'])) as NetworkInspect[]);
    assert.deepEqual(Object.values(bn.Containers).map((c) => c.Name).sort(), ['a1', 'a2']);
    assert.equal(bn.Containers[inspect('a1').Id].IPv4Address, `${n1.IPAddress}/21`);
    // A stopped container gives its address and veth back.
    ok(['stop', '-t', '0', 'a2']);
    assert.equal(inspect('a2').NetworkSettings.IPAddress, '');
    assert.equal(state.vethsOn(d.bridge).length, 1);
    ok(['rm', 'a2']);
  });

  await t.test('published ports answer on 127.0.0.1, the host\'s address and from containers; docker port lists them', async () => {
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    ok(['run', '-d', '--name', 'web1', '-p', `${p1}:80`, '-p', `127.0.0.1:${p2}:80`, '-p', '80', '-p', `${p3}:7777/udp`, 'web']);
    await until(() => curl(`http://127.0.0.1:${p1}/`).out === 'bridge-page\n', 'httpd to answer');
    assert.equal(curl(`http://${hostIp}:${p1}/`).out, 'bridge-page\n');
    assert.equal(curl(`http://127.0.0.1:${p2}/`).out, 'bridge-page\n');
    assert.notEqual(curl(`http://${hostIp}:${p2}/`).code, 0, 'a port published on 127.0.0.1 is not on the host\'s address');
    // -p 80: a dynamic host port from the kernel's ephemeral range.
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const lines = ok(['port', 'web1']).trim().split('\n').sort();
    const dyn = lines.map((l) => /^80\/tcp -> 0\.0\.0\.0:(\d+)$/.exec(l)?.[1]).filter(Boolean).map(Number).find((p) => p !== p1)!;
    assert.ok(dyn >= lo && dyn <= hi, `dynamic port ${dyn} in ${lo}-${hi}: ${lines}`);
    assert.deepEqual(lines, [`7777/udp -> 0.0.0.0:${p3}`, `80/tcp -> 0.0.0.0:${p1}`, `80/tcp -> 0.0.0.0:${dyn}`, `80/tcp -> 127.0.0.1:${p2}`].sort());
    assert.equal(curl(`http://127.0.0.1:${dyn}/`).out, 'bridge-page\n');
    assert.equal(ok(['port', 'web1', '7777/udp']).trim(), `0.0.0.0:${p3}`);
    assert.match(fail(['port', 'web1', '81']), /No public port '81' published for web1/);
    assert.match(ok(['ps', '--filter', 'name=web1', '--format', '{{.Ports}}']), new RegExp(`127\\.0\\.0\\.1:${p2}->80/tcp`));
    const ports = inspect('web1').NetworkSettings.Ports;
    assert.deepEqual(ports['80/tcp']!.map((b) => b.HostPort).sort(), [String(p1), String(p2), String(dyn)].sort());
    assert.equal(ports['9999/udp'], null, 'an exposed, unpublished port is listed without bindings');
    // From another container: through the host's address and through the bridge's gateway.
    const fromCtr = ok(['run', '--rm', 'busybox', 'sh', '-c', `timeout 5 wget -qO- http://${hostIp}:${p1}/; timeout 5 wget -qO- http://${gateway}:${p1}/`]);
    assert.equal(fromCtr, 'bridge-page\nbridge-page\n');
    // UDP: an echo server inside the container's network namespace answers through the published port.
    const pid = inspect('web1').State.Pid;
    const echo = spawn('nsenter', ['-t', String(pid), '-n', process.execPath, '-e',
      "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('echo:'+m,r.port,r.address));s.bind(7777,()=>console.log('up'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => echo.kill('SIGKILL'));
    await new Promise((r) => echo.stdout.once('data', r));
    assert.equal(await udpEcho(hostIp, p3, 'u1'), 'echo:u1', state.rules().filter((r) => r.includes(String(p3))).join('\n'));
    assert.equal(await udpEcho('127.0.0.1', p3, 'u2'), 'echo:u2');
    echo.kill('SIGKILL');
  });

  await t.test('-P publishes every EXPOSEd port on a dynamic host port', () => {
    ok(['run', '-d', '--name', 'webP', '-P', '--expose', '8081', 'web']);
    const lines = ok(['port', 'webP']).trim().split('\n').sort();
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['80/tcp', '8081/tcp', '9999/udp']);
    const p80 = /:(\d+)$/.exec(lines[0])![1];
    assert.equal(curl(`http://127.0.0.1:${p80}/`).out, 'bridge-page\n');
    ok(['rm', '-f', 'webP']);
    assert.ok(!state.rules().some((r) => r.includes(`--dport ${p80} `)), 'the DNAT rule went with the container');
    assert.notEqual(curl(`http://127.0.0.1:${p80}/`).code, 0);
  });

  await t.test('--network none, host and container:<name>', () => {
    assert.equal(ok(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net']).trim(), 'lo');
    const none = ok(['create', '--network', 'none', 'busybox']).trim();
    assert.deepEqual(Object.keys(inspect(none).NetworkSettings.Networks), ['none']);
    ok(['rm', none]);
    const inHost = ok(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net']).trim().split(/\s+/);
    assert.ok(inHost.includes(d.bridge) && inHost.includes(defaultDev()), inHost.join(' '));
    assert.deepEqual(Object.keys(inspect(ok(['create', '--name', 'hostnet', '--network', 'host', 'busybox']).trim()).NetworkSettings.Networks), ['host']);
    ok(['rm', 'hostnet']);
    assert.equal(ok(['run', '--rm', '--network', 'host', 'busybox', 'hostname']).trim(), os.hostname());
    // container:<name> shares web1's interfaces: same address, and its server on localhost.
    const ip = inspect('web1').NetworkSettings.IPAddress;
    const out = ok(['run', '--rm', '--network', 'container:web1', 'busybox', 'sh', '-c', 'ip -o -4 addr show eth0; wget -qO- http://127.0.0.1/']);
    assert.ok(out.includes(`inet ${ip}/21`) && out.endsWith('bridge-page\n'), out);
    assert.match(fail(['run', '--rm', '--network', 'container:ghost', 'busybox', 'true']), /No such container: ghost/);
    assert.match(fail(['run', '--rm', '--network', 'container:web1', '-p', '81:81', 'busybox', 'true']), /conflicting options: port publishing and the container type network mode/);
    assert.match(fail(['run', '--rm', '--network', 'none', '-p', '81:81', 'busybox', 'true']), /conflicting options: port publishing/);
  });

  await t.test('--add-host, --dns, --dns-search, --dns-option write the container\'s /etc files', () => {
    const out = ok(['run', '--rm', '--add-host', 'db.example:10.9.8.7', '--add-host', 'gw.example:host-gateway', '--dns', '10.1.2.3',
      '--dns-search', 'corp.example', '--dns-option', 'ndots:3', 'busybox', 'sh', '-c', 'cat /etc/hosts; echo ---; cat /etc/resolv.conf']);
    const [hosts, resolv] = out.split('---\n');
    assert.match(hosts, /^10\.9\.8\.7\tdb\.example$/m);
    assert.match(hosts, new RegExp(`^${gateway.replace(/\./g, '\\.')}\\tgw\\.example$`, 'm'));
    assert.match(hosts, new RegExp(`^${subnet.split('.').slice(0, 3).join('\\.')}\\.\\d+\\t[0-9a-f]{12}$`, 'm'), 'its own address and hostname');
    assert.equal(resolv, 'search corp.example\nnameserver 10.1.2.3\noptions ndots:3\n');
    assert.match(fail(['run', '--rm', '--add-host', 'bad', 'busybox', 'true']), /invalid argument "bad" for "--add-host" flag/);
  });

  await t.test('--link on the default bridge: hosts entries and environment variables as legacy Docker makes them', () => {
    ok(['run', '-d', '--name', 'linked', '-e', 'SECRET=s3', '--expose', '5432', 'busybox', 'sleep', '600']);
    const ip = inspect('linked').NetworkSettings.IPAddress;
    const id = inspect('linked').Id.slice(0, 12);
    const out = ok(['run', '--rm', '--name', 'linker', '--link', 'linked:db', 'busybox', 'sh', '-c', 'grep -w db /etc/hosts; env | grep ^DB_ | sort; ping -c1 -W2 db >/dev/null && echo reached']);
    assert.deepEqual(out.split('\n'), [
      `${ip}\tdb ${id} linked`,
      'DB_ENV_SECRET=s3',
      'DB_NAME=/linker/db',
      `DB_PORT=tcp://${ip}:5432`,
      `DB_PORT_5432_TCP=tcp://${ip}:5432`,
      `DB_PORT_5432_TCP_ADDR=${ip}`,
      'DB_PORT_5432_TCP_PORT=5432',
      'DB_PORT_5432_TCP_PROTO=tcp',
      'reached',
      '',
    ]);
    assert.match(fail(['run', '--rm', '--link', 'ghost:g', 'busybox', 'true']), /could not get container for ghost/);
    ok(['stop', '-t', '0', 'linked']);
    assert.match(fail(['run', '--rm', '--link', 'linked:db', 'busybox', 'true']), /Cannot link to a non running container: \/linked AS \/[a-z_]+\/db/);
    ok(['rm', 'linked']);
  });

  await t.test('bad input: a taken host port, an unknown network, --ip on the default bridge — clear errors, nothing half-made', async () => {
    const before = state.snapshot();
    // A port a host process holds.
    const holder = net.createServer().listen(0, '0.0.0.0');
    await new Promise((r) => holder.once('listening', r));
    const taken = (holder.address() as net.AddressInfo).port;
    try {
      const err = fail(['run', '-d', '--name', 'clash1', '-p', `${taken}:80`, 'web']);
      assert.match(err, new RegExp(`Bind for 0\\.0\\.0\\.0:${taken} failed: port is already allocated`));
      assert.equal(inspect('clash1').State.Status, 'created');
      assert.equal(inspect('clash1').NetworkSettings.IPAddress, '');
    } finally {
      holder.close();
    }
    // A port another container publishes.
    const p1 = ok(['port', 'web1', '80/tcp']).split('\n').find((l) => l.startsWith('0.0.0.0:'))!.split(':')[1];
    assert.match(fail(['run', '-d', '--name', 'clash2', '-p', `${p1}:80`, 'web']), new RegExp(`Bind for 0\\.0\\.0\\.0:${p1} failed: port is already allocated`));
    // A second container still gets the port once the first has let it go.
    assert.deepEqual(await state.settledSnapshot(before), before, 'no veth, rule, namespace or lease from the failed starts');
    ok(['rm', 'clash1', 'clash2']);
    assert.match(fail(['run', '--rm', '--network', 'ghostnet', 'busybox', 'true']), /network ghostnet not found/);
    assert.match(fail(['run', '--rm', '--ip', '10.210.0.99', 'busybox', 'true']), /user specified IP address is supported on user defined networks only/);
    assert.match(fail(['run', '--rm', '--network-alias', 'x', 'busybox', 'true']), /network-scoped alias(es are only supported for user-defined networks| is supported only for containers in user defined networks)/);
    assert.match(fail(['run', '--rm', '-p', '70000:80', 'busybox', 'true']), /invalid (host )?port|Invalid hostPort/i);
    assert.match(fail(['run', '--rm', '--mac-address', 'nonsense', 'busybox', 'true']), /nonsense is not a valid mac address|invalid MAC address/);
    assert.equal(ok(['ps', '-aq', '--filter', 'status=created']).trim(), '');
    assert.deepEqual(await state.settledSnapshot(before), before);
  });

  await t.test('the default bridge moves off a subnet that the host has come to route', async () => {
    for (const id of ok(['ps', '-aq']).split('\n').filter(Boolean)) ok(['rm', '-f', id]);
    await d.stop();
    // Something else (a docker0, a VPN) now routes our subnet: the daemon must pick another at start-up.
    const other = `bd${process.pid.toString(36)}`.slice(0, 15);
    assert.equal(spawnSync('ip', ['link', 'add', other, 'type', 'bridge']).status, 0);
    t.after(() => spawnSync('ip', ['link', 'del', other]));
    const [a, b, c] = subnet.split('.');
    const added = spawnSync('ip', ['addr', 'add', `${a}.${b}.${c}.1/24`, 'dev', other], { encoding: 'utf8' });
    spawnSync('ip', ['link', 'set', other, 'up']);
    await d.start();
    assert.equal(added.status, 0, added.stderr);
    const moved = (JSON.parse(ok(['network', 'inspect', 'bridge'])) as NetworkInspect[])[0].IPAM.Config[0].Subnet;
    assert.notEqual(moved, subnet);
    state.subnets.add(moved);
    const routes = spawnSync('ip', ['-4', 'route'], { encoding: 'utf8' }).stdout;
    assert.ok(!routes.split('\n').some((l) => l.startsWith(`${moved} `) && !l.includes(` ${d.bridge} `)), routes);
    const ip = ok(['run', '--rm', 'busybox', 'sh', '-c', 'ip -o -4 addr show eth0']);
    assert.ok(ip.includes(`inet ${moved.split('.').slice(0, 3).join('.')}.`), ip);
    spawnSync('ip', ['link', 'del', other]);
  });

  await t.test('a container from a Debian base runs apt-get update against the Debian mirror through NAT', () => {
    const made = d.berth(['image', 'bootstrap', 'debian:bookworm'], { timeout: 300_000 });
    assert.equal(made.code, 0, made.stderr);
    const out = ok(['run', '--rm', 'debian:bookworm', 'sh', '-c', 'apt-get update && apt-cache policy base-files | grep -c deb.debian.org'], { timeout: 300_000 });
    assert.match(out, /bookworm InRelease/);
    assert.match(out, /Reading package lists/);
    assert.match(out.trim().split('\n').pop()!, /^[1-9]\d*$/);
    ok(['rmi', 'debian:bookworm']);
  });

  await t.test('nothing is left behind: no veth, bridge, namespace, rule, lease or DNS entry', async () => {
    for (const id of ok(['ps', '-aq']).split('\n').filter(Boolean)) ok(['rm', '-f', id]);
    assert.deepEqual(await state.settledLeftovers(), []);
    assert.ok(state.chains.size > 0, 'the tracker saw netavark\'s chains for this daemon');
  });
});
