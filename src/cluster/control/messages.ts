// What a joining or promoted node and the manager answering it say to each other through the control endpoint.

/** What a joining node tells the manager it asks (its CSR carries its identity). */
export interface JoinAsk {
  nodeId: string;
  csrPem: string;
  advertiseAddr: string;
  etcdPeerUrl: string;
  etcdClientUrl: string;
}

/** What a manager answers a node it lets join. */
export interface JoinAnswer {
  clusterId: string;
  role: 'manager' | 'worker';
  caPem: string;
  certPem: string;
  etcdEndpoints: string[];
  /** For managers: the --initial-cluster this node's new member starts with. */
  initialCluster?: string;
  /** For managers: the cluster data key (base64), and the unlock key when autolocked (its secrets are sealed with it). */
  dek?: string;
  unlockKey?: string;
}

/** What a manager answers a node promoted to manager. */
export interface PromoteAnswer {
  certPem: string;
  dek: string;
  unlockKey?: string;
}
