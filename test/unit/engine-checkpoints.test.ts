// CheckpointService with a fake runtime and container table: names, states, directories, failure clean-up.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CheckpointService, validateCheckpointId, type CheckpointRuntime } from '../../src/engine/checkpoints';
import type { ContainerService } from '../../src/engine/containers';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError, SystemError } from '../../src/errdefs';

/** The part of a container record the checkpoint service reads. */
interface FakeContainer { id: string; name: string; runtime: string; config: { Tty?: boolean }; state: { status: string; stoppedByUser: boolean } }
/** What the fakes were asked, in order: ['checkpoint', runtime, id, options], ['emit', action], ['start', ref, restoreFrom]. */
type Call = [string, ...unknown[]];
type CheckpointOptions = Parameters<CheckpointRuntime['checkpoint']>[2];

function setup({ experimental = true, runtimeFails = false, unsupported }: { experimental?: boolean; runtimeFails?: boolean; unsupported?: string } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ckpt-unit-'));
  const c: FakeContainer = { id: 'a'.repeat(64), name: 'box', runtime: 'runc', config: {}, state: { status: 'running', stoppedByUser: false } };
  const calls: Call[] = [];
  // The container service's calls the checkpoint service makes, over one container.
  const containers = {
    get: (ref: string) => { if (ref !== 'box') throw new NotFoundError(`No such container: ${ref}`); return c; },
    dirOf: () => root,
    stopped: () => Promise.resolve(),
    emit: (_c: FakeContainer, action: string) => calls.push(['emit', action]),
    start: async (ref: string, o: { restoreFrom?: string }) => { calls.push(['start', ref, o.restoreFrom]); return true; },
  };
  const runtime: CheckpointRuntime = {
    checkpointUnsupported: () => unsupported,
    checkpoint: async (rt, id, o) => {
      calls.push(['checkpoint', rt, id, o]);
      fs.writeFileSync(path.join(o.imagePath, 'inventory.img'), '');
      if (runtimeFails) throw new SystemError('runc checkpoint: criu failed');
    },
  };
  const svc = new CheckpointService({ containers: containers as unknown as ContainerService, runtime, experimental });
  return { svc, c, calls, root, done: () => fs.rmSync(root, { recursive: true, force: true }) };
}

test('checkpoint IDs follow Docker\'s restricted name pattern', () => {
  for (const ok of ['cp1', 'a.b', 'x_y-z', '0a']) validateCheckpointId(ok);
  for (const bad of ['', 'a', 'x.', '-a', '.a', 'a/b', '../x', 'a b']) assert.throws(() => validateCheckpointId(bad), InvalidParameterError, bad);
});

test('create dumps into <container dir>/checkpoints/<name>, stops the container on purpose, and lists it', async () => {
  const { svc, c, calls, root, done } = setup();
  await svc.create('box', { CheckpointID: 'cp1' });
  const imagePath = path.join(root, 'checkpoints', 'cp1');
  assert.deepEqual(calls[0], ['checkpoint', 'runc', c.id, { imagePath, workPath: imagePath, leaveRunning: false }]);
  assert.deepEqual(calls[1], ['emit', 'checkpoint']);
  assert.equal(c.state.stoppedByUser, true);
  assert.deepEqual(await svc.list('box'), [{ Name: 'cp1' }]);
  await assert.rejects(svc.create('box', { CheckpointID: 'cp1' }), ConflictError);
  await svc.create('box', { CheckpointID: 'cp0', Exit: false });
  assert.equal((calls.at(-2)![3] as CheckpointOptions).leaveRunning, true);
  assert.deepEqual(await svc.list('box'), [{ Name: 'cp0' }, { Name: 'cp1' }]);
  await svc.remove('box', 'cp0');
  await assert.rejects(svc.remove('box', 'cp0'), NotFoundError);
  done();
});

test('two creates of one name at once: one dumps, the other is refused and the checkpoint stays', async () => {
  const { svc, calls, root, done } = setup();
  const results = await Promise.allSettled([svc.create('box', { CheckpointID: 'cp1' }), svc.create('box', { CheckpointID: 'cp1' })]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
  assert.ok(refused.reason instanceof ConflictError && /already exists/.test(refused.reason.message), String(refused.reason));
  assert.equal(calls.filter((c) => c[0] === 'checkpoint').length, 1);
  assert.ok(fs.existsSync(path.join(root, 'checkpoints', 'cp1', 'inventory.img')));
  done();
});

test('a failed dump leaves no checkpoint behind and the restart policy as it was', async () => {
  const { svc, c, root, done } = setup({ runtimeFails: true });
  await assert.rejects(svc.create('box', { CheckpointID: 'cp1' }), /Cannot checkpoint container box: runc checkpoint: criu failed/);
  assert.equal(fs.existsSync(path.join(root, 'checkpoints', 'cp1')), false);
  assert.equal(c.state.stoppedByUser, false);
  done();
});

test('create refuses what cannot be checkpointed', async () => {
  const s = setup();
  s.c.state.status = 'exited';
  await assert.rejects(s.svc.create('box', { CheckpointID: 'cp1' }), (e) => e instanceof ConflictError && /is not running/.test(e.message));
  s.c.state.status = 'running';
  s.c.config.Tty = true;
  await assert.rejects(s.svc.create('box', { CheckpointID: 'cp1' }), /TTY/);
  await assert.rejects(s.svc.create('box', { CheckpointID: 'cp1', CheckpointDir: 'relative' }), InvalidParameterError);
  await assert.rejects(s.svc.create('nosuch', { CheckpointID: 'cp1' }), NotFoundError);
  s.done();
  const u = setup({ unsupported: 'needs runc' });
  await assert.rejects(u.svc.create('box', { CheckpointID: 'cp1' }), /Cannot checkpoint container box: needs runc/);
  u.done();
});

test('start --checkpoint restores from the named checkpoint, after Docker\'s checks', async () => {
  const { svc, c, calls, root, done } = setup();
  fs.mkdirSync(path.join(root, 'checkpoints', 'cp1'), { recursive: true });
  c.state.status = 'exited';
  await assert.rejects(svc.start('box', 'nope', ''), (e) => e instanceof NotFoundError && e.message === 'checkpoint nope does not exist for container box');
  await assert.rejects(svc.start('box', 'cp1', '/tmp'), ForbiddenError);
  await assert.rejects(svc.start('box', 'bad/x', ''), InvalidParameterError);
  assert.equal(await svc.start('box', 'cp1', ''), true);
  assert.deepEqual(calls.at(-1), ['start', 'box', path.join(root, 'checkpoints', 'cp1')]);
  c.state.status = 'running';
  assert.equal(await svc.start('box', 'cp1', ''), false);
  done();
  const off = setup({ experimental: false });
  await assert.rejects(off.svc.start('box', 'cp1', ''), /checkpoint is only supported in experimental mode/);
  off.done();
});
