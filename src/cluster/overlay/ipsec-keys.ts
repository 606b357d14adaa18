// The IPsec tunnels of encrypted overlays between this node and others, derived from the swarm's newest key
// generation so both ends compute the same SPIs and keys for each direction without talking to each other.
import { createHash, createHmac } from 'node:crypto';
import type { EncryptionKeys } from './model';
import type { IpsecTunnel } from '../../network/overlay/xfrm';

/**
 * One tunnel per remote node address. The key of direction src → dst is HMAC-SHA256(generation key, "gen:src>dst")
 * cut to 20 bytes (AES-128 key and 4-byte salt); its SPI a hash of the same, kept above 255 (the reserved SPIs).
 */
export function tunnelsFor(localAddr: string, remoteAddrs: string[], keys: EncryptionKeys): IpsecTunnel[] {
  const newest = [...keys.keys].sort((a, b) => b.generation - a.generation)[0];
  if (!newest) return [];
  return remoteAddrs.filter((r) => r !== localAddr).map((remoteAddr) => ({
    localAddr,
    remoteAddr,
    spiOut: spiOf(newest.generation, localAddr, remoteAddr),
    spiIn: spiOf(newest.generation, remoteAddr, localAddr),
    keyOut: keyOf(newest, localAddr, remoteAddr),
    keyIn: keyOf(newest, remoteAddr, localAddr),
  }));
}

function direction(generation: number, src: string, dst: string): string {
  return `${generation}:${src}>${dst}`;
}

function keyOf(k: { generation: number; key: string }, src: string, dst: string): string {
  return createHmac('sha256', k.key).update(direction(k.generation, src, dst)).digest('hex').slice(0, 40);
}

function spiOf(generation: number, src: string, dst: string): number {
  return 0x100 + (createHash('sha256').update(direction(generation, src, dst)).digest().readUInt32BE(0) % 0xfffffe00);
}
