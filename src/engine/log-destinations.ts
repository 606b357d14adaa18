// The forwarding log drivers (syslog, gelf, fluentd, journald): each one's options checked with dockerd's words
// at create, and the destination the shipper sends to (an endpoint and the encoding of one line) built from them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { randomBytes } from 'node:crypto';
import { InvalidParameterError } from '../errdefs';
import { parseGoBool } from '../wire/go-bool';
import { parseGoDuration } from '../wire/durations';
import { checkExtraOptions, extraAttributes, logTag, type LogContainerInfo } from '../wire/log-tag';
import { SEVERITY_ERR, SEVERITY_INFO, formatSyslog, frameSyslog, parseFacility, parseSyslogFormat } from '../wire/syslog';
import { compressGelf, gelfDatagrams, gelfMessage, gelfTcpFrame, type GelfCompression } from '../wire/gelf';
import { encodeForwardMessage } from '../wire/fluentd-forward';
import { JOURNAL_SOCKET, encodeJournalEntry, journalFieldName } from '../wire/journald';
import type { LogEndpoint } from '../network/log-links';

/** One line as the shipper hands it to a driver: the text without its newline. */
export interface LogLine { timeNano: bigint; stream: 'stdout' | 'stderr'; text: string }

export interface LogDestination {
  endpoint: LogEndpoint;
  /** One line's frames: a datagram each on a datagram endpoint, written back to back on a stream. */
  encode(line: LogLine): Buffer[];
}

/** What the checks look at on the host: files named by options, the journal's socket. */
export interface LogHostProbe {
  exists(path: string): boolean;
  isSocket(path: string): boolean;
  readFile(path: string): Buffer;
}
export const realLogHostProbe: LogHostProbe = {
  exists: (p) => fs.existsSync(p), isSocket: (p) => fs.statSync(p, { throwIfNoEntry: false })?.isSocket() ?? false, readFile: (p) => fs.readFileSync(p),
};

const EXTRA_OPTS = ['env', 'env-regex', 'labels', 'labels-regex', 'tag'];
const SYSLOG_OPTS = [...EXTRA_OPTS, 'syslog-address', 'syslog-facility', 'syslog-tls-ca-cert', 'syslog-tls-cert', 'syslog-tls-key', 'syslog-tls-skip-verify', 'syslog-format'];
const GELF_OPTS = [...EXTRA_OPTS, 'gelf-address', 'gelf-compression-type', 'gelf-compression-level', 'gelf-tcp-max-reconnect', 'gelf-tcp-reconnect-delay'];
const FLUENTD_OPTS = [
  ...EXTRA_OPTS, 'fluentd-address', 'fluentd-async', 'fluentd-async-connect', 'fluentd-async-reconnect-interval', 'fluentd-buffer-limit',
  'fluentd-max-retries', 'fluentd-request-ack', 'fluentd-retry-wait', 'fluentd-sub-second-precision', 'fluentd-write-timeout',
];
const JOURNALD_OPTS = EXTRA_OPTS;

export const FORWARDING_DRIVERS = ['syslog', 'gelf', 'fluentd', 'journald'];

/** The local syslog sockets Docker tries when syslog-address is not set. */
const LOCAL_SYSLOG = ['/dev/log', '/var/run/syslog', '/var/run/log'];

/** Checks a forwarding driver's options (`builtin`: mode and max-buffer-size, which every driver takes). */
export function checkForwardingOptions(driver: string, opts: Record<string, string>, builtin: string[], probe: LogHostProbe): void {
  const known = { syslog: SYSLOG_OPTS, gelf: GELF_OPTS, fluentd: FLUENTD_OPTS, journald: JOURNALD_OPTS }[driver] ?? [];
  for (const key of Object.keys(opts)) {
    if (builtin.includes(key) || known.includes(key)) continue;
    throw new InvalidParameterError(driver === 'gelf' ? `unknown log opt '${key}' for gelf log driver` : `unknown log opt '${key}' for ${driver} log driver`);
  }
  checkExtraOptions(opts);
  // Built and thrown away: the same parsing the shipper does, so what passes here ships.
  destinationOf(driver, opts, CHECK_INFO, probe);
}

const CHECK_INFO: LogContainerInfo = { id: '0'.repeat(64), name: 'check', imageName: '', imageId: '', created: '', command: '', daemonName: 'berth', labels: {}, env: [] };

export function destinationOf(driver: string, opts: Record<string, string>, info: LogContainerInfo, probe: LogHostProbe): LogDestination {
  switch (driver) {
    case 'syslog': return syslogDestination(opts, info, probe);
    case 'gelf': return gelfDestination(opts, info);
    case 'fluentd': return fluentdDestination(opts, info);
    case 'journald': return journaldDestination(opts, info, probe);
    default: throw new InvalidParameterError(`logger: no log driver named '${driver}' is registered`);
  }
}

/** Go's url.Parse as these drivers read an address: scheme://host[:port][/path]. */
function parseUrl(address: string): { scheme: string; host: string; port: string; path: string } {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[^\]]*\]|[^/:]*)(?::([^/]*))?(\/.*)?$/.exec(address);
  if (!m) return { scheme: '', host: '', port: '', path: address };
  return { scheme: m[1].toLowerCase(), host: m[2].replace(/^\[|\]$/g, ''), port: m[3] ?? '', path: m[4] ?? '' };
}

function portOf(port: string, what: string): number {
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new InvalidParameterError(`${what}: invalid port "${port}"`);
  return Number(port);
}

// ---------- syslog ----------

function syslogEndpoint(address: string | undefined, opts: Record<string, string>, probe: LogHostProbe): LogEndpoint {
  if (!address) {
    const local = LOCAL_SYSLOG.find((p) => probe.isSocket(p));
    if (!local) throw new InvalidParameterError('Unix syslog delivery error: no local syslog socket (/dev/log); set syslog-address');
    return { kind: 'unixgram', path: local };
  }
  const u = parseUrl(address);
  if (u.scheme === 'unix' || u.scheme === 'unixgram') {
    if (!probe.exists(u.path)) throw new InvalidParameterError(`stat ${u.path}: no such file or directory`);
    return { kind: u.scheme, path: u.path };
  }
  if (u.scheme !== 'udp' && u.scheme !== 'tcp' && u.scheme !== 'tcp+tls') throw new InvalidParameterError(`unsupported scheme: '${u.scheme}'`);
  if (!u.host) throw new InvalidParameterError(`syslog-address: missing host in '${address}'`);
  const port = u.port === '' ? 514 : portOf(u.port, 'syslog-address');
  if (u.scheme === 'udp') return { kind: 'udp', host: u.host, port };
  if (u.scheme === 'tcp') return { kind: 'tcp', host: u.host, port };
  const file = (key: string) => {
    const p = opts[key];
    if (!p) return undefined;
    try { return probe.readFile(p); } catch (e) { throw new InvalidParameterError(`${key}: ${(e as Error).message}`); }
  };
  return { kind: 'tcp', host: u.host, port, tls: { ca: file('syslog-tls-ca-cert'), cert: file('syslog-tls-cert'), key: file('syslog-tls-key'), skipVerify: 'syslog-tls-skip-verify' in opts } };
}

function syslogDestination(opts: Record<string, string>, info: LogContainerInfo, probe: LogHostProbe): LogDestination {
  const endpoint = syslogEndpoint(opts['syslog-address'], opts, probe);
  const facility = parseFacility(opts['syslog-facility']);
  const format = parseSyslogFormat(opts['syslog-format']);
  const tag = logTag(opts, info);
  const hostname = os.hostname();
  const octetCounted = endpoint.kind === 'tcp' && !!endpoint.tls && format.startsWith('rfc5424');
  return {
    endpoint,
    encode: (l) => [frameSyslog(formatSyslog(format, {
      facility, severity: l.stream === 'stderr' ? SEVERITY_ERR : SEVERITY_INFO, timeNano: l.timeNano, hostname, tag, pid: process.pid, text: l.text,
    }), octetCounted)],
  };
}

// ---------- gelf ----------

function gelfDestination(opts: Record<string, string>, info: LogContainerInfo): LogDestination {
  const address = opts['gelf-address'];
  if (!address) throw new InvalidParameterError('gelf-address is a required parameter');
  const u = parseUrl(address);
  if (u.scheme !== 'udp' && u.scheme !== 'tcp') throw new InvalidParameterError('gelf: endpoint needs to be TCP or UDP');
  if (!u.host || !u.port) throw new InvalidParameterError('gelf: please provide gelf-address as proto://address:port');
  const port = portOf(u.port, 'gelf-address');
  let compression: GelfCompression = 'gzip';
  let level = -1;
  for (const key of ['gelf-compression-type', 'gelf-compression-level']) {
    if (opts[key] !== undefined && u.scheme === 'tcp') throw new InvalidParameterError(`${key} is not supported with TCP (GELF over TCP is not compressed)`);
  }
  if (opts['gelf-compression-type'] !== undefined) {
    const t = opts['gelf-compression-type'];
    if (t !== 'gzip' && t !== 'zlib' && t !== 'none') throw new InvalidParameterError(`unknown value "${t}" for log opt "gelf-compression-type" for gelf log driver`);
    compression = t;
  }
  if (opts['gelf-compression-level'] !== undefined) {
    const v = opts['gelf-compression-level'];
    if (!/^[+-]?\d+$/.test(v) || Number(v) < -1 || Number(v) > 9) throw new InvalidParameterError(`unknown value "${v}" for log opt "gelf-compression-level" for gelf log driver`);
    level = Number(v);
  }
  for (const key of ['gelf-tcp-max-reconnect', 'gelf-tcp-reconnect-delay']) {
    if (opts[key] === undefined) continue;
    if (u.scheme !== 'tcp') throw new InvalidParameterError(`${key} is only valid for TCP`);
    if (!/^\+?\d+$/.test(opts[key])) throw new InvalidParameterError(`${key} must be a positive integer`);
  }
  const tag = logTag(opts, info);
  const host = os.hostname();
  const fixed: Record<string, string> = {
    container_id: info.id, container_name: info.name.replace(/^\//, ''), image_id: info.imageId, image_name: info.imageName,
    command: info.command, tag, created: info.created,
  };
  const extra = { ...extraAttributes(opts, info), ...fixed };
  // Chunks of one message share an ID: a random prefix and a counter make it unique without randomness per line.
  const idPrefix = randomBytes(4);
  let counter = 0;
  const encodeMessage = (l: LogLine) => gelfMessage({
    host, shortMessage: l.text, timestamp: Number(l.timeNano / 1000n) / 1e6, level: l.stream === 'stderr' ? SEVERITY_ERR : SEVERITY_INFO, extra,
  });
  if (u.scheme === 'tcp') return { endpoint: { kind: 'tcp', host: u.host, port }, encode: (l) => [gelfTcpFrame(encodeMessage(l))] };
  return {
    endpoint: { kind: 'udp', host: u.host, port },
    encode: (l) => {
      const id = Buffer.alloc(8);
      idPrefix.copy(id);
      id.writeUInt32BE(counter = (counter + 1) >>> 0, 4);
      // Too large for 128 chunks (over ~180 KB compressed): cut to what fits, as a line cut short beats none.
      const payload = compressGelf(encodeMessage(l), compression, level);
      return gelfDatagrams(payload, id) ?? gelfDatagrams(compressGelf(encodeMessage({ ...l, text: l.text.slice(0, 100_000) }), compression, level), id) ?? [];
    },
  };
}

// ---------- fluentd ----------

function fluentdDestination(opts: Record<string, string>, info: LogContainerInfo): LogDestination {
  const endpoint = fluentdEndpoint(opts['fluentd-address']);
  for (const key of ['fluentd-async', 'fluentd-async-connect', 'fluentd-request-ack', 'fluentd-sub-second-precision']) {
    if (opts[key] !== undefined && parseGoBool(opts[key]) === undefined) throw new InvalidParameterError(`${key}: strconv.ParseBool: parsing "${opts[key]}": invalid syntax`);
  }
  for (const key of ['fluentd-buffer-limit', 'fluentd-max-retries']) {
    if (opts[key] !== undefined && !/^[+-]?\d+$/.test(opts[key])) throw new InvalidParameterError(`${key}: strconv.ParseInt: parsing "${opts[key]}": invalid syntax`);
  }
  for (const key of ['fluentd-retry-wait', 'fluentd-write-timeout', 'fluentd-async-reconnect-interval']) {
    if (opts[key] === undefined) continue;
    try { parseGoDuration(opts[key]); } catch (e) { throw new InvalidParameterError(`${key}: ${(e as Error).message}`); }
  }
  const interval = opts['fluentd-async-reconnect-interval'];
  if (interval !== undefined) {
    const ns = parseGoDuration(interval);
    if (ns !== 0 && (ns < 100e6 || ns > 10e9)) throw new InvalidParameterError(`invalid value for fluentd-async-reconnect-interval: ${interval}`);
  }
  const tag = logTag(opts, info);
  const subSecond = parseGoBool(opts['fluentd-sub-second-precision'] ?? 'false') ?? false;
  const extra = extraAttributes(opts, info);
  const name = info.name.startsWith('/') ? info.name : `/${info.name}`;
  return {
    endpoint,
    encode: (l) => [encodeForwardMessage({
      tag, timeNano: l.timeNano, record: { ...extra, container_id: info.id, container_name: name, source: l.stream, log: l.text },
    }, subSecond)],
  };
}

/** fluentd-address: [tcp://]host[:port] (127.0.0.1:24224 by default), or unix:///path, as moby's parseAddress. */
function fluentdEndpoint(address: string | undefined): LogEndpoint {
  if (!address) return { kind: 'tcp', host: '127.0.0.1', port: 24224 };
  const u = parseUrl(address.includes('://') ? address : `tcp://${address}`);
  if (u.scheme === 'unix') {
    if (u.path.replace(/^\/+/, '') === '') throw new InvalidParameterError('path is empty');
    return { kind: 'unix', path: u.path };
  }
  if (u.scheme !== 'tcp' && u.scheme !== 'tls') throw new InvalidParameterError(`unsupported scheme: '${u.scheme}'`);
  if (u.path !== '') throw new InvalidParameterError('should not contain a path element');
  const port = u.port === '' ? 24224 : portOf(u.port, 'invalid port');
  return { kind: 'tcp', host: u.host || '127.0.0.1', port, ...(u.scheme === 'tls' ? { tls: { skipVerify: false } } : {}) };
}

// ---------- journald ----------

function journaldDestination(opts: Record<string, string>, info: LogContainerInfo, probe: LogHostProbe): LogDestination {
  if (!probe.isSocket(JOURNAL_SOCKET)) throw new InvalidParameterError(`journald is not enabled on this host (no ${JOURNAL_SOCKET})`);
  const tag = logTag(opts, info);
  const fixed: [string, string][] = [
    ['CONTAINER_ID', info.id.slice(0, 12)], ['CONTAINER_ID_FULL', info.id], ['CONTAINER_NAME', info.name.replace(/^\//, '')],
    ['CONTAINER_TAG', tag], ['IMAGE_NAME', info.imageName], ['SYSLOG_IDENTIFIER', tag],
  ];
  const extra = Object.entries(extraAttributes(opts, info)).map(([k, v]): [string, string] => [journalFieldName(k), v]);
  return {
    endpoint: { kind: 'unixgram', path: JOURNAL_SOCKET },
    encode: (l) => [encodeJournalEntry([['MESSAGE', l.text], ['PRIORITY', String(l.stream === 'stderr' ? SEVERITY_ERR : SEVERITY_INFO)], ...fixed, ...extra])],
  };
}
