// SandboxTable's record files: a removal is forgotten at once and its unlink written behind, yet every file operation
// of one container lands in the order asked (a start right after a stop keeps its new record), other containers'
// files are not held up, and a failed unlink does not stop the next write.
import test from 'node:test';
import assert from 'node:assert/strict';
import { SandboxTable } from '../../src/engine/network-sandboxes';
import { NetworkStore, type SandboxRecord } from '../../src/network/network-store';

/** A store whose file operations finish when the test says (`settle`), recorded when they begin and end. */
class GatedStore extends NetworkStore {
  readonly log: string[] = [];
  private readonly gates: (() => void)[] = [];
  failRemove = false;
  constructor() { super('/nonexistent'); }
  private gated(what: string, fail = false): Promise<void> {
    this.log.push(`begin ${what}`);
    return new Promise((resolve, reject) => this.gates.push(() => { this.log.push(`end ${what}`); if (fail) reject(new Error('EIO')); else resolve(); }));
  }
  override saveSandbox(s: SandboxRecord): Promise<void> { return this.gated(`save ${s.containerId} ${s.sandboxId}`); }
  override removeSandbox(id: string): Promise<void> { return this.gated(`remove ${id}`, this.failRemove); }
  /** Finishes the oldest operation under way (waiting a few turns for one to begin). */
  async settle(): Promise<void> {
    for (let i = 0; i < 10 && !this.gates.length; i++) await tick();
    this.gates.shift()!();
    await tick();
  }
  get waiting(): number { return this.gates.length; }
}

const sandbox = (containerId: string, sandboxId: string): SandboxRecord => ({ containerId, sandboxId, netns: `/run/ns/${containerId}`, attachments: [], ports: [] });
const tick = () => new Promise((r) => setImmediate(r));

test('remove answers before the unlink; the same container\'s next write waits for it', async () => {
  const store = new GatedStore();
  const table = new SandboxTable(store);
  const old = sandbox('c1', 's1');
  const put = table.put(old);
  await store.settle();
  await put;

  const answer = await Promise.race([table.remove(old).then(() => 'answered'), new Promise((r) => setTimeout(r, 500, 'waited'))]);
  assert.equal(answer, 'answered', 'remove does not wait for the unlink');
  assert.equal(table.has('c1'), false, 'forgotten at once');
  await tick();
  assert.deepEqual(store.log.slice(-1), ['begin remove c1'], 'the unlink is under way, nobody waits for it');

  const again = sandbox('c1', 's2');
  let saved = false;
  const put2 = table.put(again).then(() => { saved = true; });
  const other = table.put(sandbox('c2', 's3'));
  await tick();
  assert.ok(table.has('c1'), 'the new sandbox is the container\'s at once');
  assert.ok(!store.log.includes('begin save c1 s2'), 'the new record waits for the old one\'s unlink');
  assert.ok(store.log.includes('begin save c2 s3'), 'another container is not held up');
  await store.settle(); // the unlink
  await tick();
  assert.deepEqual(store.log.filter((l) => l.includes('c1')).slice(-3), ['begin remove c1', 'end remove c1', 'begin save c1 s2']);
  assert.equal(saved, false);
  while (store.waiting) await store.settle();
  await Promise.all([put2, other]);
  assert.equal(saved, true);
});

test('a failed unlink does not stop the next write of the container', async () => {
  const store = new GatedStore();
  const table = new SandboxTable(store);
  const s = sandbox('c1', 's1');
  store.failRemove = true;
  await table.remove(s);
  const put = table.put(sandbox('c1', 's2'));
  await store.settle();
  await store.settle();
  await put;
  assert.deepEqual(store.log, ['begin remove c1', 'end remove c1', 'begin save c1 s2', 'end save c1 s2']);
});
