// Encrypted overlays (`--opt encrypted`): IPsec ESP in transport mode between node pairs, through the kernel's xfrm,
// for the VXLAN traffic of encrypted networks only. Those use their own VXLAN port (ENCRYPTED_VXLAN_PORT), so the
// policies select them by port and the other overlays' traffic is left alone (Docker marks packets by VNI with u32
// instead; Berth's way needs no mangle rules). Keys come from the managers (cluster/overlay/model.ts).
// CONTRACT: implementation in xfrm-ip.ts.

/** One direction pair between this node and another, with the keys of the current generation. */
export interface IpsecTunnel {
  localAddr: string;
  remoteAddr: string;
  /** SPIs: outbound (this node → remote) and inbound; derived from the key generation and the two addresses so both ends agree. */
  spiOut: number;
  spiIn: number;
  /** AES-GCM-128 keys with their 4-byte salt: 20 bytes, hex (rfc4106(gcm(aes)), 128-bit ICV). */
  keyOut: string;
  keyIn: string;
  /**
   * An older key generation: only its inbound state is made (the other node may not have moved to the newest key
   * yet), no outbound one — this node sends with the newest key only. Absent: both directions.
   */
  inboundOnly?: boolean;
}

export interface IpsecTunnels {
  /**
   * Makes this node's xfrm states and policies exactly `tunnels` for UDP `port` (adds, replaces, removes those Berth
   * made: they carry Berth's reqid). An empty list removes them all.
   */
  set(tunnels: IpsecTunnel[], port: number): Promise<void>;
}

/** The reqid on every state and policy Berth makes (so it finds and removes only its own). */
export const BERTH_XFRM_REQID = 0x8e27;
