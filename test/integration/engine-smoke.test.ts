// A real berthd answers the docker CLI v28: version, run, logs, ps.
import test from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../helpers/daemon';

test('docker CLI v28 runs a container on berthd', async (t) => {
  const d = new TestDaemon('smoke');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  assert.match(d.dockerOk(['version', '--format', '{{.Server.APIVersion}}']).trim(), /^1\.47$/);
  assert.equal(d.dockerOk(['run', '--rm', 'busybox', 'echo', 'hello']), 'hello\n');
  const r = d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
  assert.equal(r.code, 3);
});
