// Docker's default security profile through the docker CLI: seccomp, capabilities, masked /proc, escapes refused.
import test from 'node:test';
import assert from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { TestDaemon, busyboxRootfs } from '../helpers/daemon';
import type { IdBody } from '../helpers/api-types';

// A static probe making the system calls busybox has no applet for; each line is "<call> ok|<strerror>".
const PROBE = `
#define _GNU_SOURCE
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/personality.h>
static void report(const char *name, long r) { printf("%s %s\\n", name, r < 0 ? strerror(errno) : "ok"); }
int main(void) {
  report("keyctl", syscall(SYS_keyctl, 0, -3, 0));
  report("add_key", syscall(SYS_add_key, "user", "k", "v", 1, -3));
  report("init_module", syscall(SYS_init_module, (void *)0, 0, ""));
  report("finit_module", syscall(SYS_finit_module, -1, "", 0));
  report("unshare_user", unshare(CLONE_NEWUSER));
  report("vsock", socket(40, SOCK_STREAM, 0));
  report("personality_norandom", personality(ADDR_NO_RANDOMIZE));
  report("getpid", getpid());
  return 0;
}
`;

/** busybox plus /probe, imported as probe:latest. */
function importProbeImage(d: TestDaemon) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-probe-'));
  try {
    fs.writeFileSync(path.join(dir, 'probe.c'), PROBE);
    const root = path.join(dir, 'root');
    fs.mkdirSync(root);
    execFileSync('tar', ['-xf', busyboxRootfs(), '-C', root]);
    execFileSync('gcc', ['-static', '-O2', '-o', path.join(root, 'probe'), path.join(dir, 'probe.c')]);
    execFileSync('tar', ['-cf', path.join(dir, 'img.tar'), '-C', root, '.']);
    d.dockerOk(['import', path.join(dir, 'img.tar'), 'probe:latest']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const probe = (out: string) => Object.fromEntries(out.trim().split('\n').map((l) => { const i = l.indexOf(' '); return [l.slice(0, i), l.slice(i + 1)]; }));

test('default security profile', async (t) => {
  const d = new TestDaemon('security');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  importProbeImage(d);

  await t.test('seccomp filter is on by default, off for --privileged and seccomp=unconfined', () => {
    assert.match(d.dockerOk(['run', '--rm', 'busybox', 'grep', 'Seccomp:', '/proc/self/status']), /Seccomp:\s+2/);
    assert.match(d.dockerOk(['run', '--rm', '--privileged', 'busybox', 'grep', 'Seccomp:', '/proc/self/status']), /Seccomp:\s+0/);
    assert.match(d.dockerOk(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'grep', 'Seccomp:', '/proc/self/status']), /Seccomp:\s+0/);
  });

  await t.test('escapes from the default profile fail', () => {
    const r = d.docker(['run', '--rm', 'busybox', 'sh', '-c',
      'unshare -U -r true && echo USERNS; unshare -Urm true && echo USERNS2; mount -t tmpfs x /tmp && echo MOUNT; ' +
      'echo 1 > /proc/sys/kernel/ostype && echo PROCSYS; echo h > /proc/sysrq-trigger && echo SYSRQ; cat /proc/kcore | head -c1 | wc -c; echo done']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /USERNS|MOUNT|PROCSYS|SYSRQ/);
    assert.match(r.stdout, /^0\ndone/m);
    const p = probe(d.dockerOk(['run', '--rm', 'probe', '/probe']));
    assert.strictEqual(p.getpid, 'ok');
    for (const call of ['keyctl', 'add_key', 'init_module', 'finit_module', 'unshare_user', 'personality_norandom']) {
      assert.strictEqual(p[call], 'Operation not permitted', `${call}: ${p[call]}`);
    }
    assert.notStrictEqual(p.vsock, 'ok');
    // The runs above compiled the default profile: this container gets crun's compiled filter back
    // (runtime/seccomp-bpf-cache.ts) and refuses the same calls, in its own process and in an exec.
    const id = d.dockerOk(['run', '-d', 'probe', 'sleep', '60']).trim();
    try {
      const spec = JSON.parse(fs.readFileSync(path.join(d.dataRoot, 'containers', id, 'bundle', 'config.json'), 'utf8')) as { annotations?: Record<string, string> };
      assert.ok(spec.annotations?.['run.oci.seccomp_bpf_data'], 'the compiled filter is passed to crun');
      const execd = probe(d.dockerOk(['exec', id, '/probe']));
      assert.strictEqual(execd.getpid, 'ok');
      for (const call of ['keyctl', 'add_key', 'init_module', 'finit_module', 'unshare_user', 'personality_norandom']) {
        assert.strictEqual(execd[call], 'Operation not permitted', `exec ${call}: ${execd[call]}`);
      }
      assert.match(d.dockerOk(['exec', id, 'grep', 'Seccomp:', '/proc/1/status']), /Seccomp:\s+2/);
    } finally {
      d.docker(['rm', '-f', id]);
    }
  });

  await t.test('raw sockets need CAP_NET_RAW', () => {
    assert.strictEqual(d.docker(['run', '--rm', 'busybox', 'ping', '-c1', '-W2', '127.0.0.1']).code, 0);
    const r = d.docker(['run', '--rm', '--cap-drop', 'NET_RAW', 'busybox', 'ping', '-c1', '-W2', '127.0.0.1']);
    assert.notStrictEqual(r.code, 0);
    assert.match(r.stderr, /permission denied/);
  });

  await t.test('capabilities: default set, --cap-add, --cap-drop, --privileged', () => {
    const eff = (args: string[]) => BigInt('0x' + /CapEff:\s*([0-9a-f]+)/.exec(d.dockerOk(['run', '--rm', ...args, 'busybox', 'grep', 'CapEff', '/proc/self/status']))![1]);
    assert.strictEqual(eff([]), 0xa80425fbn);
    assert.strictEqual(eff(['--cap-drop', 'CHOWN']), 0xa80425fan);
    assert.ok(eff(['--cap-add', 'SYS_ADMIN']) & (1n << 21n));
    assert.ok(eff(['--privileged']) & (1n << 21n));
    // CAP_SYS_ADMIN also unlocks mount in the seccomp profile.
    assert.match(d.dockerOk(['run', '--rm', '--cap-add', 'SYS_ADMIN', 'busybox', 'sh', '-c', 'mkdir /m && mount -t tmpfs x /m && echo MOUNTED']), /MOUNTED/);
  });

  await t.test('--privileged: host devices and a writable /sys', () => {
    const out = d.dockerOk(['run', '--rm', '--privileged', 'busybox', 'sh', '-c', 'ls /dev/fuse /dev/null && grep " /sys " /proc/mounts']);
    assert.match(out, /\/dev\/fuse/);
    assert.match(out, /sysfs \/sys sysfs rw/);
  });

  await t.test('no-new-privileges, read-only, tmpfs, device, user and group-add', () => {
    assert.match(d.dockerOk(['run', '--rm', '--security-opt', 'no-new-privileges', 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status']), /NoNewPrivs:\s+1/);
    const ro = d.docker(['run', '--rm', '--read-only', 'busybox', 'touch', '/x']);
    assert.notStrictEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);
    assert.match(d.dockerOk(['run', '--rm', '--read-only', '--tmpfs', '/run:size=1m', 'busybox', 'sh', '-c', 'touch /run/x && grep " /run " /proc/mounts']), /tmpfs \/run tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k/);
    const body = { Image: 'busybox', Cmd: ['grep', ' /scratch ', '/proc/mounts'], HostConfig: { Tmpfs: { '/scratch': 'exec' } } };
    const created = d.api('POST', '/containers/create', body);
    assert.strictEqual(created.status, 201, created.body);
    assert.strictEqual(d.docker(['start', '-a', (JSON.parse(created.body) as IdBody).Id]).stdout.includes('noexec'), false);
    assert.match(d.dockerOk(['run', '--rm', '--device', '/dev/fuse:/dev/myfuse', 'busybox', 'ls', '-l', '/dev/myfuse']), /^c.* 10,\s+229 /);
    assert.notStrictEqual(d.docker(['run', '--rm', '--device', '/dev/nonexistent', 'busybox', 'true']).code, 0);
    assert.strictEqual(d.dockerOk(['run', '--rm', '-u', 'nobody', '--group-add', 'daemon', 'busybox', 'id']).trim(), 'uid=65534(nobody) gid=65534(nogroup) groups=1(daemon),65534(nogroup)');
  });

  await t.test('bad --security-opt and seccomp profiles are 400s; a custom profile applies', () => {
    const r = d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { SecurityOpt: ['bogus=1'] } });
    assert.strictEqual(r.status, 400);
    assert.match(r.body, /invalid --security-opt/);
    const bad = d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { SecurityOpt: ['seccomp={not json'] } });
    assert.strictEqual(bad.status, 400);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-seccomp-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const profile = path.join(dir, 'p.json');
    fs.writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
    const m = d.docker(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'mkdir', '/x']);
    assert.notStrictEqual(m.code, 0);
    assert.match(m.stderr, /Operation not permitted/);
  });
});
