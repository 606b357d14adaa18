// EtcdStore and the etcd member adapter against real etcd processes (/usr/bin/etcd on loopback, plain http):
// the ClusterStore contract on one member, a restarted berthd adopting its running member, then a 3-member cluster
// losing its leader, then its quorum, and a survivor recovered with --force-new-cluster and grown again.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Etcd3 } from 'etcd3';
import { EtcdMember, EtcdMemberOptions } from '../../src/cluster/etcd/member';
import { addMember, listMembers } from '../../src/cluster/etcd/membership';
import { EtcdStore } from '../../src/cluster/store/etcd-store';
import { StoreUnavailable } from '../../src/cluster/store/store';
import { clusterStoreContract } from '../helpers/cluster-store-contract';
import { tempDir } from '../helpers/tmp';
import { until } from '../helpers/wait';

const root = tempDir('berth-etcd-');
const members: EtcdMember[] = [];
const stores: EtcdStore[] = [];
const raw: Etcd3[] = [];

after(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
  for (const c of raw) c.close();
  for (const m of members) await m.stop(3000).catch(() => undefined);
});

async function freePorts(n: number): Promise<number[]> {
  // held open together so no two are the same
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

async function memberOptions(name: string, extra: Partial<EtcdMemberOptions> = {}): Promise<EtcdMemberOptions> {
  const [clientPort, peerPort] = await freePorts(2);
  return { name, dataDir: path.join(root, name, 'swarm', 'etcd'), address: '127.0.0.1', clientPort, peerPort, ...extra };
}

function store(hosts: string[], timeoutMs = 3000): EtcdStore {
  const s = new EtcdStore({ hosts, timeoutMs });
  stores.push(s);
  return s;
}

function client(hosts: string[]): Etcd3 {
  const c = new Etcd3({ hosts });
  raw.push(c);
  return c;
}

let single: EtcdMember;

clusterStoreContract('etcd (one member)', async () => {
  single = new EtcdMember(await memberOptions('solo'));
  members.push(single);
  await single.start();
  const url = single.clientURL;
  const admin = client([url]);
  return {
    store: store([url]),
    connect: async () => store([url]),
    // another client revokes it: the holder's next keep-alive finds it gone, as after a TTL without keep-alives
    expireLease: async (id) => { await admin.leaseClient.leaseRevoke({ ID: id }); },
    compact: async (revision) => { await admin.kv.compact({ revision, physical: true }); },
    cleanup: async () => undefined,
  };
});

test('a berthd restarted after kill -9 adopts the member still running from its pidfile instead of starting a second', async () => {
  const pid = single.processId;
  assert.ok(pid);
  const again = new EtcdMember(single.options);
  await again.start();
  assert.equal(again.processId, pid);
  await again.stop();
  await until(() => !processAlive(pid), 'the member gone after stop');
  assert.equal(await single.healthy(), false);
});

test('three members: kill -9 the leader → a new one within seconds; kill a second → StoreUnavailable in bounded time; force-new-cluster on the survivor keeps the data', async () => {
  const opts = await Promise.all(['m1', 'm2', 'm3'].map((n) => memberOptions(n)));
  const initialCluster = Object.fromEntries(opts.map((o) => [o.name, `http://127.0.0.1:${o.peerPort}`]));
  const three = opts.map((o) => new EtcdMember({ ...o, initialCluster }));
  members.push(...three);
  await Promise.all(three.map((m) => m.start()));
  const hosts = three.map((m) => m.clientURL);
  const s = store(hosts);
  for (let i = 0; i < 20; i++) await s.txn([{ op: 'put', key: `/data/${i}`, value: String(i) }]);
  assert.deepEqual((await listMembers(client(hosts))).map((m) => m.name).sort(), ['m1', 'm2', 'm3']);

  const leader = await leaderOf(three);
  const t0 = Date.now();
  process.kill(leader.processId!, 'SIGKILL');
  const rest = three.filter((m) => m !== leader);
  await until(async () => (await s.txn([{ op: 'put', key: '/after-failover', value: 'x' }]).catch(() => 0)) > 0, 'a write after the leader died', 150);
  const newLeader = await leaderOf(rest);
  assert.ok(Date.now() - t0 < 10_000, `failover took ${Date.now() - t0}ms`);
  assert.equal((await s.get('/data/7'))?.value, '7');

  process.kill(newLeader.processId!, 'SIGKILL');
  const survivor = rest.find((m) => m !== newLeader)!;
  const lone = store([survivor.clientURL], 3000);
  const t1 = Date.now();
  await assert.rejects(lone.txn([{ op: 'put', key: '/no-quorum', value: 'x' }]), StoreUnavailable);
  await assert.rejects(lone.get('/data/1'), StoreUnavailable);
  const waited = Date.now() - t1;
  assert.ok(waited < 2 * 3000 + 2000, `StoreUnavailable after ${waited}ms`);

  await survivor.stop();
  await survivor.start({ forceNewCluster: true });
  const recovered = store([survivor.clientURL]);
  assert.equal((await recovered.list('/data/')).items.length, 20);
  assert.equal((await recovered.get('/after-failover'))?.value, 'x');
  const admin = client([survivor.clientURL]);
  assert.deepEqual((await listMembers(admin)).map((m) => m.name), [survivor.options.name]);
  await recovered.txn([{ op: 'put', key: '/after-recovery', value: 'y' }]);

  // grow again: a fresh member joins the recovered cluster
  const o4 = await memberOptions('m4');
  const joined = await addMember(admin, 'm4', `http://127.0.0.1:${o4.peerPort}`);
  const m4 = new EtcdMember({ ...o4, initialCluster: joined.initialCluster, initialClusterState: 'existing' });
  members.push(m4);
  await m4.start();
  assert.equal((await store([m4.clientURL]).get('/after-recovery'))?.value, 'y');
  assert.deepEqual((await listMembers(admin)).map((m) => m.name).sort(), [survivor.options.name, 'm4'].sort());
});

test('TLS: a member with client and peer mTLS answers EtcdStore holding a client certificate of the cluster CA', async () => {
  const dir = path.join(root, 'pki');
  makeCerts(dir);
  const files = (name: string) => ({ cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`), ca: path.join(dir, 'ca.crt') });
  const m = new EtcdMember(await memberOptions('tls', { tls: { client: files('server'), peer: files('server') } }));
  members.push(m);
  await m.start();
  assert.match(m.clientURL, /^https:/);
  const read = (f: string) => fs.readFileSync(path.join(dir, f));
  const s = new EtcdStore({ hosts: [m.clientURL], tls: { ca: read('ca.crt'), cert: read('client.crt'), key: read('client.key') } });
  stores.push(s);
  await s.txn([{ op: 'create', key: '/tls', value: 'ok' }]);
  assert.equal((await s.get('/tls'))?.value, 'ok');
  await m.stop();
});

/** A CA, a member certificate (server and client use: peers dial each other) for 127.0.0.1, a client certificate. */
function makeCerts(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const key = (name: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
  key('ca');
  ssl('req', '-x509', '-new', '-key', 'ca.key', '-days', '2', '-subj', '/CN=berth-test-ca', '-out', 'ca.crt');
  fs.writeFileSync(path.join(dir, 'server.ext'), 'extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1\n');
  fs.writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const name of ['server', 'client']) {
    key(name);
    ssl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  }
}

async function leaderOf(candidates: EtcdMember[]): Promise<EtcdMember> {
  return until(async () => {
    for (const m of candidates) {
      const c = new Etcd3({ hosts: m.clientURL });
      try {
        const status = await c.maintenance.status({ deadline: Date.now() + 1000 });
        if (status.leader === '0') continue;
        const list = await c.cluster.memberList({}, { deadline: Date.now() + 1000 });
        const name = list.members.find((x) => x.ID === status.leader)?.name;
        const found = candidates.find((x) => x.options.name === name);
        if (found) return found;
      } catch {
        // this one is down or has no leader yet
      } finally {
        c.close();
      }
    }
    return undefined;
  }, 'a leader among the members', 150);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
