// Docker's go-units and time helpers: human sizes ("4.26MB"), human durations ("About a minute"),
// size strings to bytes ("64m"); Go durations and timestamps are wire/durations' and wire/timestamps'.

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** Go's fmt "%.<precision>g" for a non-negative float. */
export function formatG(value: number, precision: number): string {
  if (value === 0) return '0';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : 'NaN';
  const exp = Math.floor(Math.log10(Math.abs(Number(value.toPrecision(precision)))));
  if (exp < -4 || exp >= precision) {
    const [mant, e] = value.toExponential(precision - 1).split('e');
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    const n = Number(e);
    return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const fixed = value.toFixed(Math.max(0, precision - 1 - exp));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

/** go-units HumanSizeWithPrecision: decimal units. */
export function humanSize(size: number, precision = 4): string {
  let i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) { size /= 1000; i++; }
  return `${formatG(size, precision)}${DECIMAL_UNITS[i]}`;
}

/** go-units BytesSize: binary units with %.4g ("1.5GiB"). */
export function bytesSize(size: number): string {
  let i = 0;
  while (size >= 1024 && i < BINARY_UNITS.length - 1) { size /= 1024; i++; }
  return `${formatG(size, 4)}${BINARY_UNITS[i]}`;
}

const SIZE_RE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;

function parseSize(input: string, base: number): number {
  const m = SIZE_RE.exec(input);
  if (!m) throw new Error(`invalid size: '${input}'`);
  let size = parseFloat(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  const power = ['', 'k', 'm', 'g', 't', 'p'].indexOf(unit);
  size *= base ** power;
  return Math.trunc(size);
}

/** go-units RAMInBytes: "64m" → 67108864 (binary multiples), as -m, --shm-size and tmpfs-size use. */
export function ramInBytes(input: string): number {
  return parseSize(input, 1024);
}

/** go-units FromHumanSize: "4kB" → 4000 (decimal multiples). */
export function fromHumanSize(input: string): number {
  return parseSize(input, 1000);
}

/** go-units HumanDuration, given milliseconds. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3600000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3600000 / 24 / 365)} years`;
}

/** "5 seconds ago" for a unix timestamp in seconds. */
export function timeAgo(unixSeconds: number, now = Date.now()): string {
  return `${humanDuration(Math.max(0, now - unixSeconds * 1000))} ago`;
}


/** Docker's short ID: the first 12 hex digits, without any "sha256:" prefix. */
export function shortId(id: string): string {
  const bare = id.includes(':') ? id.slice(id.indexOf(':') + 1) : id;
  return bare.slice(0, 12);
}

/** Docker's formatter.Ellipsis: cut to maxWidth with a trailing "…". */
export function ellipsis(s: string, maxWidth: number): string {
  const chars = [...s];
  if (chars.length <= maxWidth) return s;
  if (maxWidth <= 1) return chars.slice(0, maxWidth).join('');
  return `${chars.slice(0, maxWidth - 1).join('')}…`;
}
