// The container facts every Docker log driver can name: the `tag` template ({{.ID}} {{.Name}} ...) and the extra
// attributes picked by the labels/env/labels-regex/env-regex options, as moby's logger.Info offers them.
import { InvalidParameterError } from '../errdefs';

/** What a driver knows of the container it ships for (moby's logger.Info). */
export interface LogContainerInfo {
  id: string;
  name: string;
  imageName: string;
  imageId: string;
  created: string;
  command: string;
  daemonName: string;
  labels: Record<string, string>;
  env: string[];
}

const TAG_FIELDS: Record<string, (i: LogContainerInfo) => string> = {
  ID: (i) => i.id.slice(0, 12),
  FullID: (i) => i.id,
  Name: (i) => i.name.replace(/^\//, ''),
  ImageName: (i) => i.imageName,
  ImageID: (i) => i.imageId.replace(/^sha256:/, '').slice(0, 12),
  ImageFullID: (i) => i.imageId,
  DaemonName: (i) => i.daemonName,
  Command: (i) => i.command,
};

/** Docker's default tag: the short container ID. */
export const DEFAULT_TAG = '{{.ID}}';

/**
 * Expands a Go text/template of the fields above (only `{{.Field}}` actions, what Docker's documentation offers);
 * a field Docker does not have is refused with Go's words, at create rather than when the first line is logged.
 */
export function expandTag(template: string, info: LogContainerInfo): string {
  let out = '';
  let rest = template;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) return out + rest;
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) throw new InvalidParameterError(`template: log-tag:1: unclosed action`);
    out += rest.slice(0, open);
    const action = rest.slice(open + 2, close).trim();
    const m = /^\.([A-Za-z]+)$/.exec(action);
    if (!m) throw new InvalidParameterError(`template: log-tag:1: unsupported action in tag template: {{${action}}}`);
    const field = TAG_FIELDS[m[1]];
    if (!field) throw new InvalidParameterError(`template: log-tag:1:${open + 3}: executing "log-tag" at <.${m[1]}>: can't evaluate field ${m[1]} in type *logger.Info`);
    out += field(info);
    rest = rest.slice(close + 2);
  }
}

/** The tag a driver stamps on each message: the `tag` option expanded, else `fallback` (Docker's per driver). */
export function logTag(opts: Record<string, string>, info: LogContainerInfo, fallback = DEFAULT_TAG): string {
  return expandTag(opts.tag ?? fallback, info);
}

/**
 * moby's Info.ExtraAttributes: the container's labels named by `labels` (comma list) or matching `labels-regex`,
 * and its environment variables named by `env` or matching `env-regex`, as one map (env wins a clash, as there).
 */
export function extraAttributes(opts: Record<string, string>, info: LogContainerInfo): Record<string, string> {
  const out: Record<string, string> = {};
  const labelNames = listOption(opts.labels);
  const labelRegex = compileRegex(opts['labels-regex'], 'labels-regex');
  for (const [k, v] of Object.entries(info.labels)) {
    if (labelNames.includes(k) || labelRegex?.test(k)) out[k] = v;
  }
  const envNames = listOption(opts.env);
  const envRegex = compileRegex(opts['env-regex'], 'env-regex');
  if (!envNames.length && !envRegex) return out;
  for (const kv of info.env) {
    const eq = kv.indexOf('=');
    if (eq <= 0) continue;
    const k = kv.slice(0, eq);
    if (envNames.includes(k) || envRegex?.test(k)) out[k] = kv.slice(eq + 1);
  }
  return out;
}

/** The checks of the extras' options at create: a regex that does not compile is refused. */
export function checkExtraOptions(opts: Record<string, string>): void {
  compileRegex(opts['labels-regex'], 'labels-regex');
  compileRegex(opts['env-regex'], 'env-regex');
}

function listOption(v: string | undefined): string[] {
  return v ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

function compileRegex(v: string | undefined, name: string): RegExp | undefined {
  if (!v) return undefined;
  try {
    return new RegExp(v);
  } catch (e) {
    throw new InvalidParameterError(`error parsing regexp in log opt ${name}: ${(e as Error).message}`);
  }
}
