// berthd's --default-address-pool (daemon.json "default-address-pools"): the default bridge and new networks take
// their /24s from it; a pool Berth cannot use stops berthd at start with a message that names the problem.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestDaemon } from '../helpers/daemon';
import { repoRoot } from '../helpers/paths';
import type { NetworkInspect } from '../helpers/api-types';

test('networks take their subnets from the daemon\'s address pool', async (t) => {
  const d = new TestDaemon('pool');
  t.after(() => d.cleanup());
  await d.start();
  const base = /base=10\.(\d+)\.0\.0\/16/.exec(d.addressPool)![1];
  const subnetOf = (name: string) => (JSON.parse(d.dockerOk(['network', 'inspect', name])) as NetworkInspect[])[0]!.IPAM.Config[0]!.Subnet;
  assert.match(subnetOf('bridge'), new RegExp(`^10\\.${base}\\.\\d+\\.0/24$`));
  d.dockerOk(['network', 'create', 'pooled']);
  assert.match(subnetOf('pooled'), new RegExp(`^10\\.${base}\\.\\d+\\.0/24$`));
  d.dockerOk(['network', 'rm', 'pooled']);
});

test('a pool Berth cannot use is refused at start, by name', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pool-'));
  const config = path.join(dir, 'daemon.json');
  fs.writeFileSync(config, '{}');
  for (const [pool, want] of [['base=10.1.0.0/16,size=26', /size 26: Berth allocates \/24 subnets only/], ['base=10.1.0.0/25', /invalid base "10.1.0.0\/25"/], ['base=nope', /invalid base "nope"/]] as const) {
    const r = spawnSync(path.join(repoRoot, 'bin/berthd'), ['--config-file', config, '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'run'), '--default-address-pool', pool], { encoding: 'utf8', timeout: 20_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, want);
  }
  // daemon.json's form is read the same way.
  fs.writeFileSync(config, JSON.stringify({ 'default-address-pools': [{ base: '10.1.0.0/16', size: 20 }] }));
  const r = spawnSync(path.join(repoRoot, 'bin/berthd'), ['--config-file', config, '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'run')], { encoding: 'utf8', timeout: 20_000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /size 20: Berth allocates \/24 subnets only/);
  assert.ok(!fs.existsSync(path.join(dir, 'run')), 'nothing was started');
  fs.rmSync(dir, { recursive: true, force: true });
});
