// Reads .env and env_file files as Compose does: KEY=VAL and `export KEY=VAL`, comments, single quotes literal,
// double quotes with escapes and several lines, and ${…} substitution from earlier lines and the shell.
import { readFileSync } from 'node:fs';
import { ComposeFileError } from './errors';
import { substitute, TemplateError, type Lookup } from './interpolate';

const KEY = /^[A-Za-z_][A-Za-z0-9_.\-\[\]]*/;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', $: '$', a: '\x07', b: '\b', f: '\f', v: '\v' };

/**
 * Parses the text of an env file. `outer` resolves names the file does not define (the shell); a bare `KEY`
 * line takes its value from there, and is left out when the shell has none.
 */
export function parseEnvFile(text: string, file: string, outer: Lookup = () => undefined): Record<string, string> {
  const values: Record<string, string> = {};
  const lookup: Lookup = (name) => (name in values ? { value: values[name], source: '.env' } : outer(name));
  let src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  let line = 1;
  const fail = (problem: string): never => {
    throw new ComposeFileError(file, problem, undefined, line);
  };
  while (src.length > 0) {
    const nl = src.indexOf('\n');
    const first = (nl < 0 ? src : src.slice(0, nl)).trim();
    if (first === '' || first.startsWith('#')) {
      src = nl < 0 ? '' : src.slice(nl + 1);
      line++;
      continue;
    }
    let rest = src.replace(/^\s+/, '');
    if (rest.startsWith('export ') || rest.startsWith('export\t')) rest = rest.slice(7).replace(/^[ \t]+/, '');
    const k = KEY.exec(rest);
    if (!k) fail(`unexpected character ${JSON.stringify(rest[0])} in variable name ${JSON.stringify(first)}`);
    const key = k![0];
    rest = rest.slice(key.length).replace(/^[ \t]+/, '');
    if (rest === '' || rest[0] === '\n' || rest[0] === '#') {
      // `KEY` alone: inherited from the shell.
      const inherited = outer(key);
      if (inherited) values[key] = inherited.value;
      const end = rest.indexOf('\n');
      src = end < 0 ? '' : rest.slice(end + 1);
      line++;
      continue;
    }
    if (rest[0] !== '=' && rest[0] !== ':') fail(`unexpected character ${JSON.stringify(rest[0])} in variable name ${JSON.stringify(first)}`);
    rest = rest.slice(1).replace(/^[ \t]+/, '');
    const q = rest[0];
    if (q === "'" || q === '"') {
      const end = closingQuote(rest, q);
      if (end < 0) fail(`unterminated quoted value for ${key}`);
      const raw = rest.slice(1, end);
      if (q === "'") values[key] = raw;
      else {
        const unescaped = raw.replace(/\\(.)/gs, (m, c: string) => (c === '$' ? '$$' : ESCAPES[c] ?? m));
        values[key] = expand(unescaped, lookup, file, line, key);
      }
      line += (rest.slice(0, end + 1).match(/\n/g) ?? []).length;
      const after = rest.slice(end + 1);
      const eol = after.indexOf('\n');
      src = eol < 0 ? '' : after.slice(eol + 1);
      line++;
      continue;
    }
    const eol = rest.indexOf('\n');
    let raw = eol < 0 ? rest : rest.slice(0, eol);
    // An unquoted value ends at ` #`: the rest of the line is a comment.
    const hash = raw.indexOf(' #');
    if (hash >= 0) raw = raw.slice(0, hash);
    values[key] = expand(raw.trim(), lookup, file, line, key);
    src = eol < 0 ? '' : rest.slice(eol + 1);
    line++;
  }
  return values;
}

function closingQuote(s: string, q: string): number {
  for (let i = 1; i < s.length; i++) {
    if (q === '"' && s[i] === '\\') i++;
    else if (s[i] === q) return i;
  }
  return -1;
}

function expand(value: string, lookup: Lookup, file: string, line: number, key: string): string {
  try {
    return substitute(value, lookup);
  } catch (e) {
    if (e instanceof TemplateError) throw new ComposeFileError(file, `${key}: ${e.message}`, undefined, line);
    throw e;
  }
}

/** Reads and parses an env file; a missing file is an error naming it. */
export function readEnvFile(path: string, outer?: Lookup): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ComposeFileError(path, code === 'ENOENT' ? `env file ${path} not found` : `cannot read env file: ${(e as Error).message}`);
  }
  return parseEnvFile(text, path, outer);
}
