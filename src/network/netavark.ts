// The engine's port to the network driver, in podman's netavark's terms (its options and status documents), which
// Berth used until decision 19: Berth's own bridge driver (bridge/driver.ts) takes the same documents.

/** One network as netavark takes it ("network_info"). */
export interface NetavarkNetwork {
  name: string;
  id: string;
  driver: 'bridge';
  network_interface: string;
  subnets: { subnet: string; gateway: string }[];
  ipv6_enabled: boolean;
  internal: boolean;
  dns_enabled: boolean;
  options?: Record<string, string>;
  ipam_options: { driver: 'host-local' };
}

export interface NetavarkPortMapping { host_ip: string; container_port: number; host_port: number; range: number; protocol: 'tcp' | 'udp' | 'sctp' }

/** netavark's network options: what `setup` and `teardown` read (the same document for both). */
export interface NetavarkOptions {
  container_id: string;
  container_name: string;
  networks: Record<string, { interface_name: string; static_ips: string[]; static_mac?: string; aliases?: string[] }>;
  network_info: Record<string, NetavarkNetwork>;
  port_mappings?: NetavarkPortMapping[];
  dns_servers?: string[];
}

/** What `setup` reports per network: the interfaces made in the namespace, with MAC and addresses. */
export type NetavarkStatus = Record<string, {
  interfaces?: Record<string, { mac_address: string; subnets?: { ipnet: string; gateway?: string }[] }>;
  dns_server_ips?: string[];
  dns_search_domains?: string[];
}>;

/** Sets up and tears down a container's interfaces, rules and DNS entries in a network namespace. */
export interface NetworkDriver {
  /**
   * Makes the endpoints of `opts` in the namespace at `netnsPath`, which may be a file reserved for it and not yet a
   * namespace (NetnsManager.reserve): the setup then makes the namespace on it.
   */
  setup(netnsPath: string, opts: NetavarkOptions): Promise<NetavarkStatus>;
  /** `last`: no other container is on these networks any more, so the networks' bridges and rules go too. */
  /**
   * `namespaceGoes`: the namespace is removed right after, and its interfaces with it (the kernel deletes both
   * ends of a veth when it destroys the namespace), so the driver need not delete them itself.
   */
  teardown(netnsPath: string, opts: NetavarkOptions, last?: boolean, namespaceGoes?: boolean): Promise<void>;
  /** Adds addresses ("169.254.8.8/16") to an interface in the namespace: the link-local IPs of moby's sandbox. */
  addAddresses(netnsPath: string, ifname: string, cidrs: string[]): Promise<void>;
  /**
   * Sets the DNS names (name and aliases) of containers already set up on a network, by container ID, and has the
   * DNS server reload when that changed anything; containers not on the network are skipped.
   */
  setDnsNames(networkName: string, names: Record<string, string[]>): Promise<void>;
  /** The network is removed: its bridge and every rule made for it go (a bridge network's live as long as it). */
  removeNetwork(network: NetavarkNetwork): Promise<void>;
}

/** aardvark-dns, from Debian's package (which also ships netavark, no longer used by Berth). */
export const DEFAULT_AARDVARK = '/usr/lib/podman/aardvark-dns';
