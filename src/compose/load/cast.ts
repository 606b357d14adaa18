// Scalars the schema accepts as strings (because they may be written `${VAR}`) converted to the number or
// boolean compose-go decodes them into; a string that is neither is an error naming the path, as Compose's is.
import { ComposeFileError } from './errors';
import { mapStrings, lineOf, type LineMap } from './yaml';

/** The value in its type, or undefined when the string is not one. */
type Cast = { type: string; from: (s: string) => number | boolean | undefined };
const toInt: Cast = { type: 'integer', from: (s) => (/^[-+]?\d+$/.test(s.trim()) ? Number(s) : undefined) };
const toFloat: Cast = { type: 'number', from: (s) => (s.trim() !== '' && !Number.isNaN(Number(s)) ? Number(s) : undefined) };
const toBool: Cast = {
  type: 'boolean',
  from: (s) => {
    const l = s.toLowerCase();
    if (['y', 'yes', 'true', 'on'].includes(l)) return true;
    if (['n', 'no', 'false', 'off'].includes(l)) return false;
    return undefined;
  },
};

/** Paths the schema lets be strings (so `replicas: ${N}` validates) but compose-go decodes as numbers or booleans. */
const CASTS: [RegExp, Cast][] = [
  ...['cpu_count', 'cpu_period', 'cpu_quota', 'cpu_rt_period', 'cpu_rt_runtime', 'cpu_shares', 'oom_score_adj', 'pids_limit', 'scale'].map(
    (k) => [new RegExp(`^services\\.[^.]+\\.${k}$`), toInt] as [RegExp, Cast],
  ),
  ...['init', 'oom_kill_disable', 'privileged', 'read_only', 'stdin_open', 'tty'].map(
    (k) => [new RegExp(`^services\\.[^.]+\\.${k}$`), toBool] as [RegExp, Cast],
  ),
  [/^services\.[^.]+\.(cpus|cpu_percent)$/, toFloat],
  [/^services\.[^.]+\.depends_on\.[^.]+\.(required|restart)$/, toBool],
  [/^services\.[^.]+\.deploy\.(replicas|(update_config|rollback_config)\.parallelism|restart_policy\.max_attempts|placement\.max_replicas_per_node)$/, toInt],
  [/^services\.[^.]+\.healthcheck\.retries$/, toInt],
  [/^services\.[^.]+\.healthcheck\.disable$/, toBool],
  [/^services\.[^.]+\.ports\[\d+\]\.target$/, toInt],
  [/^services\.[^.]+\.ulimits\.[^.]+(\.(hard|soft))?$/, toInt],
  [/^services\.[^.]+\.volumes\[\d+\]\.(read_only|volume\.nocopy)$/, toBool],
  [/^(networks|volumes|secrets|configs)\.[^.]+\.(external|internal|attachable|enable_ipv4|enable_ipv6)$/, toBool],
];

export function castScalars(doc: Record<string, unknown>, file: string, lines?: LineMap): Record<string, unknown> {
  return mapStrings(doc, '', (v, path) => {
    const cast = CASTS.find(([re]) => re.test(path));
    if (!cast) return v;
    const typed = cast[1].from(v);
    if (typed === undefined) throw new ComposeFileError(file, `must be a ${cast[1].type}, not ${JSON.stringify(v)}`, path, lineOf(lines, path));
    return typed;
  }) as Record<string, unknown>;
}
