// Swarm autolock: the key formats and seals, a node's secrets at rest (sealed or clear, the exec-root copy etcd
// reads), and the lock state machine of the membership on the fake store (init --autolock, restart locked, unlock with
// a wrong and the right key, rotation, autolock off, leave while locked).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Cluster, TEXT, type ClusterOptions, type StoredCluster } from '../../src/cluster/cluster';
import { OpensslSigner } from '../../src/cluster/ca/openssl';
import { generateDataKey, generateUnlockKey, keyEncryptionKey, open, parseUnlockKey, seal } from '../../src/cluster/ca/unlock-key';
import { INVALID_UNLOCK_KEY, NodeSecretsFile } from '../../src/cluster/node/state-keys';
import { LOCK_TEXT, unlockKeyAfterUpdate } from '../../src/cluster/node/state-lock';
import { ObjectsStore } from '../../src/cluster/store/objects-store';
import { Filters } from '../../src/wire/filters';
import { FakeClusterStore } from '../fakes/cluster-store';
import { eventually } from '../helpers/wait';

const none = new Filters();
const quiet = { info: () => undefined, error: () => undefined };

function options(dataRoot: string, runRoot: string, store: FakeClusterStore): ClusterOptions {
  return {
    dataRoot, runRoot,
    ports: { control: 2377, etcdClient: 2379, etcdPeer: 2380 },
    signer: new OpensslSigner(),
    etcd: { start: async () => ({ stop: async () => undefined }) },
    connect: async () => ({
      store, objects: new ObjectsStore(store), close: async () => undefined,
      members: { add: async () => ({ initialCluster: '' }), remove: async () => undefined, list: async () => [] },
    }),
    roles: { startManager: async () => ({ stop: async () => undefined }), startAgent: async () => ({ stop: async () => undefined }) },
    containers: { removeNodeContainers: async () => undefined },
    // The advertise address is this host's (init refuses one it could not listen on).
    hostAddresses: async () => ({ interfaces: [{ name: 'eth0', up: true, loopback: false, kind: '', addresses: [{ family: 4, address: '10.9.8.7', prefix: 24, global: true }] }], managedSubnets: [] }),
    host: { hostname: () => 'node1', machine: () => 'x86_64', cpus: () => 2, memTotal: () => 1 << 30, engineVersion: '27.5.1', engineLabels: {} },
    log: quiet,
  };
}

describe('unlock keys and seals', () => {
  test('SWMKEY-1 keys: 32 bytes, base64 without padding; KEK is not the key itself', () => {
    const key = generateUnlockKey();
    assert.match(key, /^SWMKEY-1-[A-Za-z0-9+/]{43}$/);
    assert.equal(parseUnlockKey(key)?.length, 32);
    for (const bad of ['', 'SWMKEY-1-', `SWMKEY-2-${key.slice(9)}`, `${key}=`, key.slice(0, -1)]) assert.equal(parseUnlockKey(bad), undefined, bad);
    const kek = keyEncryptionKey(key)!;
    assert.equal(kek.length, 32);
    assert.notDeepEqual(kek, parseUnlockKey(key));
    assert.deepEqual(keyEncryptionKey(key), kek);
  });

  test('seal/open: authenticated, a fresh nonce each time, wrong key or altered text refused', () => {
    const k = generateDataKey();
    const a = seal(k, 'secret');
    assert.notEqual(a, seal(k, 'secret'));
    assert.equal(open(k, a)?.toString(), 'secret');
    assert.equal(open(generateDataKey(), a), undefined);
    const parts = a.split(':');
    parts[3] = Buffer.from('xxxxxx').toString('base64');
    assert.equal(open(k, parts.join(':')), undefined);
    assert.equal(a.includes('secret'), false);
  });

  test('the unlock key after an update: made, kept, rotated, dropped', () => {
    const dek = generateDataKey().toString('base64');
    const on = { Spec: { EncryptionConfig: { AutoLockManagers: true } } };
    const off = { Spec: { EncryptionConfig: { AutoLockManagers: false } } };
    const made = unlockKeyAfterUpdate({}, on, false, dek)!;
    assert.ok(made);
    assert.equal(unlockKeyAfterUpdate({ ManagerUnlockKey: made }, on, false, dek), made);
    assert.notEqual(unlockKeyAfterUpdate({ ManagerUnlockKey: made }, on, true, dek), made);
    assert.equal(unlockKeyAfterUpdate({ ManagerUnlockKey: made }, off, true, dek), undefined);
    assert.equal(unlockKeyAfterUpdate({ ManagerUnlockKey: made }, { Spec: {} }, false, dek), undefined);
  });
});

describe('a node\'s secrets at rest', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-lock-keys-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('sealed: no clear key or data key under the data root; etcd\'s copy in the run dir; wrong key 401', async () => {
    const certs = path.join(dir, 'data', 'certificates');
    const run = path.join(dir, 'run');
    const file = new NodeSecretsFile(certs, run);
    const key = generateUnlockKey();
    await file.write({ keyPem: 'PEM-KEY', dek: 'DEK' }, undefined);
    assert.equal(fs.readFileSync(path.join(certs, 'swarm-node.key'), 'utf8'), 'PEM-KEY');
    assert.deepEqual(await file.readClear(), { keyPem: 'PEM-KEY', dek: 'DEK' });
    await file.write({ keyPem: 'PEM-KEY', dek: 'DEK' }, key);
    assert.deepEqual(fs.readdirSync(certs), ['swarm-node.key.sealed']);
    const atRest = fs.readFileSync(path.join(certs, 'swarm-node.key.sealed'), 'utf8');
    assert.equal(atRest.includes('PEM-KEY') || atRest.includes('DEK'), false);
    assert.equal(file.isSealed(), true);
    assert.equal(await file.readClear(), undefined);
    assert.equal(file.keyFileForEtcd(), path.join(run, 'swarm-node.key'));
    fs.rmSync(run, { recursive: true });
    await assert.rejects(file.unseal(generateUnlockKey()), { message: INVALID_UNLOCK_KEY, name: 'UnauthorizedError' });
    await assert.rejects(file.unseal('not a key'), { message: INVALID_UNLOCK_KEY });
    assert.deepEqual(await file.unseal(key), { keyPem: 'PEM-KEY', dek: 'DEK' });
    assert.equal(fs.readFileSync(file.keyFileForEtcd(), 'utf8'), 'PEM-KEY');
    await file.write({ keyPem: 'PEM-KEY' }, undefined);
    assert.deepEqual(fs.readdirSync(certs), ['swarm-node.key']);
  });
});

describe('the lock state machine on the fake store', () => {
  let dir: string;
  let store: FakeClusterStore;
  let cluster: Cluster;
  let dataRoot: string;
  let runRoot: string;
  let key: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-lock-'));
    dataRoot = path.join(dir, 'data');
    runRoot = path.join(dir, 'run');
    store = new FakeClusterStore();
    cluster = new Cluster(options(dataRoot, runRoot, store));
  });
  after(async () => {
    await cluster.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** berthd stopped and started again on the same data root (the etcd member, the fake store, lives on). */
  async function restart(): Promise<void> {
    await cluster.close();
    cluster = new Cluster(options(dataRoot, runRoot, store));
    await cluster.restore();
  }

  const certDir = () => path.join(dataRoot, 'swarm', 'certificates');
  const storedCluster = async () => (await new ObjectsStore(store).list<StoredCluster>('cluster')).items[0]!;

  test('init --autolock: an unlock key; nothing secret in the clear at rest or in the store', async () => {
    await cluster.init({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '10.9.8.7', AutoLockManagers: true });
    key = await cluster.unlockKey();
    assert.match(key, /^SWMKEY-1-/);
    assert.equal((await cluster.inspectSwarm()).Spec.EncryptionConfig?.AutoLockManagers, true);
    assert.equal('ManagerUnlockKey' in await cluster.inspectSwarm(), false);
    assert.deepEqual(fs.readdirSync(certDir()).sort(), ['swarm-node.crt', 'swarm-node.key.sealed', 'swarm-root-ca.crt']);
    const stored = await storedCluster();
    assert.equal(stored.RootCA.keyPem, undefined);
    assert.match(stored.RootCA.sealedKeyPem!, /^berth-sealed-1:/);
    assert.equal(JSON.stringify(stored).includes(key), false);
    assert.equal(JSON.stringify(stored).includes('PRIVATE KEY'), false);
    await assert.rejects(cluster.unlock(key), { message: LOCK_TEXT.notLocked, name: 'StateError' });
  });

  test('restarted: locked (ping, info, 503 text, leave needs --force) until unlocked with the right key', async () => {
    await restart();
    assert.equal(cluster.pingHeader(), 'locked');
    assert.equal((await cluster.info()).LocalNodeState, 'locked');
    await assert.rejects(cluster.listNodes(none), { message: LOCK_TEXT.locked });
    await assert.rejects(cluster.unlockKey(), { message: LOCK_TEXT.locked });
    await assert.rejects(cluster.leave(false), { message: LOCK_TEXT.leaveLocked });
    await assert.rejects(cluster.init({ ListenAddr: '0.0.0.0:2377', ForceNewCluster: true }), { message: LOCK_TEXT.locked });
    await assert.rejects(cluster.unlock(generateUnlockKey()), { message: INVALID_UNLOCK_KEY });
    assert.equal(cluster.pingHeader(), 'locked');
    await cluster.unlock(key);
    assert.equal(cluster.pingHeader(), 'active/manager');
    assert.equal((await cluster.listNodes(none)).length, 1);
    assert.equal(await cluster.unlockKey(), key);
  });

  test('rotation: a new key; the old one no longer unlocks after a restart', async () => {
    const s = await cluster.inspectSwarm();
    await cluster.updateSwarm(s.Spec, s.Version.Index, { workerToken: false, managerToken: false, unlockKey: true });
    const rotated = await cluster.unlockKey();
    assert.notEqual(rotated, key);
    await restart();
    await assert.rejects(cluster.unlock(key), { message: INVALID_UNLOCK_KEY });
    await cluster.unlock(rotated);
    assert.equal(cluster.pingHeader(), 'active/manager');
    key = rotated;
  });

  test('autolock off: no key, the secrets in the clear, a restart comes up without unlock', async () => {
    const s = await cluster.inspectSwarm();
    await cluster.updateSwarm({ ...s.Spec, EncryptionConfig: { AutoLockManagers: false } }, s.Version.Index, { workerToken: false, managerToken: false, unlockKey: false });
    assert.equal(await cluster.unlockKey(), '');
    assert.equal((await storedCluster()).ManagerUnlockKey, undefined);
    assert.deepEqual(fs.readdirSync(certDir()).sort(), ['swarm-dek', 'swarm-node.crt', 'swarm-node.key', 'swarm-root-ca.crt']);
    await restart();
    await eventually('active', () => cluster.pingHeader() === 'active/manager', 5_000, 25);
    await assert.rejects(cluster.unlock(key), { message: LOCK_TEXT.notLocked });
  });

  test('autolock on again through an update; leave --force while locked forgets the swarm', async () => {
    const s = await cluster.inspectSwarm();
    await cluster.updateSwarm({ ...s.Spec, EncryptionConfig: { AutoLockManagers: true } }, s.Version.Index, { workerToken: false, managerToken: false, unlockKey: false });
    const fresh = await cluster.unlockKey();
    assert.match(fresh, /^SWMKEY-1-/);
    assert.notEqual(fresh, key);
    assert.equal(fs.existsSync(path.join(certDir(), 'swarm-node.key')), false);
    await restart();
    assert.equal(cluster.pingHeader(), 'locked');
    await cluster.leave(true);
    assert.equal(cluster.pingHeader(), 'inactive');
    await assert.rejects(cluster.listNodes(none), { message: TEXT.inactiveNotManager });
    assert.equal(fs.existsSync(path.join(dataRoot, 'swarm')), false);
  });
});
