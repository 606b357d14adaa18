// Unit tests of SeccompBpfCache (src/runtime/seccomp-bpf-cache.ts): a profile compiled once is handed back compiled.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SECCOMP_BPF_ANNOTATION, SeccompBpfCache } from '../../src/runtime/seccomp-bpf-cache';
import type { RuntimeSpec } from '../../src/wire/oci';

const profile = (names: string[]) => ({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }] });
const spec = (seccomp?: unknown, annotations?: Record<string, string>): RuntimeSpec => ({
  ociVersion: '1.0.2', ...(annotations ? { annotations } : {}), linux: seccomp ? { seccomp } : {},
});

test('the filter crun compiled for one container is given to the next with the same profile, not to another profile', async (t) => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bpf-'));
  t.after(() => fs.rmSync(state, { recursive: true, force: true }));
  const bpf = Buffer.from([0x20, 0, 0, 0, 4, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0xff, 0x7f]);
  const cache = new SeccompBpfCache();

  const first = spec(profile(['read', 'write']));
  cache.prepare('a', first);
  assert.equal(first.annotations, undefined, 'nothing compiled yet: crun compiles');
  fs.mkdirSync(path.join(state, 'a'));
  fs.writeFileSync(path.join(state, 'a', 'seccomp.bpf'), bpf);
  await cache.learn('a', path.join(state, 'a'));

  const second = spec(profile(['read', 'write']));
  cache.prepare('b', second);
  assert.equal(second.annotations?.[SECCOMP_BPF_ANNOTATION], bpf.toString('base64'));
  const other = spec(profile(['read']));
  cache.prepare('c', other);
  assert.equal(other.annotations, undefined, 'another profile is compiled afresh');
});

test('no profile, a filter of the spec\'s own, a failed create or a state without a whole filter teach nothing', async (t) => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bpf-'));
  t.after(() => fs.rmSync(state, { recursive: true, force: true }));
  const cache = new SeccompBpfCache();
  const none = spec();
  cache.prepare('a', none);
  assert.equal(none.annotations, undefined);
  const own = spec(profile(['read']), { [SECCOMP_BPF_ANNOTATION]: 'AAAA' });
  cache.prepare('b', own);
  assert.equal(own.annotations?.[SECCOMP_BPF_ANNOTATION], 'AAAA', 'left as given');
  fs.writeFileSync(path.join(state, 'seccomp.bpf'), Buffer.alloc(8, 1));
  await cache.learn('b', state);
  cache.prepare('c', spec(profile(['read'])));
  cache.forget('c');
  await cache.learn('c', state);
  fs.writeFileSync(path.join(state, 'seccomp.bpf'), Buffer.alloc(7, 1));
  cache.prepare('d', spec(profile(['read'])));
  await cache.learn('d', state);
  const after = spec(profile(['read']));
  cache.prepare('e', after);
  assert.equal(after.annotations, undefined, 'nothing was learnt');
});
