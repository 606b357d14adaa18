// AardvarkOverlayDns with the real netavark 1.4 and aardvark-dns 1.4 in scratch network namespaces: a bridge network
// with two containers, then Berth's lines set, changed and removed, queried from a container and from an address in
// no line (aardvark-dns answers both).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AardvarkOverlayDns } from '../../src/cluster/overlay/overlay-dns-aardvark';
import { DEFAULT_AARDVARK } from '../../src/network/netavark';

/** Debian's netavark, which this test still uses to make the network aardvark-dns serves. */
const DEFAULT_NETAVARK = '/usr/lib/podman/netavark';

const NET = 'a0a0a0a0a0a0b1b1b1b1b1b1c2c2c2c2c2c2d3d3d3d3d3d3e4e4e4e4e4e4f5f5';
const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function options(id: string, name: string, ip: string): string {
  return JSON.stringify({
    container_id: id, container_name: name, networks: { [NET]: { interface_name: 'eth0', static_ips: [ip], aliases: [name] } },
    network_info: { [NET]: { name: NET, id: NET, driver: 'bridge', network_interface: `bod${process.pid % 10000}`, subnets: [{ subnet: '10.77.0.0/24', gateway: '10.77.0.1' }], ipv6_enabled: false, internal: false, dns_enabled: true, ipam_options: { driver: 'host-local' } } },
  });
}

const QUERY = `const { Resolver } = require('node:dns').promises;
(async () => { const [src, ...names] = process.argv.slice(1); const out = {};
  for (const n of names) { const r = new Resolver({ timeout: 1500, tries: 1 }); r.setServers(['10.77.0.1']); r.setLocalAddress(src);
    out[n] = await r.resolve4(n).then((a) => [...new Set(a)].sort(), () => []); }
  console.log(JSON.stringify(out)); })();`;

test('aardvark-dns answers Berth\'s overlay lines', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const tag = `odns${process.pid}`;
  const [hostNs, c1] = [`${tag}h`, `${tag}c1`];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-odns-'));
  const cfg = path.join(dir, 'cfg');
  fs.mkdirSync(path.join(cfg, 'aardvark-dns'), { recursive: true });
  const opts = path.join(dir, 'o1.json');
  fs.writeFileSync(opts, options('c1'.repeat(32), 'one', '10.77.0.2'));
  const netavark = (verb: string) => sh('ip', ['netns', 'exec', hostNs, DEFAULT_NETAVARK, '--config', cfg, '-a', DEFAULT_AARDVARK, '-f', opts, verb, `/run/netns/${c1}`]);
  const query = (src: string, ...names: string[]) => JSON.parse(sh('ip', ['netns', 'exec', c1, process.execPath, '-e', QUERY, src, ...names])) as Record<string, string[]>;
  sh('ip', ['netns', 'add', hostNs]);
  sh('ip', ['netns', 'add', c1]);
  try {
    sh('ip', ['-n', hostNs, 'link', 'set', 'lo', 'up']);
    netavark('setup');
    sh('ip', ['-n', c1, 'addr', 'add', '10.77.0.99/24', 'dev', 'eth0']);
    const dns = new AardvarkOverlayDns(cfg);
    await dns.set(NET, [
      { key: 'ovr1', ips: ['10.77.0.50'], names: ['tasks.web'] },
      { key: 'ovr2', ips: ['10.77.0.51'], names: ['tasks.web', 'far'] },
      { key: 'ovr3', ips: ['10.77.0.5'], names: ['web'] },
    ]);
    await new Promise((r) => setTimeout(r, 300));
    const expected = { one: ['10.77.0.2'], 'tasks.web': ['10.77.0.50', '10.77.0.51'], far: ['10.77.0.51'], web: ['10.77.0.5'] };
    assert.deepEqual(query('10.77.0.2', 'one', 'tasks.web', 'far', 'web'), expected, 'from a container');
    assert.deepEqual(query('10.77.0.99', 'one', 'tasks.web', 'far', 'web'), expected, 'from an address in no line');

    await dns.set(NET, [{ key: 'ovr4', ips: ['10.77.0.52'], names: ['tasks.web'] }]);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(query('10.77.0.2', 'one', 'tasks.web', 'far'), { one: ['10.77.0.2'], 'tasks.web': ['10.77.0.52'], far: [] });
    const text = fs.readFileSync(path.join(cfg, 'aardvark-dns', NET), 'utf8');
    assert.match(text, /^10\.77\.0\.1\nc1c1c1c1\S* 10\.77\.0\.2  one,one\novr4 10\.77\.0\.52  tasks\.web\n$/, 'netavark\'s lines kept');
  } finally {
    try { netavark('teardown'); } catch { /* the namespaces go anyway */ }
    let pid = 0;
    try { pid = Number(fs.readFileSync(path.join(cfg, 'aardvark-dns', 'aardvark.pid'), 'utf8').trim()); } catch { /* it stopped with the network */ }
    if (pid && fs.existsSync(`/proc/${pid}`)) process.kill(pid);
    sh('ip', ['netns', 'del', c1]);
    sh('ip', ['netns', 'del', hostNs]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
