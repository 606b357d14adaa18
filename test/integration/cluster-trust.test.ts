// Swarm trust through the real docker CLI on 1 manager and 1 worker, each in its own network namespace: join-token
// rotation (the old token refused, the new one admitted), an image present only on the manager run by a task on the
// worker (fetched from the peer, in no registry), promotion under autolock, and autolock (nothing secret in the clear under the data root; a
// killed manager comes back locked; unlock with a wrong and the right key; unlock-key rotation).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestCluster, type ClusterNode } from '../helpers/cluster';
import { eventually } from '../helpers/wait';

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && fs.readFileSync(p).includes(needle)) found.push(p);
    }
  };
  walk(dir);
  return found;
}

describe('swarm trust on 1 manager and 1 worker', () => {
  let c: TestCluster;
  let manager: ClusterNode;
  let worker: ClusterNode;
  let unlockKey = '';
  before(async () => {
    c = await new TestCluster(2).start();
    [manager, worker] = c.nodes as [ClusterNode, ClusterNode];
  });
  after(async () => { await c?.cleanup(); });

  test('init --autolock prints the unlock key; nothing secret in the clear under the data root', () => {
    const out = manager.dockerOk(['swarm', 'init', '--autolock', '--advertise-addr', manager.address]) as string;
    unlockKey = manager.dockerOk(['swarm', 'unlock-key', '-q']).toString().trim();
    assert.match(unlockKey, /^SWMKEY-1-[A-Za-z0-9+/]{43}$/);
    assert.ok(out.includes(unlockKey), out);
    assert.equal(manager.dockerOk(['info', '--format', '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}']).toString().trim(), 'true');
    // The node key, the CA key (in etcd's files) and the unlock key are all sealed at rest.
    assert.deepEqual(filesContaining(path.join(manager.dataRoot, 'swarm'), 'PRIVATE KEY'), []);
    assert.deepEqual(filesContaining(path.join(manager.dataRoot, 'swarm'), unlockKey), []);
  });

  test('join-token --rotate worker: the old token is refused, the new one admits the worker', () => {
    const old = manager.dockerOk(['swarm', 'join-token', '-q', 'worker']).toString().trim();
    const managerToken = manager.dockerOk(['swarm', 'join-token', '-q', 'manager']).toString().trim();
    manager.dockerOk(['swarm', 'join-token', '--rotate', 'worker']);
    const fresh = manager.dockerOk(['swarm', 'join-token', '-q', 'worker']).toString().trim();
    assert.notEqual(fresh, old);
    assert.equal(manager.dockerOk(['swarm', 'join-token', '-q', 'manager']).toString().trim(), managerToken);
    assert.match(worker.dockerFail(['swarm', 'join', '--token', old, `${manager.address}:2377`]),
      /rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster/);
    assert.equal(worker.dockerOk(['info', '--format', '{{.Swarm.LocalNodeState}}']).toString().trim(), 'inactive');
    assert.match(worker.dockerOk(['swarm', 'join', '--token', fresh, `${manager.address}:2377`]).toString(), /joined a swarm as a worker/);
  });

  test('an image only on the manager runs on the worker (fetched from the peer, in no registry)', async () => {
    manager.dockerOk(['run', '--name', 'mkimg', 'busybox', 'sh', '-c', 'echo from-the-peer > /peer.txt']);
    manager.dockerOk(['commit', 'mkimg', 'berth-peer-only:1']);
    manager.dockerOk(['rm', 'mkimg']);
    assert.notEqual(worker.docker(['image', 'inspect', 'berth-peer-only:1']).code, 0);
    manager.dockerOk(['service', 'create', '-d', '--no-resolve-image', '--name', 'peerimg', '--constraint', 'node.role==worker',
      'berth-peer-only:1', 'sh', '-c', 'cat /peer.txt; sleep 1d']);
    await eventually('the task running on the worker', () => {
      const ps = manager.docker(['service', 'ps', '--format', '{{.Node}} {{.CurrentState}} {{.Error}}', 'peerimg']).stdout.toString();
      return /Running/.test(ps);
    }, 90_000);
    assert.equal(worker.docker(['image', 'inspect', 'berth-peer-only:1']).code, 0);
    await eventually('the file from the image in the logs', () => manager.docker(['service', 'logs', 'peerimg']).stdout.toString().includes('from-the-peer'), 30_000);
  });

  test('a worker promoted under autolock gets its manager material from a manager and seals it; demoted again', async () => {
    const id = worker.dockerOk(['info', '--format', '{{.Swarm.NodeID}}']).toString().trim();
    manager.dockerOk(['node', 'promote', id]);
    await eventually('the promoted node answers node ls', () => worker.docker(['node', 'ls']).code === 0, 40_000);
    assert.equal(worker.dockerOk(['swarm', 'unlock-key', '-q']).toString().trim(), unlockKey);
    await eventually('its keys sealed', () => filesContaining(path.join(worker.dataRoot, 'swarm'), 'PRIVATE KEY').length === 0, 10_000);
    manager.dockerOk(['node', 'demote', id]);
    await eventually('a worker again', () => /Worker nodes can't be used/.test(worker.docker(['node', 'ls']).stderr.toString()), 40_000);
    await eventually('one manager', () => manager.dockerOk(['node', 'ls', '--filter', 'role=manager', '-q']).toString().trim().split('\n').length === 1, 20_000);
  });

  test('a killed autolocked manager comes back locked; a wrong key is refused, the right one unlocks', async () => {
    await manager.crash();
    await manager.start();
    assert.equal(manager.dockerOk(['info', '--format', '{{.Swarm.LocalNodeState}}']).toString().trim(), 'locked');
    assert.match(manager.dockerFail(['node', 'ls']), /Swarm is encrypted and needs to be unlocked before it can be used\. Please use "docker swarm unlock" to unlock it\./);
    assert.match(manager.dockerFail(['swarm', 'leave']), /Swarm is encrypted and locked\. Please unlock it first or use `--force` to ignore this message\./);
    const wrong = `SWMKEY-1-${'A'.repeat(43)}`;
    assert.match(manager.dockerFail(['swarm', 'unlock'], { input: `${wrong}\n` }), /swarm could not be unlocked: invalid key provided/);
    manager.dockerOk(['swarm', 'unlock'], { input: `${unlockKey}\n` });
    await eventually('node ls answers', () => manager.docker(['node', 'ls']).code === 0, 30_000);
    assert.match(manager.dockerFail(['swarm', 'unlock'], { input: `${unlockKey}\n` }), /swarm is not locked/);
    await eventually('the service still running', () => /Running/.test(manager.docker(['service', 'ps', '--format', '{{.CurrentState}}', 'peerimg']).stdout.toString()), 60_000);
  });

  test('unlock-key --rotate: the new key unlocks after a restart, the old one does not', async () => {
    manager.dockerOk(['swarm', 'unlock-key', '--rotate']);
    const rotated = manager.dockerOk(['swarm', 'unlock-key', '-q']).toString().trim();
    assert.notEqual(rotated, unlockKey);
    await manager.crash();
    await manager.start();
    assert.match(manager.dockerFail(['swarm', 'unlock'], { input: `${unlockKey}\n` }), /invalid key provided/);
    manager.dockerOk(['swarm', 'unlock'], { input: `${rotated}\n` });
    await eventually('node ls answers', () => manager.docker(['node', 'ls']).code === 0, 30_000);
    manager.dockerOk(['swarm', 'update', '--autolock=false']);
    const none = manager.docker(['swarm', 'unlock-key', '-q']);
    assert.match(`${none.stdout}${none.stderr}`, /no unlock key is set/);
  });
});
