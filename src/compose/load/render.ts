// `docker compose config` output: the project model as YAML or JSON (name first, then services, networks,
// volumes, secrets, configs, extensions; keys sorted), and the `--services`, `--volumes`, `--variables` lists.
import { stringify } from 'yaml';
import type { Project } from '../model';
import type { VariableUse } from './index';

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sorted(x);
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
    services[name] = sorted(svc);
  }
  doc.services = services;
  for (const key of ['networks', 'volumes', 'secrets', 'configs'] as const) {
    if (Object.keys(project[key]).length > 0) doc[key] = sorted(project[key]);
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

/** `config --variables`: each variable, whether it is required, its value, where the value came from, its default. */
export function renderVariables(variables: VariableUse[], format: 'table' | 'json' = 'table'): string {
  if (format === 'json') return `${JSON.stringify(variables, null, 2)}\n`;
  const rows = [
    ['NAME', 'REQUIRED', 'VALUE', 'SOURCE', 'DEFAULT VALUE'],
    ...variables.map((v) => [v.name, v.required ? 'true' : 'false', v.value ?? '', v.source, v.defaultValue ?? '']),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 2))).join('').trimEnd() + '\n').join('');
}
