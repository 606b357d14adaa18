// Unit tests of the pure parts of cp, top, stats, restart policies and health checks.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parsePsOutput, parseNetDev } from '../../src/host/procfs';
import { shouldRestart } from '../../src/engine/restart-manager';
import { probeCommand } from '../../src/engine/health';
import { goFileMode, resolvePath } from '../../src/engine/archive';

test('parsePsOutput keeps the rows of the given pids, the last column whole', () => {
  const out = 'UID          PID    PPID  C STIME TTY          TIME CMD\nroot           1       0  0 10:00 ?        00:00:01 /sbin/init splash\nroot          42       1  0 10:01 ?        00:00:00 sleep 1000\n';
  assert.deepEqual(parsePsOutput(out, [42]), { Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: [['root', '42', '1', '0', '10:01', '?', '00:00:00', 'sleep 1000']] });
  assert.throws(() => parsePsOutput('USER COMMAND\nroot x\n', [1]), /Couldn't find PID field/);
});

test('parseNetDev reads /proc/<pid>/net/dev without lo', () => {
  const text = 'Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0\n  eth0:    1500      10    1    2    0     0          0         0      700       5    3    4    0     0       0          0\n';
  assert.deepEqual(parseNetDev(text), { eth0: { rx_bytes: 1500, rx_packets: 10, rx_errors: 1, rx_dropped: 2, tx_bytes: 700, tx_packets: 5, tx_errors: 3, tx_dropped: 4 } });
});

test('shouldRestart follows moby\'s restart policies', () => {
  assert.equal(shouldRestart({ Name: 'no' }, 1, 0, false), false);
  assert.equal(shouldRestart({ Name: 'always' }, 0, 10, false), true);
  assert.equal(shouldRestart({ Name: 'always' }, 0, 0, true), false);
  assert.equal(shouldRestart({ Name: 'unless-stopped' }, 0, 0, false), true);
  assert.equal(shouldRestart({ Name: 'on-failure' }, 0, 0, false), false);
  assert.equal(shouldRestart({ Name: 'on-failure', MaximumRetryCount: 2 }, 1, 1, false), true);
  assert.equal(shouldRestart({ Name: 'on-failure', MaximumRetryCount: 2 }, 1, 2, false), false);
  assert.equal(shouldRestart({ Name: 'on-failure' }, 1, 99, false), true);
});

test('probeCommand: CMD, CMD-SHELL, NONE', () => {
  assert.deepEqual(probeCommand({ Test: ['CMD', 'true', 'x'] }), ['true', 'x']);
  assert.deepEqual(probeCommand({ Test: ['CMD-SHELL', 'test -f /x'] }), ['/bin/sh', '-c', 'test -f /x']);
  assert.equal(probeCommand({ Test: ['NONE'] }), null);
  assert.equal(probeCommand(undefined), null);
});

test('goFileMode sets Go\'s type bits; resolvePath keeps the last component, clamps links to the root and says the path in the container\'s view', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-archive-'));
  try {
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc/passwd'), 'x');
    fs.symlinkSync('/etc', path.join(root, 'link'));
    fs.symlinkSync('../../..', path.join(root, 'up'));
    assert.equal(goFileMode(fs.lstatSync(path.join(root, 'etc'))), 2 ** 31 + 0o755 - (0o755 & ~(fs.lstatSync(path.join(root, 'etc')).mode & 0o777)));
    assert.ok(goFileMode(fs.lstatSync(path.join(root, 'link'))) & 2 ** 27);
    assert.deepEqual(await resolvePath(root, '/link'), { resolved: path.join(root, 'link'), base: 'link', containerPath: '/link' });
    assert.deepEqual(await resolvePath(root, '/link/passwd'), { resolved: path.join(root, 'etc/passwd'), base: 'passwd', containerPath: '/etc/passwd' });
    assert.deepEqual(await resolvePath(root, '/up/up/etc/passwd'), { resolved: path.join(root, 'etc/passwd'), base: 'passwd', containerPath: '/etc/passwd' });
    assert.deepEqual(await resolvePath(root, '/link/'), { resolved: path.join(root, 'etc'), base: 'link', containerPath: '/etc' });
    assert.deepEqual(await resolvePath(root, '/link/.'), { resolved: path.join(root, 'etc'), base: '.', containerPath: '/etc' });
    assert.deepEqual(await resolvePath(root, '/'), { resolved: root, base: '.', containerPath: '/' });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
