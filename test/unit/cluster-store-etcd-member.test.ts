// The etcd member's command line: URLs on the advertise address, TLS on both sides, cluster bootstrap flags,
// raft timing, and --force-new-cluster only when asked.
import test from 'node:test';
import assert from 'node:assert/strict';
import { EtcdMemberOptions, clientURL, etcdArgs, peerURL } from '../../src/cluster/etcd/member';

const base: EtcdMemberOptions = { name: 'node1', dataDir: '/var/lib/berth/swarm/etcd', address: '10.0.0.5' };

test('a fresh one-member cluster on the advertise address, default ports, plain http without TLS', () => {
  const args = etcdArgs(base);
  assert.equal(clientURL(base), 'http://10.0.0.5:2379');
  assert.equal(peerURL(base), 'http://10.0.0.5:2380');
  for (const a of [
    '--name=node1', '--data-dir=/var/lib/berth/swarm/etcd', '--listen-client-urls=http://10.0.0.5:2379',
    '--advertise-client-urls=http://10.0.0.5:2379', '--listen-peer-urls=http://10.0.0.5:2380',
    '--initial-advertise-peer-urls=http://10.0.0.5:2380', '--initial-cluster=node1=http://10.0.0.5:2380',
    '--initial-cluster-state=new', '--logger=zap', '--log-level=warn', '--heartbeat-interval=100', '--election-timeout=1000', '--pre-vote=true',
  ]) assert.ok(args.includes(a), a);
  assert.ok(!args.some((a) => a.startsWith('--cert-file') || a === '--force-new-cluster'));
});

test('TLS files for clients and peers, both requiring client certificates; https URLs; IPv6 in brackets', () => {
  const files = (side: string) => ({ cert: `/c/${side}.crt`, key: `/c/${side}.key`, ca: '/c/ca.crt' });
  const o: EtcdMemberOptions = { ...base, address: 'fd00::5', clientPort: 12379, peerPort: 12380, tls: { client: files('client'), peer: files('peer') } };
  const args = etcdArgs(o);
  assert.equal(clientURL(o), 'https://[fd00::5]:12379');
  for (const a of [
    '--cert-file=/c/client.crt', '--key-file=/c/client.key', '--trusted-ca-file=/c/ca.crt', '--client-cert-auth',
    '--peer-cert-file=/c/peer.crt', '--peer-key-file=/c/peer.key', '--peer-trusted-ca-file=/c/ca.crt', '--peer-client-cert-auth',
    '--listen-peer-urls=https://[fd00::5]:12380',
  ]) assert.ok(args.includes(a), a);
});

test('joining an existing cluster names every member; force-new-cluster is a one-off flag', () => {
  const o: EtcdMemberOptions = {
    ...base, initialCluster: { node0: 'http://10.0.0.4:2380', node1: 'http://10.0.0.5:2380' }, initialClusterState: 'existing',
  };
  const args = etcdArgs(o);
  assert.ok(args.includes('--initial-cluster=node0=http://10.0.0.4:2380,node1=http://10.0.0.5:2380'));
  assert.ok(args.includes('--initial-cluster-state=existing'));
  assert.ok(etcdArgs(base, true).includes('--force-new-cluster'));
});
