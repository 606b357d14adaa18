// The systemd journal's native protocol: one datagram per entry on /run/systemd/journal/socket, each field
// "KEY=value\n", or "KEY\n" + its length as a little-endian u64 + the value + "\n" when the value holds a newline.

export const JOURNAL_SOCKET = '/run/systemd/journal/socket';

/**
 * A field name as the journal takes it: upper-case letters, digits and underscores, not starting with one (moby's
 * journald driver sanitizes label and env names the same way).
 */
export function journalFieldName(key: string): string {
  return key.toUpperCase().replace(/[^A-Z0-9_]/g, '_').replace(/^_+/, '');
}

export function encodeJournalEntry(fields: [string, string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of fields) {
    if (!key) continue;
    if (!value.includes('\n')) {
      parts.push(Buffer.from(`${key}=${value}\n`));
      continue;
    }
    const v = Buffer.from(value);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(v.length));
    parts.push(Buffer.from(`${key}\n`), len, v, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}
