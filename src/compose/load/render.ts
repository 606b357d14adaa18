// `docker compose config` output: the project model as YAML or JSON (name first, then services, networks,
// volumes, secrets, configs, extensions; keys sorted), and the `--services`, `--volumes`, `--variables` lists.
import { stringify } from 'yaml';
import type { Project } from '../model';
import type { VariableUse } from './index';

/** Compose prints Go structs in field order; these are the ones where that differs from alphabetical. */
const FIELD_ORDER: Record<string, string[]> = {
  port: ['name', 'mode', 'host_ip', 'target', 'published', 'protocol', 'app_protocol'],
  volume: ['type', 'source', 'target', 'read_only', 'consistency', 'bind', 'volume', 'tmpfs'],
  depends: ['condition', 'restart', 'required'],
};

function orderOf(path: string): string[] | undefined {
  if (/^services\.[^.]+\.ports\[\]$/.test(path)) return FIELD_ORDER.port;
  if (/^services\.[^.]+\.volumes\[\]$/.test(path)) return FIELD_ORDER.volume;
  if (/^services\.[^.]+\.depends_on\.[^.]+$/.test(path)) return FIELD_ORDER.depends;
  return undefined;
}

function sorted(v: unknown, path: string): unknown {
  if (Array.isArray(v)) return v.map((x) => sorted(x, `${path}[]`));
  if (v !== null && typeof v === 'object') {
    const order = orderOf(path);
    const rank = (k: string) => (order && order.includes(k) ? order.indexOf(k) : order ? order.length : 0);
    const keys = Object.keys(v).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sorted(x, `${path}.${k}`);
    }
    return out;
  }
  return v;
}

/** What `config` prints: the model without what only Berth keeps (working dir, files, disabled services). */
export function configDocument(project: Project): Record<string, unknown> {
  const doc: Record<string, unknown> = { name: project.name };
  const services: Record<string, unknown> = {};
  for (const name of Object.keys(project.services).sort()) {
    const { name: _n, ...svc } = project.services[name];
    services[name] = sorted(svc, `services.${name}`);
  }
  doc.services = services;
  for (const key of ['networks', 'volumes', 'secrets', 'configs'] as const) {
    if (Object.keys(project[key]).length > 0) doc[key] = sorted(project[key], key);
  }
  for (const [k, v] of Object.entries(project.extensions ?? {})) doc[k] = v;
  return doc;
}

export function renderConfig(project: Project, format: 'yaml' | 'json' = 'yaml'): string {
  const doc = configDocument(project);
  if (format === 'json') return `${JSON.stringify(doc, null, 2)}\n`;
  return stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}

export function renderServices(project: Project): string {
  return Object.keys(project.services).map((s) => `${s}\n`).join('');
}

export function renderVolumes(project: Project): string {
  return Object.keys(project.volumes).map((v) => `${v}\n`).join('');
}

/**
 * `config --variables`: each variable, whether it is required, its value, where the value came from, its
 * default. JSON and YAML keep Compose's shape (Name, DefaultValue, PresenceValue, Required) and add Value
 * and Source, which Compose does not tell.
 */
export function renderVariables(variables: VariableUse[], format: 'table' | 'json' | 'yaml' = 'table'): string {
  if (format !== 'table') {
    const byName: Record<string, unknown> = {};
    for (const v of variables) {
      byName[v.name] = { Name: v.name, DefaultValue: v.defaultValue ?? '', PresenceValue: '', Required: v.required, Value: v.value ?? '', Source: v.source };
    }
    if (format === 'json') return `${JSON.stringify(byName, null, 4)}\n`;
    const lower = Object.fromEntries(Object.entries(byName).map(([k, x]) => [k, Object.fromEntries(Object.entries(x as object).map(([f, y]) => [f.toLowerCase(), y]))]));
    return stringify(lower, { lineWidth: 0, indent: 4 });
  }
  const rows = [
    ['NAME', 'REQUIRED', 'VALUE', 'SOURCE', 'DEFAULT VALUE'],
    ...variables.map((v) => [v.name, v.required ? 'true' : 'false', v.value ?? '', v.source, v.defaultValue ?? '']),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 2))).join('').trimEnd() + '\n').join('');
}
