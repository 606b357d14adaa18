// Made-up swarm overlay objects for unit tests: network objects with their overlay part, endpoint records.
import type { ClusterNetwork } from '../../src/cluster/objects-api';
import type { EndpointRecord } from '../../src/cluster/overlay/model';

export function overlayNetwork(id: string, name: string, subnet: string, extra: Partial<ClusterNetwork['Overlay']> = {}, attachable = false): ClusterNetwork {
  const base = subnet.split('/')[0]!.split('.').slice(0, 3).join('.');
  return {
    ID: id, Version: { Index: 1 }, Name: name, Driver: 'overlay', Labels: {}, Created: '', Scope: 'swarm', Attachable: attachable,
    Overlay: { Subnet: subnet, Gateway: `${base}.1`, IPRange: '', VNI: 4096 + subnet.length, Encrypted: false, Ingress: false, ...extra },
  };
}

export function endpoint(networkId: string, nodeId: string, ip: string, o: Partial<EndpointRecord> = {}): EndpointRecord {
  const containerId = `c${ip.replace(/\./g, '')}`.padEnd(64, '0');
  return { networkId, nodeId, nodeAddr: `192.168.0.${nodeId.slice(-1)}`, containerId, name: `ctr-${ip}`, ip, mac: '', aliases: [], serving: true, ...o };
}
