// LinuxNetns against the kernel: a namespace file is live (nsfs, told by statfs) once made, remove unmounts it before
// it resolves and a create of the same ID started meanwhile waits for that, reserve leaves a file a namespace can be made on,
// remove and a second remove leave nothing. hold: the namespace held by a descriptor after a process in the right
// cgroup joined it, the bind mount gone from the host's table, the file a symlink that still opens it, and a new
// manager (berthd restarted) holding it again through that process. configureFresh: a namespace made and configured
// by one process and held by a descriptor from the start, never in the host's mount table; a failing input leaves
// nothing held and names the error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LinuxNetns } from '../../src/network/netns';

test('LinuxNetns: create, exists, remove, create again', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-netns-'));
  const ns = new LinuxNetns(path.join(dir, 'netns'));
  const id = 'a'.repeat(64);
  const errors: unknown[] = [];
  try {
    assert.equal(await ns.exists(id), false, 'no file yet');
    const file = await ns.create(id);
    assert.equal(file, ns.pathOf(id));
    assert.equal(await ns.exists(id), true);
    assert.equal((await fs.promises.statfs(file)).type, 0x6e736673, 'nsfs mounted on the file');

    void ns.remove(id).catch((e: unknown) => errors.push(e));
    // A start again right away: waits for the unmount, then gets a fresh namespace.
    await ns.create(id);
    assert.equal(await ns.exists(id), true);
    assert.deepEqual(await ns.list(), [id]);

    void ns.remove(id).catch((e: unknown) => errors.push(e));
    assert.equal(await ns.exists(id), false, 'exists waits for the removal');
    assert.deepEqual(await ns.list(), []);

    // reserve: the file only (replacing a live one), which whoever configures the namespace first makes it on.
    await ns.create(id);
    assert.equal(await ns.reserve(id), file);
    assert.equal(await ns.exists(id), false, 'reserved, not a namespace');
    assert.equal(fs.statSync(file).size, 0);
    assert.deepEqual(await ns.list(), [id]);
    assert.equal(spawnSync('unshare', [`--net=${file}`, 'true']).status, 0);
    assert.equal(await ns.exists(id), true, 'made on the reserved file');
    void ns.remove(id).catch((e: unknown) => errors.push(e));
    assert.equal(await ns.exists(id), false);
    assert.deepEqual(await ns.list(), []);
    // A namespace still mounted on its file (a container stopped within its first second): unmounted before remove
    // resolves, not with a later batch, so a stop answers with it gone.
    await ns.create(id);
    await ns.remove(id);
    assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(dir), 'unmounted when remove resolved');
    await ns.remove(id);
    assert.deepEqual(errors, []);
  } finally {
    await ns.remove(id).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('LinuxNetns: hold trades the bind mount for a descriptor, checked against the cgroup', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const { dir, cgroupName, cgroupDir, ns, id, file, mounted, cleanUp } = await cgroupScratch('test', 'b');
  const inode = (p: string) => fs.statSync(p).ino;
  let sleeper: ReturnType<typeof spawn> | undefined;
  const errors: unknown[] = [];
  try {
    await ns.create(id);
    const made = inode(file);
    assert.ok(mounted(), 'made as a bind mount');
    // The container's process: in the namespace and in its own cgroup.
    sleeper = spawn('nsenter', [`--net=${file}`, 'sleep', '60'], { stdio: 'ignore' });
    await waitFor(() => { try { return inode(`/proc/${sleeper!.pid}/ns/net`) === made; } catch { return false; } });
    const pid = sleeper.pid!;
    fs.writeFileSync(`${cgroupDir}/cgroup.procs`, String(pid));

    await ns.hold(id, pid, '/somewhere-else');
    assert.ok(mounted(), 'a pid outside the container\'s cgroup is not trusted: nothing changes');
    assert.equal(await ns.enterPath(id), file);

    await ns.hold(id, pid, cgroupName);
    assert.ok(!mounted(), 'the bind mount is gone');
    assert.equal(fs.readlinkSync(file), `/proc/${pid}/ns/net`, 'the file is a symlink to the process\'s namespace');
    assert.equal(inode(file), made, 'which opens the same namespace');
    const held = await ns.enterPath(id);
    assert.match(held, new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
    assert.equal(inode(held), made);
    assert.equal(spawnSync('nsenter', [`--net=${held}`, 'true']).status, 0, 'nsenter enters it by the descriptor');
    assert.equal(await ns.exists(id), true);

    // berthd restarted: a new manager finds the symlink and holds the namespace through the process again.
    const again = new LinuxNetns(path.join(dir, 'netns'));
    assert.equal(await again.exists(id), false, 'a symlink alone is not trusted');
    await again.hold(id, pid, '/somewhere-else');
    assert.equal(await again.exists(id), false);
    await again.hold(id, pid, cgroupName);
    assert.equal(await again.exists(id), true);
    assert.equal(inode(await again.enterPath(id)), made);

    // The process ends: the descriptor keeps the namespace (the teardown still finds its interfaces), until removed.
    sleeper.kill('SIGKILL');
    await waitFor(() => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'));
    sleeper = undefined;
    assert.equal(await ns.exists(id), true);
    assert.equal(inode(await ns.enterPath(id)), made);
    void ns.remove(id).catch((e: unknown) => errors.push(e));
    void again.remove(id).catch((e: unknown) => errors.push(e));
    assert.equal(await ns.exists(id), false);
    assert.equal(await again.exists(id), false);
    assert.deepEqual(await ns.list(), []);
    assert.deepEqual(errors, []);
  } finally {
    sleeper?.kill('SIGKILL');
    await cleanUp();
  }
});

test('LinuxNetns: configureFresh makes the namespace held, never mounted, and fails cleanly', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const { dir, cgroupName, cgroupDir, ns, id, file, mounted, cleanUp } = await cgroupScratch('fresh', 'c');
  const inode = (p: string) => fs.statSync(p).ino;
  let sleeper: ReturnType<typeof spawn> | undefined;
  try {
    // A failing line: an error naming ip's complaint, nothing held, the reserved file left as it was.
    await ns.reserve(id);
    await assert.rejects(ns.configureFresh(file, ['ip', '-batch', '-'], 'link add dummy0 type veth peer name dummy1\nlink set nosuchdev up\n'),
      (e: Error) => /unshare --net ip -batch -: .*(nosuchdev|Cannot find device)/s.test(e.message));
    assert.equal(await ns.exists(id), false);
    assert.equal(fs.lstatSync(file).isFile(), true, 'still the reserved file');
    await assert.rejects(ns.configureFresh(path.join(dir, 'elsewhere'), ['ip', '-batch', '-'], ''), /not a namespace file/);
    await assert.rejects(ns.configureFresh(ns.pathOf('d'.repeat(64)), ['ip', '-batch', '-'], ''), /not reserved/, 'a file reserve() did not make');
    assert.equal(fs.existsSync(ns.pathOf('d'.repeat(64))), false);

    // Made and configured by one process: held, the file a symlink to berthd's descriptor, nothing mounted.
    await ns.configureFresh(file, ['ip', '-batch', '-'], 'link add dummy0 type veth peer name dummy1\nlink set dummy0 up\n');
    assert.equal(await ns.exists(id), true);
    assert.ok(!mounted(), 'never a bind mount');
    const held = await ns.enterPath(id);
    assert.match(held, new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
    assert.equal(fs.readlinkSync(file), held, 'the file points at the descriptor');
    const made = inode(held);
    assert.notEqual(made, inode('/proc/self/ns/net'), 'a namespace of its own');
    assert.equal(inode(file), made);
    const links = spawnSync('nsenter', [`--net=${held}`, 'ip', '-o', 'link', 'show', 'dummy0'], { encoding: 'utf8' });
    assert.match(links.stdout, /dummy0@dummy1: <[^>]*\bUP\b/, 'the input ran in it');

    // The container's process joins it: hold points the file at the process, keeping the descriptor.
    sleeper = spawn('nsenter', [`--net=${held}`, 'sleep', '60'], { stdio: 'ignore' });
    await waitFor(() => { try { return inode(`/proc/${sleeper!.pid}/ns/net`) === made; } catch { return false; } });
    const pid = sleeper.pid!;
    fs.writeFileSync(`${cgroupDir}/cgroup.procs`, String(pid));
    await ns.hold(id, pid, '/somewhere-else');
    assert.equal(fs.readlinkSync(file), held, 'a pid outside the cgroup changes nothing');
    await ns.hold(id, pid, cgroupName);
    assert.equal(fs.readlinkSync(file), `/proc/${pid}/ns/net`);
    assert.equal(await ns.enterPath(id), held, 'still held by the same descriptor');

    // Removal lets go of it: the file goes, no mount was ever there.
    await ns.remove(id);
    assert.equal(await ns.exists(id), false);
    assert.equal(fs.existsSync(file), false);
    assert.ok(!mounted());
  } finally {
    sleeper?.kill('SIGKILL');
    await cleanUp();
  }
});

/**
 * A namespace directory and a pids cgroup of the test's own (the container's cgroup), and what removes them: the
 * namespace first, then the cgroup once the killed process has left it.
 */
async function cgroupScratch(tag: string, idChar: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-netns-'));
  const cgroupName = `/berth-netns-${tag}-${process.pid}`;
  const cgroupDir = `/sys/fs/cgroup/pids${cgroupName}`;
  fs.mkdirSync(cgroupDir);
  const ns = new LinuxNetns(path.join(dir, 'netns'));
  const id = idChar.repeat(64);
  const mounted = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(dir);
  const cleanUp = async () => {
    await ns.remove(id).catch(() => undefined);
    for (let i = 0; i < 50 && fs.existsSync(cgroupDir); i++) {
      try { fs.rmdirSync(cgroupDir); } catch { await new Promise((r) => setTimeout(r, 100)); }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { dir, cgroupName, cgroupDir, ns, id, file: ns.pathOf(id), mounted, cleanUp };
}

async function waitFor(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out');
}
