// A small subset of Go's text/template, enough for docker's --format: field chains ({{.State.Status}}),
// functions (json, join, index, upper, lower, title, split, len, println, printf, truncate, pad),
// pipelines (|), {{if}}/{{else}}/{{range}}/{{with}}/{{end}}, and trimming markers ({{- -}}).

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with'; pipe: Pipeline; then: Node[]; else: Node[] }
  | { kind: 'range'; pipe: Pipeline; body: Node[]; else: Node[] };

type Arg = { kind: 'field'; path: string[]; base: 'dot' | 'root' } | { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'bool'; value: boolean } | { kind: 'ident'; name: string } | { kind: 'pipe'; pipe: Pipeline };
type Command = Arg[];
type Pipeline = Command[];

export class TemplateError extends Error {}

function tokenize(src: string): (string | { action: string })[] {
  const out: (string | { action: string })[] = [];
  let pos = 0;
  while (pos < src.length) {
    const open = src.indexOf('{{', pos);
    if (open < 0) { out.push(src.slice(pos)); break; }
    let text = src.slice(pos, open);
    let inner = open + 2;
    if (src[inner] === '-' && /\s/.test(src[inner + 1] ?? '')) { text = text.replace(/\s+$/, ''); inner += 2; }
    // Find the closing braces outside string literals.
    let i = inner;
    let quote = '';
    for (; i < src.length; i++) {
      const ch = src[i];
      if (quote) {
        if (ch === '\\' && quote === '"') i++;
        else if (ch === quote) quote = '';
      } else if (ch === '"' || ch === '`') quote = ch;
      else if (src.startsWith('}}', i)) break;
    }
    if (i >= src.length) throw new TemplateError(`template: unclosed action`);
    let body = src.slice(inner, i);
    pos = i + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -2);
      const m = /^\s*/.exec(src.slice(pos));
      pos += m ? m[0].length : 0;
    }
    if (text) out.push(text);
    out.push({ action: body.trim() });
  }
  return out;
}

function lexArgs(s: string): string[] {
  const toks: string[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (/\s/.test(ch)) { i++; continue; }
    if (ch === '|' || ch === '(' || ch === ')') { toks.push(ch); i++; continue; }
    if (ch === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      toks.push(s.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (ch === '`') {
      const j = s.indexOf('`', i + 1);
      toks.push(s.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < s.length && !/[\s|()]/.test(s[j])) j++;
    toks.push(s.slice(i, j));
    i = j;
  }
  return toks;
}

function parsePipeline(toks: string[], pos: { i: number }, closer?: string): Pipeline {
  const pipe: Pipeline = [];
  let cmd: Command = [];
  while (pos.i < toks.length) {
    const t = toks[pos.i];
    if (t === closer) { pos.i++; break; }
    pos.i++;
    if (t === '|') { pipe.push(cmd); cmd = []; continue; }
    if (t === '(') { cmd.push({ kind: 'pipe', pipe: parsePipeline(toks, pos, ')') }); continue; }
    cmd.push(parseArg(t));
  }
  if (cmd.length) pipe.push(cmd);
  return pipe;
}

function parseArg(t: string): Arg {
  if (t.startsWith('"')) return { kind: 'string', value: JSON.parse(t) as string };
  if (t.startsWith('`')) return { kind: 'string', value: t.slice(1, -1) };
  if (t === '.') return { kind: 'field', path: [], base: 'dot' };
  if (t.startsWith('.')) return { kind: 'field', path: t.slice(1).split('.'), base: 'dot' };
  if (t === '$') return { kind: 'field', path: [], base: 'root' };
  if (t.startsWith('$.')) return { kind: 'field', path: t.slice(2).split('.'), base: 'root' };
  if (/^-?\d+(\.\d+)?$/.test(t)) return { kind: 'number', value: Number(t) };
  if (t === 'true' || t === 'false') return { kind: 'bool', value: t === 'true' };
  return { kind: 'ident', name: t };
}

function parse(src: string): Node[] {
  const items = tokenize(src);
  let idx = 0;
  const parseList = (): { nodes: Node[]; end: 'end' | 'else' | 'eof'; elseAction?: string } => {
    const nodes: Node[] = [];
    while (idx < items.length) {
      const it = items[idx++];
      if (typeof it === 'string') { nodes.push({ kind: 'text', text: it }); continue; }
      const a = it.action;
      if (a.startsWith('/*')) continue;
      const word = a.split(/\s+/)[0];
      if (word === 'end') return { nodes, end: 'end' };
      if (word === 'else') return { nodes, end: 'else', elseAction: a.slice(4).trim() };
      if (word === 'if' || word === 'with' || word === 'range') {
        nodes.push(parseControl(word, a.slice(word.length)));
        continue;
      }
      nodes.push({ kind: 'action', pipe: parsePipeline(lexArgs(a), { i: 0 }) });
    }
    return { nodes, end: 'eof' };
  };
  // Parses the body of if/with/range after its opening action; {{else if x}} nests an if sharing the {{end}}.
  const parseControl = (word: 'if' | 'with' | 'range', rest: string): Node => {
    const pipe = parsePipeline(lexArgs(rest), { i: 0 });
    const body = parseList();
    let elseNodes: Node[] = [];
    if (body.end === 'else') {
      if (body.elseAction && /^if\s/.test(body.elseAction)) elseNodes = [parseControl('if', body.elseAction.slice(2))];
      else {
        const rest2 = parseList();
        if (rest2.end !== 'end') throw new TemplateError('template: unexpected EOF');
        elseNodes = rest2.nodes;
      }
    } else if (body.end !== 'end') throw new TemplateError('template: unexpected EOF');
    if (word === 'range') return { kind: 'range', pipe, body: body.nodes, else: elseNodes };
    return { kind: word, pipe, then: body.nodes, else: elseNodes };
  };
  const result = parseList();
  if (result.end !== 'eof') throw new TemplateError(`template: unexpected {{${result.end}}}`);
  return result.nodes;
}

/** Go's truthiness: zero values, empty collections and nil are false. */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/** How Go's fmt prints a value with %v (maps sorted, slices space-separated). */
export function goString(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'function') return goString((v as () => unknown)());
  if (Array.isArray(v)) return `[${v.map(inner).join(' ')}]`;
  if (typeof v === 'object') {
    const obj = v as Record<string, unknown>;
    if (typeof obj.toString === 'function' && obj.toString !== Object.prototype.toString) return String(obj);
    const keys = Object.keys(obj).sort();
    return `map[${keys.map((k) => `${k}:${inner(obj[k])}`).join(' ')}]`;
  }
  return String(v);
}

function inner(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  return goString(v);
}

function title(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_m, p: string, c: string) => p + c.toUpperCase());
}

const FUNCS: Record<string, (...args: unknown[]) => unknown> = {
  json: (v) => JSON.stringify(v === undefined ? null : v),
  join: (list, sep) => (Array.isArray(list) ? list.map(goString).join(String(sep)) : goString(list)),
  split: (s, sep) => String(s).split(String(sep)),
  upper: (s) => goString(s).toUpperCase(),
  lower: (s) => goString(s).toLowerCase(),
  title: (s) => title(goString(s)),
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  index: (v, ...keys) => keys.reduce<unknown>((acc, k) => (acc == null ? undefined : (acc as Record<string, unknown>)[String(k)]), v),
  println: (...args) => `${args.map(goString).join(' ')}\n`,
  print: (...args) => args.map(goString).join(''),
  printf: (fmt, ...args) => {
    let i = 0;
    return String(fmt).replace(/%([-+ #0]*\d*(?:\.\d+)?)([svdqf%])/g, (_m, _flags: string, verb: string) => {
      if (verb === '%') return '%';
      const a = args[i++];
      return verb === 'q' ? JSON.stringify(goString(a)) : goString(a);
    });
  },
  truncate: (s, n) => [...goString(s)].slice(0, Number(n)).join(''),
  pad: (s, before, after) => `${' '.repeat(Number(before))}${goString(s)}${' '.repeat(Number(after))}`,
  not: (v) => !truthy(v),
  and: (...vs) => vs.find((v) => !truthy(v)) ?? vs[vs.length - 1],
  or: (...vs) => vs.find((v) => truthy(v)) ?? vs[vs.length - 1],
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
};

function fieldOf(value: unknown, name: string): unknown {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') throw new TemplateError(`template: can't evaluate field ${name} in type ${typeof value}`);
  const v = (value as Record<string, unknown>)[name];
  return typeof v === 'function' ? (v as () => unknown).call(value) : v;
}

class Exec {
  constructor(private readonly root: unknown) {}

  arg(a: Arg, dot: unknown, piped: unknown[]): unknown {
    switch (a.kind) {
      case 'string': case 'number': case 'bool': return a.value;
      case 'field': return a.path.reduce((acc, name) => fieldOf(acc, name), a.base === 'root' ? this.root : dot);
      case 'pipe': return this.pipe(a.pipe, dot);
      case 'ident': {
        const fn = FUNCS[a.name];
        if (!fn) throw new TemplateError(`template: function "${a.name}" not defined`);
        return fn(...piped);
      }
    }
  }

  command(cmd: Command, dot: unknown, prev: unknown[]): unknown {
    const [head, ...rest] = cmd;
    if (head.kind === 'ident') {
      const fn = FUNCS[head.name];
      if (!fn) throw new TemplateError(`template: function "${head.name}" not defined`);
      return fn(...rest.map((r) => this.arg(r, dot, [])), ...prev);
    }
    // A field that is a method taking arguments, like .Label "key".
    if (head.kind === 'field' && rest.length) {
      const parent = head.path.slice(0, -1).reduce((acc, n) => fieldOf(acc, n), head.base === 'root' ? this.root : dot);
      const m = (parent as Record<string, unknown> | undefined)?.[head.path[head.path.length - 1]];
      if (typeof m === 'function') return (m as (...a: unknown[]) => unknown).call(parent, ...rest.map((r) => this.arg(r, dot, [])), ...prev);
    }
    return this.arg(head, dot, prev);
  }

  pipe(p: Pipeline, dot: unknown): unknown {
    let value: unknown[] = [];
    for (const cmd of p) value = [this.command(cmd, dot, value)];
    return value[0];
  }

  run(nodes: Node[], dot: unknown, out: string[]): void {
    for (const n of nodes) {
      switch (n.kind) {
        case 'text': out.push(n.text); break;
        case 'action': {
          const v = this.pipe(n.pipe, dot);
          out.push(v === undefined ? '<no value>' : goString(v));
          break;
        }
        case 'if': case 'with': {
          const v = this.pipe(n.pipe, dot);
          if (truthy(v)) this.run(n.then, n.kind === 'with' ? v : dot, out);
          else this.run(n.else, dot, out);
          break;
        }
        case 'range': {
          const v = this.pipe(n.pipe, dot);
          const items = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.keys(v).sort().map((k) => (v as Record<string, unknown>)[k]) : [];
          if (items.length === 0) this.run(n.else, dot, out);
          for (const item of items) this.run(n.body, item, out);
          break;
        }
      }
    }
  }
}

/** A parsed template, ready to execute against many values. */
export class Template {
  private readonly nodes: Node[];

  constructor(readonly source: string) {
    this.nodes = parse(source);
  }

  execute(data: unknown): string {
    const out: string[] = [];
    new Exec(data).run(this.nodes, data, out);
    return out.join('');
  }
}

/** Docker's escapes in --format: the two-character "\t" and "\n" become tab and newline. */
export function unescapeFormat(format: string): string {
  return format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}
