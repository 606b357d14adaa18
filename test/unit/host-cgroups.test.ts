// Unit tests of src/host/cgroups.ts: layout detection and cgroup file parsing from fixtures, both drivers
// over fixture directory trees, and the fake driver.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as cg from '../../src/host/cgroups';
import { FakeCgroupDriver } from '../fakes/cgroups';
import { unitFixtures } from '../helpers/paths';
import { parseMountInfo } from '../../src/host/mount';
import { NotFoundError, InvalidParameterError } from '../../src/errdefs';

// This host (Debian 12, hybrid) before the hugetlb fix, a systemd v1 host with cpu,cpuacct co-mounted, a pure v2 host.
const fixture = (name: string): string => fs.readFileSync(path.join(unitFixtures, name), 'utf8');
const HYBRID = fixture('host-mountinfo-hybrid.txt');
const V1 = fixture('host-mountinfo-v1.txt');
const V2 = fixture('host-mountinfo-v2.txt');

test('cgroupLayoutFrom detects hybrid, v1 and v2 as crun does', () => {
  const h = cg.cgroupLayoutFrom(parseMountInfo(HYBRID), ['hugetlb']);
  assert.equal(h.mode, 'hybrid');
  assert.equal(h.v2Mount, '/sys/fs/cgroup/unified');
  assert.deepEqual(h.v2Controllers, ['hugetlb']);
  assert.equal(h.v1.get('memory')?.mountPoint, '/sys/fs/cgroup/memory');
  assert.ok(h.v1.has('name=systemd'));
  assert.ok(!h.v1.has('hugetlb'));

  const v1 = cg.cgroupLayoutFrom(parseMountInfo(V1), []);
  assert.equal(v1.mode, 'v1');
  assert.equal(v1.v2Mount, undefined);
  assert.equal(v1.v1.get('cpu')?.mountPoint, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(v1.v1.get('cpuacct')?.mountPoint, '/sys/fs/cgroup/cpu,cpuacct');
  assert.ok(!v1.v1.has('xattr') && !v1.v1.has('release_agent=/lib/systemd/systemd-cgroups-agent'));

  const v2 = cg.cgroupLayoutFrom(parseMountInfo(V2), ['cpu', 'memory', 'pids']);
  assert.equal(v2.mode, 'v2');
  assert.equal(v2.v2Mount, '/sys/fs/cgroup');
  assert.equal(v2.v1.size, 0);

  assert.throws(() => cg.cgroupLayoutFrom([], []), /no cgroup filesystem/);
});

test('cgroupDriverFor: v2 only on a pure cgroup2 host, hybrid keeps controllers on v1', () => {
  assert.equal(cg.cgroupDriverFor(cg.cgroupLayoutFrom(parseMountInfo(HYBRID), [])).constructor.name, 'CgroupV1Driver');
  assert.equal(cg.cgroupDriverFor(cg.cgroupLayoutFrom(parseMountInfo(V1), [])).constructor.name, 'CgroupV1Driver');
  assert.equal(cg.cgroupDriverFor(cg.cgroupLayoutFrom(parseMountInfo(V2), [])).constructor.name, 'CgroupV2Driver');
});

// Bytes read from a crun container's cgroup on this host (v1) and on a Debian 12 v2 host.
const OOM_CONTROL = 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n';
const BLKIO = '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 12288\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 12288\n' +
  '8:16 Read 100\n8:16 Write 1\n8:16 Total 101\nTotal 12389\n';
const IO_STAT = '8:0 rbytes=1048576 wbytes=4096 rios=10 wios=1 dbytes=0 dios=0\n254:0 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n';
const MEMORY_EVENTS = 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n';

test('parsers of cgroup files', () => {
  assert.deepEqual(cg.parseFlatKeyed(OOM_CONTROL), { oom_kill_disable: 0, under_oom: 0, oom_kill: 2 });
  assert.equal(cg.parseFlatKeyed(MEMORY_EVENTS).oom_kill, 1);
  assert.equal(cg.parseLimit('max\n'), null);
  assert.equal(cg.parseLimit('9223372036854771712\n'), null);
  assert.equal(cg.parseLimit('67108864\n'), 67108864);
  assert.deepEqual(cg.parseBlkioServiceBytes(BLKIO), { readBytes: 4196, writeBytes: 8193 });
  assert.equal(cg.parseBlkioServiceBytes('Total 0\n'), null);
  assert.deepEqual(cg.parseIoStat(IO_STAT), { readBytes: 1048577, writeBytes: 4098 });
  assert.deepEqual(cg.parseIoStat(''), { readBytes: 0, writeBytes: 0 });
  assert.deepEqual(cg.parseProcs('4779\n4790\n'), [4779, 4790]);
});

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cg-unit-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

function v1Layout(root: string): cg.CgroupLayout {
  const v1: cg.CgroupLayout['v1'] = new Map();
  for (const c of ['cpuacct', 'memory', 'pids', 'blkio', 'freezer']) v1.set(c, { mountPoint: path.join(root, c), root: '/' });
  return { mode: 'hybrid', root, v1, v2Mount: path.join(root, 'unified'), v2Controllers: [] };
}

test('CgroupV1Driver reads a v1 fixture tree', async (t) => {
  const id = '/berth/abc';
  const root = tree({
    [`cpuacct${id}/cpuacct.usage`]: '5671368\n',
    [`memory${id}/memory.usage_in_bytes`]: '241664\n',
    [`memory${id}/memory.limit_in_bytes`]: '67108864\n',
    [`memory${id}/memory.stat`]: 'cache 4096\nrss 53248\ntotal_cache 8192\ntotal_inactive_file 4096\n',
    [`memory${id}/memory.oom_control`]: OOM_CONTROL,
    [`pids${id}/pids.current`]: '1\n',
    [`pids${id}/pids.max`]: 'max\n',
    [`pids${id}/cgroup.procs`]: '4779\n',
    [`blkio${id}/blkio.throttle.io_service_bytes_recursive`]: BLKIO,
    [`blkio${id}/blkio.io_service_bytes_recursive`]: '',
    [`freezer${id}/freezer.state`]: 'THAWED\n',
  });
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const d = cg.cgroupDriverFor(v1Layout(root));
  assert.equal(d.mode, 'hybrid');
  const s = await d.stats(id);
  assert.deepEqual(s.cpu, { usageNanos: 5671368 });
  assert.equal(s.memory?.usage, 241664);
  assert.equal(s.memory?.limit, 67108864);
  assert.equal(s.memory?.cache, 8192);
  assert.equal(s.memory?.stat.total_inactive_file, 4096);
  assert.deepEqual(s.pids, { current: 1, limit: null });
  assert.deepEqual(s.blkio, { readBytes: 4196, writeBytes: 8193 });
  assert.deepEqual(Object.keys(await d.stats(id, ['pids'])), ['pids']);
  assert.equal(await d.oomKilled(id), true);
  assert.deepEqual(await d.pids(id), [4779]);
  // The fixture's freezer.state is a plain file, so it reads back what was written, like a freeze that took.
  await d.freeze(id);
  assert.equal(fs.readFileSync(path.join(root, `freezer${id}/freezer.state`), 'utf8'), 'FROZEN');
  await d.thaw(id);
  assert.equal(fs.readFileSync(path.join(root, `freezer${id}/freezer.state`), 'utf8'), 'THAWED');

  await assert.rejects(d.stats('/berth/missing'), NotFoundError);
  await assert.rejects(d.oomKilled('/berth/missing'), NotFoundError);
  await assert.rejects(d.pids('/berth/missing'), NotFoundError);
  await assert.rejects(d.freeze('/berth/missing'), NotFoundError);
  await assert.rejects(d.stats('berth/relative'), InvalidParameterError);
  await assert.rejects(d.stats('/berth/../etc'), InvalidParameterError);
});

test('CgroupV2Driver reads a v2 fixture tree', async (t) => {
  const id = '/berth/abc';
  const root = tree({
    [`berth/abc/cpu.stat`]: 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n',
    [`berth/abc/memory.current`]: '1048576\n',
    [`berth/abc/memory.max`]: 'max\n',
    [`berth/abc/memory.stat`]: 'anon 4096\nfile 8192\ninactive_file 4096\n',
    [`berth/abc/memory.events`]: MEMORY_EVENTS,
    [`berth/abc/pids.current`]: '3\n',
    [`berth/abc/pids.max`]: '100\n',
    [`berth/abc/io.stat`]: IO_STAT,
    [`berth/abc/cgroup.procs`]: '10\n11\n12\n',
    [`berth/abc/cgroup.freeze`]: '0\n',
    [`berth/abc/cgroup.events`]: 'populated 1\nfrozen 1\n',
    [`berth/nomem/cpu.stat`]: 'usage_usec 1\n',
    [`berth/nomem/cgroup.procs`]: '',
  });
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const d = cg.cgroupDriverFor({ mode: 'v2', root, v1: new Map(), v2Mount: root, v2Controllers: [] });
  const s = await d.stats(id);
  assert.deepEqual(s.cpu, { usageNanos: 1500000 });
  assert.deepEqual({ ...s.memory, stat: undefined }, { usage: 1048576, limit: null, cache: 8192, stat: undefined });
  assert.deepEqual(s.pids, { current: 3, limit: 100 });
  assert.deepEqual(s.blkio, { readBytes: 1048577, writeBytes: 4098 });
  assert.equal(await d.oomKilled(id), true);
  assert.deepEqual(await d.pids(id), [10, 11, 12]);
  await d.freeze(id); // cgroup.events already says frozen 1
  assert.equal(fs.readFileSync(path.join(root, 'berth/abc/cgroup.freeze'), 'utf8'), '1');
  // Controllers not enabled for a cgroup leave their part out instead of failing.
  assert.deepEqual(await d.stats('/berth/nomem'), { cpu: { usageNanos: 1000 } });
  await assert.rejects(d.stats('/berth/missing'), NotFoundError);
  await assert.rejects(d.pids('/berth/missing'), NotFoundError);
});

test('FakeCgroupDriver', async () => {
  const f = new FakeCgroupDriver('v1');
  const c = f.add('/berth/x', { stats: { pids: { current: 2, limit: null } }, pids: [5, 6] });
  assert.deepEqual(await f.stats('/berth/x'), { pids: { current: 2, limit: null } });
  assert.deepEqual(await f.stats('/berth/x', ['cpu']), {});
  await f.freeze('/berth/x');
  assert.equal(c.frozen, true);
  await f.thaw('/berth/x');
  assert.equal(c.frozen, false);
  c.oomKilled = true;
  assert.equal(await f.oomKilled('/berth/x'), true);
  assert.deepEqual(await f.pids('/berth/x'), [5, 6]);
  await assert.rejects(f.stats('/berth/y'), NotFoundError);
});
