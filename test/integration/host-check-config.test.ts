// Real test of src/host/check-config.ts on this host, and of its hybrid-cgroup warning in a private mount namespace.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { runCheckConfig } from '../../src/host/check-config';
import { prepareHost } from '../../src/host/prepare';
import { readCgroupLayout } from '../../src/host/cgroups';
import { repoRoot } from '../helpers/paths';

const root = process.getuid!() === 0;

function collector() {
  const chunks: string[] = [];
  const out = new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb(); } });
  return { out, text: () => chunks.join('') };
}

test('check-config exits 0 on this prepared host and reports every group', { skip: !root && 'needs root' }, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cc-it-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  await prepareHost({ dataRoot: path.join(tmp, 'data'), runRoot: path.join(tmp, 'run') });

  const c = collector();
  const code = await runCheckConfig(c.out);
  const text = c.text();
  assert.equal(code, 0, text);
  for (const group of ['Kernel:', 'Namespaces:', 'Cgroups:', 'Storage:', 'Security:', 'Networking:', 'Runtime:']) {
    assert.match(text, new RegExp(`^${group}$`, 'm'));
  }
  assert.match(text, /  - crun: ok \(crun version \d/);
  assert.match(text, /  - conmon: ok \(conmon version \d/);
  assert.match(text, /  - overlay: enabled/);
  assert.match(text, /  - pid: enabled/);
  assert.doesNotMatch(text, /\x1b\[/); // no colours when not a terminal
  assert.match(text, /All required features are present/);
});

// The kernel keeps a controller on one hierarchy at a time, so a cgroup2 that still holds one cannot be
// recreated on a prepared host; a private mount namespace shows crun and check-config the file as before.
test('check-config warns about a controller on cgroup2 in hybrid mode, as crun refuses it', { skip: !root && 'needs root' }, async (t) => {
  const layout = await readCgroupLayout();
  if (layout.mode !== 'hybrid') return t.skip('host is not hybrid');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cc-it-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  fs.writeFileSync(path.join(tmp, 'controllers'), 'hugetlb\n');
  const script = `require(${JSON.stringify(path.join(repoRoot, 'dist-test/src/host/check-config'))}).runCheckConfig().then((c) => process.exit(c))`;
  const out = execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c',
    `mount --bind "$1" "$2" && exec "$3" -e "$4"`, 'sh',
    path.join(tmp, 'controllers'), path.join(layout.v2Mount!, 'cgroup.controllers'), process.execPath, script], { encoding: 'utf8' });
  assert.match(out, /  - crun in hybrid mode: warning \(optional\) \(cgroup2 at \/sys\/fs\/cgroup\/unified holds hugetlb: crun 1\.8 refuses/);
  assert.match(out, /mount -t cgroup -o hugetlb cgroup \/sys\/fs\/cgroup\/hugetlb/);
});
