// Compose's variable substitution: $V, ${V}, ${V:-d}, ${V-d}, ${V:?e}, ${V?e}, ${V:+a}, ${V+a}, nesting, `$$`;
// applied to every string value of a document (never keys), recording where each variable's value came from.
import type { VariableSource, VariableUse } from './index';
import { ComposeFileError } from './errors';
import { mapStrings, lineOf, type LineMap } from './yaml';

/** A variable's value and its origin; undefined when unset. */
export type Lookup = (name: string) => { value: string; source: VariableSource } | undefined;

/** A template is wrong or a required variable is missing; the caller adds file and path. */
export class TemplateError extends Error {}

/** Collects each variable a file used, once per name, for `config --variables`. */
export class VariableLog {
  private byName = new Map<string, VariableUse>();
  record(use: VariableUse): void {
    const seen = this.byName.get(use.name);
    if (!seen) this.byName.set(use.name, use);
    else {
      seen.required ||= use.required;
      if (seen.defaultValue === undefined && use.defaultValue !== undefined) seen.defaultValue = use.defaultValue;
    }
  }
  list(): VariableUse[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

/** Substitutes every variable of one string. */
export function substitute(template: string, lookup: Lookup, log?: VariableLog): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, dollar);
    const next = template[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(template, dollar + 2);
      if (end < 0) throw new TemplateError(`invalid interpolation format: "${template}"`);
      out += braced(template.slice(dollar + 2, end), template, lookup, log);
      i = end + 1;
      continue;
    }
    const m = NAME.exec(template.slice(dollar + 1));
    if (!m) throw new TemplateError(`invalid interpolation format: "${template}"; you may need to escape any $ with another $`);
    out += plainUse(m[0], lookup, log);
    i = dollar + 1 + m[0].length;
  }
  return out;
}

/** The index of the `}` closing a `${` whose body starts at `from`, counting nested `${…}`. */
function closingBrace(s: string, from: number): number {
  let depth = 0;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') i++;
    else if (s[i] === '$' && s[i + 1] === '{') {
      depth++;
      i++;
    } else if (s[i] === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

function plainUse(name: string, lookup: Lookup, log?: VariableLog): string {
  const found = lookup(name);
  log?.record({ name, value: found?.value, source: found?.source ?? 'unset', required: false });
  return found?.value ?? '';
}

const OPERATORS = [':-', ':?', ':+', '-', '?', '+'] as const;

function braced(body: string, template: string, lookup: Lookup, log?: VariableLog): string {
  const m = NAME.exec(body);
  if (!m) throw new TemplateError(`invalid interpolation format: "${template}"`);
  const name = m[0];
  const rest = body.slice(name.length);
  if (rest === '') return plainUse(name, lookup, log);
  const op = OPERATORS.find((o) => rest.startsWith(o));
  if (!op) throw new TemplateError(`invalid interpolation format: "${template}"`);
  const arg = rest.slice(op.length);
  const found = lookup(name);
  const set = found !== undefined;
  const nonEmpty = set && found.value !== '';
  const use = (value: string | undefined, source: VariableSource, extra: Partial<VariableUse> = {}) => {
    log?.record({ name, value, source, required: false, ...extra });
    return value ?? '';
  };
  switch (op) {
    case ':-':
    case '-': {
      const useDefault = op === ':-' ? !nonEmpty : !set;
      // The default is itself a template (`${A:-${B}}`); it is only substituted when it is used.
      const def = useDefault ? substitute(arg, lookup, log) : arg;
      return useDefault ? use(def, 'default', { defaultValue: def }) : use(found!.value, found!.source, { defaultValue: arg });
    }
    case ':?':
    case '?': {
      const missing = op === ':?' ? !nonEmpty : !set;
      if (missing) {
        log?.record({ name, value: undefined, source: 'unset', required: true });
        const message = substitute(arg, lookup, log);
        throw new TemplateError(`required variable ${name} is missing a value${message ? `: ${message}` : ''}`);
      }
      return use(found!.value, found!.source, { required: true });
    }
    default: {
      const useAlt = op === ':+' ? nonEmpty : set;
      const alt = useAlt ? substitute(arg, lookup, log) : '';
      use(found?.value, found?.source ?? 'unset', { defaultValue: arg });
      return alt;
    }
  }
}

/** Substitutes every string value of a document in place of a copy; keys are left as written. */
export function interpolateDocument(
  doc: Record<string, unknown>,
  lookup: Lookup,
  log: VariableLog,
  file: string,
  lines?: LineMap,
): Record<string, unknown> {
  return mapStrings(doc, '', (v, path) => {
    if (!v.includes('$')) return v;
    try {
      return substitute(v, lookup, log);
    } catch (e) {
      if (e instanceof TemplateError) throw new ComposeFileError(file, e.message, path, lineOf(lines, path));
      throw e;
    }
  }) as Record<string, unknown>;
}
