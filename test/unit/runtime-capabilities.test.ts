// Unit tests of --cap-add/--cap-drop (src/runtime/spec.ts effectiveCapabilities): "ALL" is the host kernel's set,
// given by the caller (no module state), Docker's default set otherwise.
import test from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CAPABILITIES, effectiveCapabilities } from '../../src/runtime/spec';

const HOST = [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN', 'CAP_BPF'];

test('add and drop, with or without CAP_, on Docker\'s default set', () => {
  const caps = effectiveCapabilities(['net_admin', 'CAP_SYS_TIME'], ['chown'], HOST);
  assert.ok(caps.includes('CAP_NET_ADMIN') && caps.includes('CAP_SYS_TIME'));
  assert.ok(!caps.includes('CAP_CHOWN'));
  assert.equal(caps.length, DEFAULT_CAPABILITIES.length + 1);
});

test('ALL is the host\'s set; dropping ALL keeps only what is added', () => {
  assert.deepEqual(effectiveCapabilities(['ALL'], [], HOST), HOST);
  assert.deepEqual(effectiveCapabilities(['ALL'], [], DEFAULT_CAPABILITIES), DEFAULT_CAPABILITIES);
  assert.deepEqual(effectiveCapabilities(['CAP_KILL'], ['ALL'], HOST), ['CAP_KILL']);
});
