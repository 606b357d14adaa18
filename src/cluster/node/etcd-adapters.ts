// The membership's etcd ports filled with the real parts: this node's member process (src/cluster/etcd/member.ts)
// and a store connection (EtcdStore, ObjectsStore, and etcd's membership calls through one more client).
import { Etcd3 } from 'etcd3';
import { noop } from 'cockatiel';
import { EtcdMember } from '../etcd/member';
import { addMember, listMembers, removeMember } from '../etcd/membership';
import { EtcdStore } from '../store/etcd-store';
import { ObjectsStore } from '../store/objects-store';
import type { ConnectStore, EtcdMemberProcess, EtcdMemberSpec, EtcdProcesses } from '../ports';

function hostAndPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port) };
}

function parseInitialCluster(s: string): Record<string, string> {
  return Object.fromEntries(s.split(',').filter(Boolean).map((p) => p.split(/=(.*)/s) as [string, string]));
}

export const etcdProcesses: EtcdProcesses = {
  async start(spec: EtcdMemberSpec): Promise<EtcdMemberProcess> {
    const client = hostAndPort(spec.clientUrl);
    const peer = hostAndPort(spec.peerUrl);
    const files = { cert: spec.tls.cert, key: spec.tls.key, ca: spec.tls.ca };
    const member = new EtcdMember({
      name: spec.name, dataDir: spec.dataDir, address: client.host, clientPort: client.port, peerPort: peer.port,
      tls: { client: files, peer: files }, initialCluster: parseInitialCluster(spec.initialCluster), initialClusterState: spec.state,
    });
    try {
      await member.start({ forceNewCluster: spec.forceNewCluster });
    } catch (err) {
      // A member that never became healthy may still run: a failed init or join leaves no etcd behind.
      await member.stop().catch(() => undefined);
      throw err;
    }
    return { stop: () => member.stop() };
  },
};

export const connectEtcd: ConnectStore = async (endpoints, tls) => {
  const credentials = { ca: Buffer.from(tls.caPem), cert: Buffer.from(tls.certPem), key: Buffer.from(tls.keyPem) };
  const store = new EtcdStore({ hosts: endpoints, tls: credentials });
  // As EtcdStore's client: no circuit breaker (it would refuse the member calls for seconds after one failure).
  const admin = new Etcd3({
    hosts: endpoints, credentials: { rootCertificate: credentials.ca, certChain: credentials.cert, privateKey: credentials.key },
    faultHandling: { host: () => noop, global: noop },
  });
  return {
    store,
    objects: new ObjectsStore(store),
    members: {
      async add(name, peerUrl) {
        const { initialCluster } = await addMember(admin, name, peerUrl);
        return { initialCluster: Object.entries(initialCluster).map(([n, u]) => `${n}=${u}`).join(',') };
      },
      async remove(name) {
        const m = (await listMembers(admin)).find((x) => x.name === name);
        if (m) await removeMember(admin, m.id);
      },
      async list() {
        return (await listMembers(admin)).map((m) => ({ name: m.name, peerUrls: m.peerURLs, clientUrls: m.clientURLs }));
      },
    },
    async close() {
      await store.close().catch(() => undefined);
      admin.close();
    },
  };
};
