// OverlayDns over aardvark-dns 1.4's files: the swarm's names on an overlay (remote containers, services, tasks.<name>)
// are lines of their own beside netavark's, told apart by their key (`ovr…`, never a container ID).
// Measured with the real aardvark-dns 1.4 (see the report of issue 13's node part and the integration test):
// names with a dot resolve as they are, several lines with one name answer all their addresses, a line's address
// need not be a local container, and a query from an address in no line is answered too (with this network's names).
import { AardvarkFiles, isDnsFileName } from '../../network/aardvark-files';
import type { DnsRecord, OverlayDns } from '../../network/overlay/overlay-dns';

/** The prefix of every key Berth gives its lines (DnsRecord.key). */
export const OVERLAY_DNS_KEY_PREFIX = 'ovr';

export class AardvarkOverlayDns implements OverlayDns {
  private readonly files: AardvarkFiles;

  /** `configDir`: netavark's config directory (the engine's), where aardvark-dns's files are. */
  constructor(configDir: string) {
    this.files = new AardvarkFiles(configDir);
  }

  async set(networkId: string, records: DnsRecord[]): Promise<void> {
    await this.files.edit(networkId, (lines) => withOverlayLines(lines, records));
  }
}

/** netavark's lines kept in their order, Berth's replaced by `records` (names aardvark cannot hold dropped). */
export function withOverlayLines(lines: string[], records: DnsRecord[]): string[] {
  const own = lines.filter((l, i) => i === 0 || (l !== '' && !l.startsWith(OVERLAY_DNS_KEY_PREFIX)));
  for (const r of records) {
    const names = r.names.filter(isDnsFileName);
    if (!names.length || !r.ips.length) continue;
    own.push(`${r.key} ${r.ips.join(',')}  ${names.join(',')}`);
  }
  return [...own, ''];
}
