// The seccomp generator: Docker's default profile semantics, capability- and arch-conditional rules, user profiles.
import test from 'node:test';
import assert from 'node:assert';
import { defaultSeccomp, seccompFromJson, kernelAtLeast, CLONE_NAMESPACE_FLAGS, type OciSeccomp, type SeccompContext } from '../../src/runtime/seccomp';
import { DEFAULT_CAPABILITIES } from '../../src/runtime/spec';

const ctx = (capabilities = DEFAULT_CAPABILITIES, arch = 'amd64', kernel = '6.1.0'): SeccompContext => ({ capabilities, arch, kernel });
const allowed = (p: OciSeccomp) => new Set(p.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));

test('default action is ERRNO(EPERM), architectures from the arch map', () => {
  const p = defaultSeccomp(ctx());
  assert.strictEqual(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.strictEqual(p.defaultErrnoRet, 1);
  assert.deepStrictEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepStrictEqual(defaultSeccomp(ctx(undefined, 'arm64')).architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
});

test('common calls allowed; mount, modules, keyrings, reboot refused with the default capabilities', () => {
  const a = allowed(defaultSeccomp(ctx()));
  for (const s of ['read', 'write', 'openat', 'execve', 'futex', 'chroot', 'arch_prctl', 'ptrace']) if (s) assert.ok(a.has(s), s);
  for (const s of ['mount', 'umount2', 'unshare', 'setns', 'init_module', 'finit_module', 'delete_module', 'keyctl', 'add_key', 'request_key', 'reboot', 'kexec_load', 'bpf', 'clock_settime', 'iopl', 'acct', 'userfaultfd']) {
    assert.ok(!a.has(s), s);
  }
});

test('capabilities unlock their calls', () => {
  const a = allowed(defaultSeccomp(ctx([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN', 'CAP_SYS_MODULE', 'CAP_SYS_BOOT', 'CAP_SYS_TIME'])));
  for (const s of ['mount', 'umount2', 'unshare', 'setns', 'clone', 'clone3', 'init_module', 'reboot', 'clock_settime']) assert.ok(a.has(s), s);
  const noChroot = allowed(defaultSeccomp(ctx(DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT'))));
  assert.ok(!noChroot.has('chroot'));
});

test('without CAP_SYS_ADMIN clone may not make namespaces and clone3 is ENOSYS', () => {
  const p = defaultSeccomp(ctx());
  const clone = p.syscalls.filter((r) => r.names.includes('clone'));
  assert.strictEqual(clone.length, 1);
  assert.deepStrictEqual(clone[0].args, [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  assert.ok(CLONE_NAMESPACE_FLAGS & 0x10000000, 'CLONE_NEWUSER is among the masked flags');
  const clone3 = p.syscalls.filter((r) => r.names.includes('clone3'));
  assert.deepStrictEqual(clone3, [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
  const s390 = defaultSeccomp(ctx(undefined, 's390x')).syscalls.filter((r) => r.names.includes('clone'));
  assert.strictEqual(s390[0].args![0].index, 1);
});

test('socket families but AF_ALG/AF_VSOCK, and only harmless personalities', () => {
  const p = defaultSeccomp(ctx());
  const sock = p.syscalls.filter((r) => r.names.includes('socket')).map((r) => `${r.args![0].op} ${r.args![0].value}`);
  assert.deepStrictEqual(sock, ['SCMP_CMP_LT 38', 'SCMP_CMP_EQ 39', 'SCMP_CMP_GT 40']);
  const pers = p.syscalls.filter((r) => r.names.includes('personality')).map((r) => r.args![0].value);
  assert.deepStrictEqual(pers, [0, 8, 0x20000, 0x20008, 0xffffffff]);
});

test('ptrace without CAP_SYS_PTRACE only from kernel 4.8', () => {
  assert.ok(allowed(defaultSeccomp(ctx(undefined, 'amd64', '4.8.0'))).has('ptrace'));
  assert.ok(!allowed(defaultSeccomp(ctx(undefined, 'amd64', '4.4.0'))).has('ptrace'));
  assert.ok(kernelAtLeast('6.18.44-fc', '4.8'));
  assert.ok(!kernelAtLeast('4.7.10', '4.8'));
});

test('user profiles: includes/excludes, old "name" form, bad JSON refused', () => {
  const p = seccompFromJson(JSON.stringify({
    defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      { name: 'mkdir', action: 'SCMP_ACT_ERRNO' },
      { names: ['mount'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['arm_only'], action: 'SCMP_ACT_ERRNO', includes: { arches: ['arm64'] } },
    ],
  }), ctx());
  assert.deepStrictEqual(p.syscalls.map((r) => r.names[0]), ['mkdir', 'mount']);
  assert.deepStrictEqual(p.architectures, ['SCMP_ARCH_X86_64']);
  assert.throws(() => seccompFromJson('{nope', ctx()), /Decoding seccomp profile failed/);
  assert.throws(() => seccompFromJson('{"syscalls":[]}', ctx()), /no defaultAction/);
});
