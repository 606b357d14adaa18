// Docker's log drivers as Berth offers them: json-file and local (conmon's k8s-file underneath, size-capped), none,
// and the forwarding drivers (log-destinations.ts), whose lines the shipper sends on from the same local log.
import { InvalidParameterError } from '../errdefs';
import { FORWARDING_DRIVERS, checkForwardingOptions, realLogHostProbe, type LogHostProbe } from './log-destinations';
import { fromHumanSize, ramInBytes } from '../util/units';
import { parseGoBool } from '../wire/go-bool';

export interface LogConfig { Type: string; Config: Record<string, string> }

/** dockerd's default driver, and Berth's: what clients (docker-py's run()) read output from. */
export const DEFAULT_LOG_DRIVER = 'json-file';
export const LOG_DRIVERS = ['json-file', 'local', 'none', ...FORWARDING_DRIVERS];
/**
 * What conmon keeps for a `none` container: attach reads a container's output from conmon's log, so a small
 * rolling file stays even when no log is kept for `docker logs`.
 */
const NONE_ATTACH_CAP = 1024 * 1024;
/** conmon's smallest --log-size-max that still holds a line; smaller caps are raised to it. */
const MIN_CONMON_CAP = 8192;

const JSON_FILE_OPTS = ['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag'];
const LOCAL_OPTS = ['max-file', 'max-size', 'compress'];
/** moby's local driver keeps 5 files of 20 MB, compressed, unless told otherwise. */
const LOCAL_DEFAULTS = { 'max-size': '20m', 'max-file': '5' };
/** Options every driver takes (moby's builtInLogOpts). */
const BUILTIN_OPTS = ['mode', 'max-buffer-size'];

/**
 * HostConfig.LogConfig as dockerd checks it at create: the driver defaults to json-file, an unknown driver or
 * option is refused with dockerd's words. Option values (which dockerd checks only when the container starts)
 * are checked here too, so a mistake is a 400 at the moment it is made.
 */
export function checkLogConfig(raw: unknown, defaults: LogConfig = { Type: DEFAULT_LOG_DRIVER, Config: {} }, probe: LogHostProbe = realLogHostProbe): LogConfig {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidParameterError(`json: cannot unmarshal ${jsonType(raw)} into Go struct field HostConfig.LogConfig of type container.LogConfig`);
  }
  const { Type: type, Config: config } = raw as { Type?: unknown; Config?: unknown };
  if (type !== undefined && type !== null && typeof type !== 'string') {
    throw new InvalidParameterError(`json: cannot unmarshal ${jsonType(type)} into Go struct field LogConfig.HostConfig.LogConfig.Type of type string`);
  }
  if (config !== undefined && config !== null && (typeof config !== 'object' || Array.isArray(config))) {
    throw new InvalidParameterError(`json: cannot unmarshal ${jsonType(config)} into Go struct field LogConfig.HostConfig.LogConfig.Config of type map[string]string`);
  }
  const opts: Record<string, string> = {};
  for (const [k, v] of Object.entries((config ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new InvalidParameterError(`json: cannot unmarshal ${jsonType(v)} into Go struct field LogConfig.HostConfig.LogConfig.Config of type string`);
    opts[k] = v;
  }
  const out: LogConfig = { Type: type || defaults.Type, Config: opts };
  // As moby's mergeAndVerifyLogConfig: daemon.json's log-opts fill in what the container leaves out, when the
  // container uses the daemon's driver.
  if (out.Type === defaults.Type) for (const [k, v] of Object.entries(defaults.Config)) if (!(k in opts)) opts[k] = v;
  if (out.Type === 'none') return out;
  const mode = opts.mode ?? '';
  if (!['', 'blocking', 'non-blocking'].includes(mode)) throw new InvalidParameterError(`logger: logging mode not supported: ${mode}`);
  if (opts['max-buffer-size'] !== undefined) {
    if (mode !== 'non-blocking') throw new InvalidParameterError('logger: max-buffer-size option is only supported with \'mode=non-blocking\'');
    try { ramInBytes(opts['max-buffer-size']); } catch { throw new InvalidParameterError(`error parsing option max-buffer-size: invalid size: '${opts['max-buffer-size']}'`); }
  }
  if (!LOG_DRIVERS.includes(out.Type)) throw new InvalidParameterError(`logger: no log driver named '${out.Type}' is registered`);
  if (FORWARDING_DRIVERS.includes(out.Type)) {
    checkForwardingOptions(out.Type, opts, BUILTIN_OPTS, probe);
    return out;
  }
  for (const key of Object.keys(opts)) {
    if (BUILTIN_OPTS.includes(key)) continue;
    if (out.Type === 'local' && !LOCAL_OPTS.includes(key)) throw new InvalidParameterError(`unknown log opt '${key}' for log driver local`);
    if (out.Type === 'json-file' && !JSON_FILE_OPTS.includes(key)) throw new InvalidParameterError(`unknown log opt '${key}' for json-file log driver`);
  }
  fileLimits(out);
  return out;
}

/** json-file's and local's max-size (decimal units, as dockerd reads it) and max-file, checked with dockerd's words. */
function fileLimits(lc: LogConfig): { maxSize?: number; maxFiles: number } {
  const opts = lc.Type === 'local' ? { ...LOCAL_DEFAULTS, ...lc.Config } : lc.Config;
  let maxSize: number | undefined;
  if (opts['max-size'] !== undefined) {
    try {
      maxSize = fromHumanSize(opts['max-size'].trim());
    } catch {
      throw new InvalidParameterError(`invalid size: '${opts['max-size']}'`);
    }
    if (maxSize <= 0) throw new InvalidParameterError('max-size must be a positive number');
  }
  let maxFiles = 1;
  if (opts['max-file'] !== undefined) {
    if (!/^[+-]?\d+$/.test(opts['max-file'])) throw new InvalidParameterError(`strconv.Atoi: parsing "${opts['max-file']}": invalid syntax`);
    maxFiles = Number(opts['max-file']);
    if (maxFiles < 1) throw new InvalidParameterError('max-file cannot be less than 1');
  }
  if (opts.compress !== undefined) {
    const compress = parseGoBool(opts.compress);
    if (compress === undefined) {
      throw new InvalidParameterError(`strconv.ParseBool: parsing "${opts.compress}": invalid syntax`);
    }
    if (compress && (maxFiles === 1 || maxSize === undefined)) throw new InvalidParameterError('compress cannot be true when max-file is less than 2 or max-size is not set');
  }
  return { maxSize, maxFiles };
}

/**
 * The cap conmon is given: json-file's max-size times max-file (the most dockerd keeps on disk; conmon starts the
 * file afresh instead of rotating it), Berth's default cap when no max-size is set, a small one for `none`.
 */
export function conmonLogCap(lc: LogConfig | undefined, defaultCap: number): number {
  if (lc?.Type === 'none') return NONE_ATTACH_CAP;
  if (!lc || (lc.Type !== 'json-file' && lc.Type !== 'local')) return defaultCap;
  const { maxSize, maxFiles } = fileLimits(lc);
  if (maxSize === undefined) return defaultCap;
  return Math.max(MIN_CONMON_CAP, maxSize * maxFiles);
}

/** Whether berthd ships this container's lines somewhere besides its local log. */
export function isForwarding(lc: LogConfig | undefined): boolean {
  return !!lc && FORWARDING_DRIVERS.includes(lc.Type);
}

/**
 * The shipper's bound (bytes of lines held while the destination is down): max-buffer-size, else 1 MiB, the
 * size moby's non-blocking mode holds by default.
 */
export function shippingBufferBytes(lc: LogConfig): number {
  const v = lc.Config['max-buffer-size'];
  return v ? ramInBytes(v) : 1024 * 1024;
}

/** `docker logs` (and attach's logs=1) can read the log: every driver but none. */
export function logsReadable(lc: LogConfig | undefined): boolean {
  return lc?.Type !== 'none';
}

/** A record written before json-file was presented says k8s-file (conmon's format): the same log, Docker's name. */
export function presentedLogConfig(lc: { Type: string; Config?: Record<string, string> } | undefined): LogConfig {
  if (!lc || !lc.Type || lc.Type === 'k8s-file') return { Type: DEFAULT_LOG_DRIVER, Config: lc?.Config ?? {} };
  return { Type: lc.Type, Config: lc.Config ?? {} };
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}
