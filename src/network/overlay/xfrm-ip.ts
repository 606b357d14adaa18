// IpsecTunnels over `ip xfrm`: ESP transport-mode states (rfc4106(gcm(aes)), 128-bit ICV) and out/in policies for the
// encrypted overlays' VXLAN port between this node and each other node, kept exactly as asked; only the states and
// policies carrying Berth's reqid are read or touched. Also tunnelsFor: the SPIs and keys both ends derive alike.
import { createHash, createHmac } from 'node:crypto';
import { BERTH_XFRM_REQID, type IpsecTunnel, type IpsecTunnels } from './xfrm';
import { iproute2, type Iproute2 } from './iproute2';

/** One key generation as the managers hand it out: 20 bytes hex (16 of AES key, 4 of salt). */
export interface XfrmKey { generation: number; key: string }

/**
 * This node's tunnels to `remoteAddrs` from the network keys (newest first): the newest generation both ways, older
 * ones inbound only. Each direction of each pair gets its own SPI and its own key, derived from the generation's key
 * and the (sender, receiver) addresses, so the receiver computes the sender's outbound values as its inbound ones.
 * Per-direction keys also matter for AES-GCM: the sequence-number IVs of two SAs sharing a key would repeat nonces.
 */
export function tunnelsFor(localAddr: string, remoteAddrs: string[], keys: XfrmKey[]): IpsecTunnel[] {
  const out: IpsecTunnel[] = [];
  for (const remoteAddr of [...new Set(remoteAddrs)].filter((a) => a !== localAddr)) {
    keys.forEach((k, i) => {
      out.push({
        localAddr, remoteAddr,
        spiOut: spiFor(k.generation, localAddr, remoteAddr), keyOut: keyFor(k, localAddr, remoteAddr),
        spiIn: spiFor(k.generation, remoteAddr, localAddr), keyIn: keyFor(k, remoteAddr, localAddr),
        ...(i > 0 ? { inboundOnly: true } : {}),
      });
    });
  }
  return out;
}

/** SPIs 1-255 are reserved by IANA (RFC 4303), 0 means none. */
function spiFor(generation: number, from: string, to: string): number {
  const n = createHash('sha256').update(`berth-spi ${generation} ${from} ${to}`).digest().readUInt32BE(0);
  return n < 0x100 ? n + 0x100 : n;
}

function keyFor(k: XfrmKey, from: string, to: string): string {
  return createHmac('sha256', Buffer.from(k.key, 'hex')).update(`berth-esp ${k.generation} ${from} ${to}`).digest().subarray(0, 20).toString('hex');
}

/** An ESP state as `ip xfrm state` lists it (the fields compared). */
export interface XfrmState { src: string; dst: string; spi: number; reqid: number; key: string }
/** A policy as `ip xfrm policy` lists it. */
export interface XfrmPolicy { src: string; dst: string; dport: number; dir: string; reqid: number }

export class IpXfrmTunnels implements IpsecTunnels {
  private support?: Promise<string | undefined>;

  constructor(private readonly ip: Iproute2 = iproute2()) {}

  /**
   * Why this kernel cannot carry encrypted overlays, or undefined when it can: a throwaway ESP state with the AEAD
   * Berth uses is added and deleted once (a state without a policy touches no traffic). Kernels built without ESP
   * (esp4) or GCM say "Requested type not found" / "Requested AEAD algorithm not found".
   */
  unsupported(): Promise<string | undefined> {
    this.support ??= (async () => {
      const probe = 'src 192.0.2.254 dst 192.0.2.253 proto esp spi 0x00bee000';
      try {
        await this.ip.run('ip', ['xfrm', 'state', 'add', ...probe.split(' '), 'reqid', String(BERTH_XFRM_REQID), 'mode', 'transport',
          'aead', 'rfc4106(gcm(aes))', `0x${'00'.repeat(20)}`, '128']);
      } catch (err) {
        const reason = /Error: (.*)/.exec((err as Error).message)?.[1]?.trim() ?? (err as Error).message.trim();
        return `this kernel has no IPsec ESP with AES-GCM (rfc4106(gcm(aes))): ip xfrm says "${reason}"`;
      }
      await this.ip.run('ip', ['xfrm', 'state', 'delete', ...probe.split(' ')]).catch(() => undefined);
      return undefined;
    })();
    return this.support;
  }

  async set(tunnels: IpsecTunnel[], port: number): Promise<void> {
    const [states, policies] = await Promise.all([this.ip.run('ip', ['xfrm', 'state', 'list']), this.ip.run('ip', ['xfrm', 'policy', 'list'])]);
    await this.ip.batch('ip', xfrmBatch(parseXfrmStates(states), parseXfrmPolicies(policies), tunnels, port));
  }
}

/** The `ip -batch` lines that turn Berth's states and policies (those with its reqid) into exactly `tunnels`. */
export function xfrmBatch(states: XfrmState[], policies: XfrmPolicy[], tunnels: IpsecTunnel[], port: number): string[] {
  const wantStates = new Map<string, XfrmState>();
  const wantPolicies = new Map<string, XfrmPolicy>();
  const addState = (s: Omit<XfrmState, 'reqid'>) => wantStates.set(stateKey(s), { ...s, reqid: BERTH_XFRM_REQID });
  const addPolicy = (p: Omit<XfrmPolicy, 'reqid'>) => wantPolicies.set(policyKey(p), { ...p, reqid: BERTH_XFRM_REQID });
  for (const t of tunnels) {
    if (!t.inboundOnly) addState({ src: t.localAddr, dst: t.remoteAddr, spi: t.spiOut, key: t.keyOut.toLowerCase() });
    addState({ src: t.remoteAddr, dst: t.localAddr, spi: t.spiIn, key: t.keyIn.toLowerCase() });
    addPolicy({ src: t.localAddr, dst: t.remoteAddr, dport: port, dir: 'out' });
    addPolicy({ src: t.remoteAddr, dst: t.localAddr, dport: port, dir: 'in' });
  }

  const ours = <T extends { reqid: number }>(list: T[]) => list.filter((x) => x.reqid === BERTH_XFRM_REQID);
  const keptStates = new Set<string>();
  const keptPolicies = new Set<string>();
  const dels: string[] = [];
  for (const p of ours(policies)) {
    if (wantPolicies.has(policyKey(p)) && !keptPolicies.has(policyKey(p))) keptPolicies.add(policyKey(p));
    else dels.push(`xfrm policy delete ${selector(p)} dir ${p.dir}`);
  }
  for (const s of ours(states)) {
    // A state's key cannot be updated in place: one with another key is deleted and made again.
    if (wantStates.get(stateKey(s))?.key === s.key && !keptStates.has(stateKey(s))) keptStates.add(stateKey(s));
    else dels.push(`xfrm state delete src ${s.src} dst ${s.dst} proto esp spi ${hexSpi(s.spi)}`);
  }
  const adds: string[] = [];
  for (const [k, s] of wantStates) {
    if (keptStates.has(k)) continue;
    adds.push(`xfrm state add src ${s.src} dst ${s.dst} proto esp spi ${hexSpi(s.spi)} reqid ${s.reqid} mode transport `
      + `aead rfc4106(gcm(aes)) 0x${s.key} 128 sel src ${s.src} dst ${s.dst} proto udp dport ${port}`);
  }
  // Policies after the states they use, so no packet waits on a missing state.
  for (const [k, p] of wantPolicies) {
    if (keptPolicies.has(k)) continue;
    adds.push(`xfrm policy add ${selector(p)} dir ${p.dir} tmpl src ${p.src} dst ${p.dst} proto esp reqid ${p.reqid} mode transport`);
  }
  return [...dels, ...adds];
}

const stateKey = (s: { src: string; dst: string; spi: number }) => `${s.src}>${s.dst}#${s.spi}`;
const policyKey = (p: { src: string; dst: string; dport: number; dir: string }) => `${p.src}>${p.dst}:${p.dport}/${p.dir}`;
const selector = (p: XfrmPolicy) => `src ${p.src}/32 dst ${p.dst}/32 proto udp dport ${p.dport}`;
const hexSpi = (spi: number) => `0x${spi.toString(16).padStart(8, '0')}`;

/** `ip xfrm` prints one block per entry: a first line at column 0, the rest indented. */
function blocks(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (/^\S/.test(line)) out.push(line);
    else if (out.length) out[out.length - 1] += `\n${line}`;
  }
  return out;
}

/** `ip xfrm state list` → its ESP states (others, e.g. AH, are not Berth's and left out). */
export function parseXfrmStates(text: string): XfrmState[] {
  const out: XfrmState[] = [];
  for (const b of blocks(text)) {
    const head = /^src (\S+) dst (\S+)/.exec(b);
    const proto = /proto esp spi (0x[0-9a-f]+|\d+) reqid (\d+)/.exec(b);
    if (!head || !proto) continue;
    const key = /aead \S+ 0x([0-9a-f]+)/.exec(b)?.[1] ?? '';
    out.push({ src: head[1]!, dst: head[2]!, spi: Number(proto[1]), reqid: Number(proto[2]), key });
  }
  return out;
}

/** `ip xfrm policy list` → the UDP-port policies with an ESP template (the shape Berth makes). */
export function parseXfrmPolicies(text: string): XfrmPolicy[] {
  const out: XfrmPolicy[] = [];
  for (const b of blocks(text)) {
    const sel = /^src (\S+?)(?:\/32)? dst (\S+?)(?:\/32)? proto udp dport (\d+)/.exec(b);
    const dir = /\bdir (\w+)/.exec(b);
    const reqid = /proto esp reqid (\d+)/.exec(b);
    if (!sel || !dir || !reqid) continue;
    out.push({ src: sel[1]!, dst: sel[2]!, dport: Number(sel[3]), dir: dir[1]!, reqid: Number(reqid[1]) });
  }
  return out;
}
