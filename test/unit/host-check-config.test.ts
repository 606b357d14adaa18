// Unit tests of src/host/check-config.ts: the pure parts (version parsing, cgroup verdicts, rendering).
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as cc from '../../src/host/check-config';
import { cgroupLayoutFrom } from '../../src/host/cgroups';
import { parseMountInfo } from '../../src/host/mount';
import { unitFixtures } from '../helpers/paths';

// This host (Debian 12, hybrid) before the hugetlb fix.
const HYBRID = fs.readFileSync(path.join(unitFixtures, 'host-mountinfo-hybrid.txt'), 'utf8');

test('version and config parsing', () => {
  assert.deepEqual(cc.kernelVersion('6.1.0-18-amd64'), [6, 1]);
  assert.equal(cc.kernelVersion('weird'), null);
  assert.deepEqual(cc.iptablesFlavor('iptables v1.8.9 (nf_tables)\n'), { version: '1.8.9', backend: 'nft' });
  assert.deepEqual(cc.iptablesFlavor('iptables v1.8.7 (legacy)\n'), { version: '1.8.7', backend: 'legacy' });
  const cfg = cc.parseKernelConfig('# comment\nCONFIG_VETH=m\n# CONFIG_MODULES is not set\nCONFIG_SECCOMP=y\n');
  assert.equal(cfg.get('CONFIG_VETH'), 'm');
  assert.equal(cfg.get('CONFIG_SECCOMP'), 'y');
  assert.equal(cfg.has('CONFIG_MODULES'), false);
});

test('hybrid host with hugetlb on cgroup2: a warning naming the crun error and the fix', () => {
  const checks = cc.cgroupChecks(cgroupLayoutFrom(parseMountInfo(HYBRID), ['hugetlb']));
  const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
  assert.equal(byName['mode hybrid'].verdict, 'ok');
  assert.equal(byName.memory.verdict, 'enabled');
  assert.equal(byName.hugetlb.verdict, 'warning');
  assert.equal(byName.blkio.verdict, 'enabled');
  assert.equal(byName.hugetlb.detail, 'on cgroup2 at /sys/fs/cgroup/unified, not on v1');
  const crun = byName['crun in hybrid mode'];
  assert.equal(crun.verdict, 'warning');
  assert.match(crun.detail ?? '', /cgroups in hybrid mode not supported/);
  assert.match(crun.detail ?? '', /mount -t cgroup -o hugetlb cgroup \/sys\/fs\/cgroup\/hugetlb/);

  const fixed = cc.cgroupChecks(cgroupLayoutFrom(parseMountInfo(HYBRID), []));
  assert.equal(fixed.find((c) => c.name === 'crun in hybrid mode')!.verdict, 'ok');
});

test('a v1 host without memory fails; rendering lists what is missing', () => {
  const noMemory = HYBRID.split('\n').filter((l) => !l.includes('memory') && !l.includes('unified')).join('\n');
  const checks = cc.cgroupChecks(cgroupLayoutFrom(parseMountInfo(noMemory), []));
  const memory = checks.find((c) => c.name === 'memory')!;
  assert.equal(memory.verdict, 'missing');
  assert.equal(memory.required, true);
  const text = cc.renderChecks(checks);
  assert.match(text, /^Cgroups:$/m);
  assert.match(text, /  - memory: missing \(not mounted\)/);
  assert.match(text, /Missing required: Cgroups\/memory/);
  assert.match(cc.renderChecks(checks.filter((c) => c !== memory)), /All required features are present \(\d+ warnings?\)/);
});
