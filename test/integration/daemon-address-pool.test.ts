// berthd's address pools as Docker's (--default-address-pool, --bip, --fixed-cidr; daemon.json
// "default-address-pools", "bip", "fixed-cidr"): the default bridge takes a /21 of the pools (or bip's subnet), new
// networks the pools' subnets; a value Berth cannot use stops berthd at start with a message that names it.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestDaemon } from '../helpers/daemon';
import { repoRoot } from '../helpers/paths';
import type { ContainerInspect, NetworkInspect } from '../helpers/api-types';

test('the default bridge takes a /21 of the daemon\'s address pool, new networks its /24s', async (t) => {
  const d = new TestDaemon('pool');
  t.after(() => d.cleanup());
  await d.start();
  const base = /base=10\.(\d+)\.0\.0\/16/.exec(d.addressPool)![1];
  const subnetOf = (name: string) => (JSON.parse(d.dockerOk(['network', 'inspect', name])) as NetworkInspect[])[0]!.IPAM.Config[0]!.Subnet;
  assert.match(subnetOf('bridge'), new RegExp(`^10\\.${base}\\.\\d+\\.0/21$`));
  d.dockerOk(['network', 'create', 'pooled']);
  assert.match(subnetOf('pooled'), new RegExp(`^10\\.${base}\\.\\d+\\.0/24$`));
  d.dockerOk(['network', 'rm', 'pooled']);
});

test('bip gives the default bridge its address and subnet, fixed-cidr its containers\' addresses', async (t) => {
  // A /16 outside the test daemons' pools (10.64-191), unrouted here.
  const routes = spawnSync('ip', ['-4', 'route'], { encoding: 'utf8' }).stdout;
  const second = [...Array(50).keys()].map((i) => 200 + i).find((n) => !routes.includes(`10.${n}.`));
  assert.ok(second, 'a free 10.x.0.0/16');
  const d = new TestDaemon('bip', { args: ['--bip', `10.${second}.0.9/16`, '--fixed-cidr', `10.${second}.7.0/24`] });
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const [bridge] = JSON.parse(d.dockerOk(['network', 'inspect', 'bridge'])) as NetworkInspect[];
  assert.deepEqual(bridge!.IPAM.Config[0], { Subnet: `10.${second}.0.0/16`, Gateway: `10.${second}.0.9`, IPRange: `10.${second}.7.0/24` });
  d.dockerOk(['run', '-d', '--name', 'b1', 'busybox', 'sleep', '60']);
  const net = (JSON.parse(d.dockerOk(['inspect', 'b1'])) as ContainerInspect[])[0]!.NetworkSettings;
  assert.match(net.IPAddress, new RegExp(`^10\\.${second}\\.7\\.\\d+$`));
  assert.equal(net.IPPrefixLen, 16);
  assert.equal(net.Gateway, `10.${second}.0.9`);
  assert.ok(spawnSync('ip', ['-o', '-4', 'addr', 'show', d.bridge], { encoding: 'utf8' }).stdout.includes(`inet 10.${second}.0.9/16`));
  d.dockerOk(['rm', '-f', 'b1']);
});

test('pools, bip and fixed-cidr Berth cannot use are refused at start, by name', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pool-'));
  const config = path.join(dir, 'daemon.json');
  const start = (args: string[]) => spawnSync(path.join(repoRoot, 'bin/berthd'), ['--config-file', config, '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'run'), ...args], { encoding: 'utf8', timeout: 20_000 });
  fs.writeFileSync(config, '{}');
  for (const [args, want] of [
    [['--default-address-pool', 'base=10.1.0.0/16,size=8'], /default-address-pools\[0\]: invalid size 8: a prefix length from the base's \(16\) to 30/],
    [['--default-address-pool', 'base=10.1.0.0/25'], /invalid size 24: a prefix length from the base's \(25\) to 30/],
    [['--default-address-pool', 'base=nope'], /invalid base "nope"/],
    [['--bip', '10.1.0.0/16'], /bip: 10\.1\.0\.0\/16 is the network's or broadcast address of 10\.1\.0\.0\/16; give the bridge a host address, such as 10\.1\.0\.1\/16/],
    [['--bip', '10.1.0.1/16', '--fixed-cidr', '10.2.0.0/24'], /fixed-cidr: 10\.2\.0\.0\/24 is not inside the bridge's subnet 10\.1\.0\.0\/16 \(bip\)/],
  ] as const) {
    const r = start([...args]);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, want);
  }
  // daemon.json's forms are read the same way.
  for (const [cfg, want] of [
    [{ 'default-address-pools': [{ base: '10.1.0.0/16', size: 31 }] }, /default-address-pools\[0\]: invalid size 31/],
    [{ 'default-address-pools': [] }, /default-address-pools: expected a list/],
    [{ bip: '10.1.0.1' }, /bip: invalid "10\.1\.0\.1"/],
  ] as const) {
    fs.writeFileSync(config, JSON.stringify(cfg));
    const r = start([]);
    assert.notEqual(r.status, 0, JSON.stringify(cfg));
    assert.match(r.stderr, want);
  }
  assert.ok(!fs.existsSync(path.join(dir, 'run')), 'nothing was started');
  fs.rmSync(dir, { recursive: true, force: true });
});
