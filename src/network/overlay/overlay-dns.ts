// Names on an overlay network, from etcd: the one source of truth for every node. aardvark-dns answers on the
// gateway address of each network on this node; the bridge driver writes the lines of the node's own containers, the
// swarm adds the rest to the same file (under the same lock, then SIGHUP): containers and tasks on other nodes (their
// names and aliases), each service's name (its VIP, or every task's address in dnsrr mode), and tasks.<service>.
// CONTRACT: implementation in overlay-dns-aardvark.ts.

/** One name set for one or more addresses (aardvark-dns answers every address of every line that has the name). */
export interface DnsRecord {
  /** A stable key for the line (not a container ID netavark could use): e.g. `ovr` + a hash of the record. */
  key: string;
  ips: string[];
  names: string[];
}

export interface OverlayDns {
  /**
   * Makes Berth's lines in the network's aardvark-dns file exactly `records` (netavark's own lines are kept). The
   * file is named after the network name netavark was given (the overlay's ID). A network with no file yet (no
   * local container, so no aardvark-dns listener on it) is left alone and the call resolves.
   */
  set(networkId: string, records: DnsRecord[]): Promise<void>;
}
