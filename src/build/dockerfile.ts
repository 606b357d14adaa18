// The Dockerfile front end: text → typed instructions grouped in stages, with Docker's grammar (moby/buildkit's
// frontend/dockerfile parser and instructions packages): parser directives, comments, continuations, heredocs,
// exec/shell forms, flags, and the same errors. Words stay raw; expand.ts substitutes them at execution time.

import { InvalidParameterError } from '../errdefs';
import { ShellLex } from './expand';
import { parseGoDuration } from '../wire/durations';
import type { CommandForm, Dockerfile, Heredoc, Instruction, InstructionKind, Stage } from './instructions';

/** A Dockerfile Docker would refuse. `line` is 1-based (0 when the error is not about one line). */
export class DockerfileError extends InvalidParameterError {
  constructor(
    /** Docker's own words for the problem, without the line prefix. */
    readonly detail: string,
    readonly line = 0,
    readonly endLine = line,
  ) {
    super(line > 0 ? `dockerfile parse error on line ${line}: ${detail}` : detail);
  }
}

type Escape = '\\' | '`';

const INSTRUCTIONS: readonly InstructionKind[] = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL', 'MAINTAINER',
  'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
];

// ---------------------------------------------------------------------------------------------------------
// Stage 1: lines → nodes (moby's parser package)

/** One instruction as the line parser sees it, before the per-instruction rules. */
interface Node {
  cmd: string;
  /** `--flag[=value]` words before the arguments, quotes and escapes processed. */
  flags: string[];
  args: string[];
  /** Arguments were a JSON array. */
  json: boolean;
  /** ONBUILD's trigger, parsed as its own node. */
  sub?: Node;
  /** Continuations joined, comment lines dropped, leading white space of the first line stripped. */
  original: string;
  heredocs: Heredoc[];
  line: number;
  endLine: number;
}

class LineError extends Error {}

const WHITESPACE = /[\t\v\f\r ]+/;
const HEREDOC_WORD = /^(\d*)<<(-?)\s*([^<]*)$/;

function isSpaceChar(ch: string): boolean {
  return /^\s$/u.test(ch);
}

function trimLeft(s: string): string {
  return s.replace(/^\s+/u, '');
}

function trimNewline(s: string): string {
  return s.replace(/[\r\n]+$/, '');
}

function isComment(line: string): boolean {
  return trimLeft(line).startsWith('#');
}

/** Lines with their endings, as bufio's ScanLines variant in moby keeps them. */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const i = text.indexOf('\n', start);
    if (i < 0) {
      if (start < text.length) lines.push(text.slice(start));
      return lines;
    }
    lines.push(text.slice(start, i + 1));
    start = i + 1;
  }
}

/** Parser directives (`# escape=`, `# syntax=`, `# check=`): only at the very top, before anything else. */
class DirectiveParser {
  private done = false;
  private readonly seen = new Set<string>();
  escape: Escape = '\\';
  syntax?: string;

  /** Looks at one line (newline trimmed, leading white space stripped); throws on a repeated or bad directive. */
  parseLine(line: string): void {
    if (this.done) return;
    if (!line.startsWith('#')) {
      this.done = true;
      return;
    }
    const m = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/u.exec(trimLeft(line.slice(1)));
    if (!m) {
      this.done = true;
      return;
    }
    const key = m[1].toLowerCase();
    if (key !== 'syntax' && key !== 'escape' && key !== 'check') {
      this.done = true;
      return;
    }
    if (this.seen.has(key)) throw new LineError(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '`' && m[2] !== '\\') throw new LineError(`invalid escape token '${m[2]}' does not match \` or \\`);
      this.escape = m[2];
    } else if (key === 'syntax') {
      this.syntax = m[2];
    }
  }

  stop(): void {
    this.done = true;
  }
}

/** The escape character at the end of a line continues it, unless it is itself escaped. */
function continuationRegExp(escape: Escape): RegExp {
  const e = '\\' + escape;
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

function trimContinuation(line: string, re: RegExp): [string, boolean] {
  if (re.test(line)) return [line.replace(re, '$1'), false];
  return [line, true];
}

/** Split the instruction name, its `--flags` and the rest. */
function splitCommand(line: string, escape: Escape): { cmd: string; flags: string[]; rest: string } {
  const trimmed = line.trim();
  const m = WHITESPACE.exec(trimmed);
  if (!m) return { cmd: trimmed, flags: [], rest: '' };
  const cmd = trimmed.slice(0, m.index);
  const { rest, flags } = extractFlags(trimmed.slice(m.index + m[0].length), escape);
  return { cmd, flags, rest: rest.trim() };
}

/** Leading words that start with `--`; quotes and escapes inside them are processed. A bare `--` ends them. */
function extractFlags(line: string, escape: Escape): { rest: string; flags: string[] } {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = pos < line.length ? line[pos] : '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (isSpaceChar(ch)) continue;
      if (ch !== '-' || pos + 1 === line.length || line[pos + 1] !== '-') return { rest: line.slice(pos), flags: words };
      phase = 'word';
    }
    if (pos === line.length) {
      if (word !== '--' && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpaceChar(ch)) {
        phase = 'spaces';
        if (word === '--') return { rest: line.slice(pos), flags: words };
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      let c = ch;
      if (c === escape) {
        if (pos + 1 === line.length) continue;
        pos++;
        c = line[pos];
      }
      word += c;
      continue;
    }
    // in a quote
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    let c = ch;
    if (c === escape) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      pos++;
      c = line[pos];
    }
    word += c;
  }
  return { rest: '', flags: words };
}

/** Words separated by white space; quotes and escapes are kept (they are processed at substitution time). */
function parseWords(rest: string, escape: Escape): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let word = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = pos < chars.length ? chars[pos] : '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (isSpaceChar(ch)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpaceChar(ch)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue;
        word += ch;
        pos++;
        ch = chars[pos];
      }
      word += ch;
      continue;
    }
    // in a quote
    if (ch === quote) phase = 'word';
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      word += ch;
      ch = chars[pos];
    }
    word += ch;
  }
  return words;
}

const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

/** A JSON array of strings, `undefined` when the text is not JSON (shell form), an error when not all strings. */
function parseJSON(rest: string): string[] | undefined {
  const t = trimLeft(rest);
  if (!t.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v) => typeof v === 'string')) throw new LineError(NOT_STRING_ARRAY);
  return value as string[];
}

function argsFor(cmd: string, rest: string, escape: Escape, line: number): Pick<Node, 'args' | 'json' | 'sub'> {
  switch (cmd) {
    case 'run':
    case 'cmd':
    case 'entrypoint':
    case 'shell': {
      if (rest === '') return { args: [], json: false };
      const json = parseJSON(rest);
      return json ? { args: json, json: true } : { args: [rest], json: false };
    }
    case 'add':
    case 'copy':
    case 'volume': {
      const json = parseJSON(rest);
      if (json) return { args: json, json: true };
      return { args: rest === '' ? [] : rest.split(WHITESPACE), json: false };
    }
    case 'expose':
    case 'from':
      return { args: rest === '' ? [] : rest.split(WHITESPACE), json: false };
    case 'env':
    case 'label':
      return { args: parseNameVal(rest, cmd.toUpperCase(), escape), json: false };
    case 'arg':
      return { args: parseWords(rest, escape), json: false };
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      return { args: rest === '' ? [] : [rest], json: false };
    case 'healthcheck': {
      const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      if (!m) return { args: [], json: false };
      const inner = argsFor('cmd', m[2], escape, line);
      return { args: [m[1], ...inner.args], json: inner.json };
    }
    case 'onbuild': {
      if (rest === '') return { args: [], json: false };
      const sub = nodeFromLine(rest, escape, line, line);
      return { args: [sub.cmd, ...sub.args], json: false, sub };
    }
    default:
      return { args: [], json: false }; // unknown instructions are reported by the second stage
  }
}

/** ENV and LABEL: `KEY value...` (legacy, one pair) or `KEY=value ...`; args come in triples key, value, "="|"". */
function parseNameVal(rest: string, key: string, escape: Escape): string[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0].includes('=')) {
    const m = WHITESPACE.exec(rest);
    if (!m) throw new LineError(`${key} must have two arguments`);
    return [rest.slice(0, m.index), rest.slice(m.index + m[0].length), ''];
  }
  const out: string[] = [];
  for (const w of words) {
    const i = w.indexOf('=');
    if (i < 0) throw new LineError(`Syntax error - can't find = in ${goQuote(w)}. Must be of the form: name=value`);
    out.push(w.slice(0, i), w.slice(i + 1), '=');
  }
  return out;
}

function nodeFromLine(line: string, escape: Escape, start: number, end: number): Node {
  const { cmd, flags, rest } = splitCommand(line, escape);
  const parsed = argsFor(cmd.toLowerCase(), rest, escape, start);
  return { cmd, flags, ...parsed, original: line, heredocs: [], line: start, endLine: end };
}

function canContainHeredoc(node: Node): boolean {
  let n = node;
  if (n.cmd.toLowerCase() === 'onbuild' && n.sub) n = n.sub;
  const c = n.cmd.toLowerCase();
  return (c === 'run' || c === 'copy' || c === 'add') && !n.json;
}

type HeredocWord = Omit<Heredoc, 'content'> & { fd: number };

/** A heredoc word (`<<EOF`, `<<-"EOF"`, `3<<EOF`); undefined when the word is not one; DockerfileError when its
 *  quotes are unbalanced. */
export function parseHeredocWord(word: string): HeredocWord | undefined {
  try {
    return heredocWord(word);
  } catch (err) {
    if (err instanceof LineError) throw new DockerfileError(err.message);
    throw err;
  }
}

function heredocWord(word: string): HeredocWord | undefined {
  const m = HEREDOC_WORD.exec(word);
  if (!m || m[3].length === 0) return undefined;
  const rest = m[3];
  // Lex the delimiter with and without quotes: if they differ, part of it was quoted and the body is not expanded.
  let words: string[];
  let raw: string[];
  try {
    words = new ShellLex({ skipUnsetEnv: true }).processWords(rest, []);
    if (words.length !== 1) return undefined;
    raw = new ShellLex({ skipUnsetEnv: true, rawQuotes: true }).processWords(rest, []);
  } catch (err) {
    throw new LineError(err instanceof Error ? err.message : String(err));
  }
  if (raw.length !== words.length) throw new LineError(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return { name: words[0], chomp: m[2] === '-', expand: quotes(words[0]) === quotes(raw[0]), fd: m[1] ? Number(m[1]) : 0 };
}

/** parseHeredocWord, with a malformed delimiter taken as no heredoc (moby's MustParseHeredoc). */
function mustParseHeredocWord(word: string): HeredocWord | undefined {
  try {
    return heredocWord(word);
  } catch {
    return undefined;
  }
}

function heredocsFromLine(line: string): HeredocWord[] {
  let words: string[];
  try {
    words = new ShellLex({ rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).processWords(line, []);
  } catch {
    words = [];
  }
  const docs = [];
  for (const w of words) {
    const h = heredocWord(w);
    if (h) docs.push(h);
  }
  return docs;
}

function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}

interface ParsedNodes {
  nodes: Node[];
  escape: Escape;
  syntax?: string;
  warnings: string[];
}

function parseNodes(text: string, withDirectives: boolean, escapeDefault: Escape, firstLine: number): ParsedNodes {
  const directives = new DirectiveParser();
  directives.escape = escapeDefault;
  if (!withDirectives) directives.stop();
  let contRe = continuationRegExp(directives.escape);
  const lines = splitLines(text);
  const nodes: Node[] = [];
  const warnings: string[] = [];
  let current = firstLine - 1;
  let i = 0;
  const located = (err: unknown, start: number, end = start): never => {
    if (err instanceof LineError) throw new DockerfileError(err.message, start, end);
    throw err;
  };
  /** Newline trimmed, optionally left-trimmed, fed to the directive parser; comments become "". */
  const processLine = (raw: string, stripLeft: boolean): string => {
    let token = trimNewline(raw);
    if (stripLeft) token = trimLeft(token);
    const escBefore = directives.escape;
    try {
      directives.parseLine(token);
    } catch (err) {
      located(err, current + 1);
    }
    if (directives.escape !== escBefore) contRe = continuationRegExp(directives.escape);
    return isComment(token) ? '' : token;
  };

  while (i < lines.length) {
    let raw = lines[i++];
    if (current === firstLine - 1) raw = raw.replace(/^\uFEFF/, '');
    let content = processLine(raw, true);
    current++;
    const start = current;
    let endOfLine: boolean;
    [content, endOfLine] = trimContinuation(content, contRe);
    if (endOfLine && content.length === 0) continue;
    let buf = content;
    let emptyContinuation = false;
    while (!endOfLine && i < lines.length) {
      const next = lines[i++];
      const piece = processLine(next, false);
      current++;
      if (isComment(next)) continue;
      if (trimLeft(trimNewline(piece)).length === 0) {
        emptyContinuation = true;
        continue;
      }
      let part: string;
      [part, endOfLine] = trimContinuation(piece, contRe);
      buf += part;
    }
    if (emptyContinuation) warnings.push(`Empty continuation line found in: ${buf}`);

    let node: Node;
    try {
      node = nodeFromLine(buf, directives.escape, start, current);
    } catch (err) {
      return located(err, start, current);
    }
    if (canContainHeredoc(node) && buf.includes('<<')) {
      let docs;
      try {
        docs = heredocsFromLine(buf);
      } catch (err) {
        return located(err, start, current);
      }
      for (const doc of docs) {
        let body = '';
        let terminated = false;
        while (i < lines.length) {
          const l = lines[i++];
          current++;
          let candidate = trimNewline(l);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          body += l;
        }
        if (!terminated) throw new DockerfileError('unterminated heredoc', start, current);
        node.heredocs.push({ name: doc.name, content: body, chomp: doc.chomp, expand: doc.expand });
      }
      node.endLine = current;
    }
    nodes.push(node);
  }
  return { nodes, escape: directives.escape, syntax: directives.syntax, warnings };
}

// ---------------------------------------------------------------------------------------------------------
// Stage 2: nodes → typed instructions (moby's instructions package)

type FlagType = 'bool' | 'string' | 'strings';

/** The flags each instruction accepts (BuildKit's BFlags declarations). */
const FLAGS: Partial<Record<InstructionKind, Record<string, FlagType>>> = {
  ADD: { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', unpack: 'bool', exclude: 'strings' },
  COPY: { chown: 'string', from: 'string', chmod: 'string', link: 'bool', exclude: 'strings', parents: 'bool' },
  FROM: { platform: 'string' },
  RUN: { mount: 'strings', network: 'string', security: 'string', device: 'strings' },
  HEALTHCHECK: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
};

/** Go's %q for the strings Docker quotes in messages. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

function levenshtein(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

/** Docker's " (did you mean X?)" suggestion: the closest option within an edit distance of 2. */
function suggest(value: string, options: readonly string[], caseSensitive: boolean): string | undefined {
  const v = caseSensitive ? value : value.toLowerCase();
  let match: string | undefined;
  let min = 3;
  for (const o of options) {
    const opt = caseSensitive ? o : o.toLowerCase();
    if (opt === v) return undefined;
    const dist = levenshtein(v, opt);
    if (dist < min) {
      min = dist;
      match = caseSensitive ? opt : value === value.toLowerCase() ? opt.toLowerCase() : value === value.toUpperCase() ? opt.toUpperCase() : opt;
    }
  }
  return match;
}

/** Check the flags as BFlags.Parse does; returns name → value ("" for a bool flag given without a value). */
function parseFlags(kind: InstructionKind, words: string[]): Record<string, string> {
  const known = FLAGS[kind] ?? {};
  const out: Record<string, string> = {};
  const used = new Set<string>();
  for (const a of words) {
    if (a === '--') break;
    if (!a.startsWith('--')) throw new LineError(`arg should start with -- : ${a}`);
    const eq = a.indexOf('=');
    const flagName = eq < 0 ? a : a.slice(0, eq);
    const hasValue = eq >= 0;
    const value = hasValue ? a.slice(eq + 1) : '';
    const name = flagName.slice(2);
    const type = Object.prototype.hasOwnProperty.call(known, name) ? known[name] : undefined;
    if (!type) {
      const s = suggest(name, Object.keys(known), true);
      throw new LineError(`unknown flag: ${flagName}${s ? ` (did you mean ${s}?)` : ''}`);
    }
    if (used.has(name) && type !== 'strings') throw new LineError(`duplicate flag specified: ${flagName}`);
    used.add(name);
    if (type === 'bool') {
      if (hasValue && value === '') throw new LineError(`missing a value on flag: ${flagName}`);
      const v = value.toLowerCase();
      if (v !== '' && v !== 'true' && v !== 'false') throw new LineError(`expecting boolean value for flag ${flagName}, not: ${value}`);
      out[name] = value;
    } else {
      if (!hasValue) throw new LineError(`missing a value on flag: ${flagName}`);
      // A repeated strings flag (--exclude, --mount) keeps its values joined by newlines, in order.
      out[name] = type === 'strings' && name in out ? `${out[name]}\n${value}` : value;
    }
  }
  return out;
}

function optInterval(flags: Record<string, string>, name: string): number | undefined {
  const v = flags[name];
  if (v === undefined || v === '') return undefined;
  let d: number;
  try {
    d = parseGoDuration(v);
  } catch (err) {
    throw new LineError((err as Error).message);
  }
  if (d === 0) return 0;
  if (d < 1e6) throw new LineError(`Interval ${goQuote(name)} cannot be less than 1ms`);
  return d;
}

function commandForm(node: { args: string[]; json: boolean }): CommandForm {
  return node.json ? { form: 'exec', args: node.args } : { form: 'shell', command: node.args.join(' ') };
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function toInstruction(node: Node): Instruction {
  const upper = node.cmd.toUpperCase();
  if (!(INSTRUCTIONS as readonly string[]).includes(upper)) {
    const s = suggest(node.cmd, INSTRUCTIONS, false);
    throw new LineError(`unknown instruction: ${node.cmd}${s ? ` (did you mean ${s}?)` : ''}`);
  }
  const kind = upper as InstructionKind;
  const args = node.args;
  const base = { line: node.line, endLine: node.endLine, original: node.original.trim() };
  const flags = () => parseFlags(kind, node.flags);
  const atLeastOne = () => {
    if (args.length === 0) throw new LineError(`${kind} requires at least one argument`);
  };
  const exactlyOne = () => {
    if (args.length !== 1) throw new LineError(`${kind} requires exactly one argument`);
  };
  const pairs = (): [string, string][] => {
    if (args.length === 0) throw new LineError(`${kind} requires at least one argument`);
    if (args.length % 3 !== 0) throw new LineError(`Bad input to ${kind}, too many arguments`);
    const out: [string, string][] = [];
    for (let j = 0; j < args.length; j += 3) {
      if (args[j].length === 0) throw new LineError(`${kind} names can not be blank`);
      out.push([args[j], args[j + 1]]);
    }
    return out;
  };

  switch (kind) {
    case 'ENV':
    case 'LABEL': {
      const f = flags();
      return { ...base, kind, flags: f, pairs: pairs() };
    }
    case 'MAINTAINER': {
      exactlyOne();
      return { ...base, kind, flags: flags(), name: args[0] };
    }
    case 'ADD':
    case 'COPY': {
      if (args.length < 2) {
        throw new LineError(`${kind} requires at least two arguments, but only one was provided. Destination could not be determined`);
      }
      const f = flags();
      const dest = args[args.length - 1];
      if (mustParseHeredocWord(dest)) throw new LineError(`${kind} cannot accept a heredoc as a destination`);
      const byName = new Map(node.heredocs.map((h) => [h.name, h]));
      const sources: string[] = [];
      const heredocs: Heredoc[] = [];
      for (const src of args.slice(0, -1)) {
        const h = mustParseHeredocWord(src);
        if (!h) {
          sources.push(src);
          continue;
        }
        const body = byName.get(h.name)?.content ?? '';
        heredocs.push({ name: h.name, content: h.chomp ? chompHeredoc(body) : body, chomp: h.chomp, expand: h.expand });
      }
      return { ...base, kind, flags: f, sources, dest, heredocs };
    }
    case 'FROM': {
      let stageName: string | undefined;
      if (args.length === 3 && args[1].toLowerCase() === 'as') {
        stageName = args[2].toLowerCase();
        if (!STAGE_NAME.test(stageName)) {
          throw new LineError(`invalid name for build stage: ${goQuote(args[2])}, name can't start with a number or contain symbols`);
        }
      } else if (args.length !== 1) {
        throw new LineError('FROM requires either one or three arguments');
      }
      const f = flags();
      return { ...base, kind, flags: f, image: args[0], ...(stageName ? { stageName } : {}) };
    }
    case 'ONBUILD': {
      atLeastOne();
      const f = flags();
      const trigger = args[0].trim().toUpperCase();
      if (trigger === 'ONBUILD') throw new LineError('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new LineError(`${trigger} isn't allowed as an ONBUILD trigger`);
      let expression = node.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of node.heredocs) expression += `\n${h.content}${h.name}`;
      return { ...base, kind, flags: f, trigger: expression };
    }
    case 'WORKDIR': {
      exactlyOne();
      return { ...base, kind, flags: flags(), path: args[0] };
    }
    case 'RUN': {
      const f = flags();
      const heredocs = node.heredocs.map((h) => (h.chomp ? { ...h, content: chompHeredoc(h.content) } : h));
      return { ...base, kind, flags: f, command: commandForm(node), heredocs };
    }
    case 'CMD':
    case 'ENTRYPOINT':
      return { ...base, kind, flags: flags(), command: commandForm(node) };
    case 'HEALTHCHECK': {
      atLeastOne();
      const type = args[0].toUpperCase();
      const rest = args.slice(1);
      if (type === 'NONE') {
        if (rest.length !== 0) throw new LineError('HEALTHCHECK NONE takes no arguments');
        // Docker does not look at the flags of HEALTHCHECK NONE.
        return { ...base, kind, flags: {}, command: 'NONE' };
      }
      const f = flags();
      if (type !== 'CMD') throw new LineError(`Unknown type ${goQuote(type)} in HEALTHCHECK (try CMD)`);
      if (rest.length === 0) throw new LineError('Missing command after HEALTHCHECK CMD');
      const interval = optInterval(f, 'interval');
      const timeout = optInterval(f, 'timeout');
      const startPeriod = optInterval(f, 'start-period');
      const startInterval = optInterval(f, 'start-interval');
      let retries: number | undefined;
      if (f.retries !== undefined && f.retries !== '') {
        if (!/^[+-]?\d+$/.test(f.retries)) throw new LineError(`strconv.ParseInt: parsing ${goQuote(f.retries)}: invalid syntax`);
        retries = Number(f.retries);
        if (retries < 0) throw new LineError(`--retries cannot be negative (${retries})`);
      }
      return {
        ...base, kind, flags: f, command: commandForm({ args: rest, json: node.json }),
        ...(interval !== undefined ? { interval } : {}),
        ...(timeout !== undefined ? { timeout } : {}),
        ...(startPeriod !== undefined ? { startPeriod } : {}),
        ...(startInterval !== undefined ? { startInterval } : {}),
        ...(retries !== undefined ? { retries } : {}),
      };
    }
    case 'EXPOSE': {
      atLeastOne();
      const f = flags();
      return { ...base, kind, flags: f, ports: [...args].sort() };
    }
    case 'USER': {
      exactlyOne();
      return { ...base, kind, flags: flags(), user: args[0] };
    }
    case 'VOLUME': {
      atLeastOne();
      const f = flags();
      const paths = args.map((v) => v.trim());
      if (paths.some((p) => p === '')) throw new LineError('VOLUME specified can not be an empty string');
      return { ...base, kind, flags: f, paths };
    }
    case 'STOPSIGNAL':
      // Docker does not check STOPSIGNAL's flags; neither do we.
      exactlyOne();
      return { ...base, kind, flags: {}, signal: args[0] };
    case 'ARG': {
      atLeastOne();
      const list = args.map((a) => {
        const i = a.indexOf('=');
        if (i < 0) return { name: a };
        if (i === 0) throw new LineError('ARG names can not be blank');
        return { name: a.slice(0, i), defaultValue: a.slice(i + 1) };
      });
      // Docker does not check ARG's flags either.
      return { ...base, kind, flags: {}, args: list };
    }
    case 'SHELL': {
      const f = flags();
      if (args.length === 0) throw new LineError('SHELL requires at least one argument');
      if (!node.json) throw new LineError(`SHELL requires the arguments to be in JSON form`);
      return { ...base, kind, flags: f, args };
    }
  }
}

function instructionOf(node: Node): Instruction {
  try {
    return toInstruction(node);
  } catch (err) {
    if (err instanceof LineError) throw new DockerfileError(err.message, node.line, node.endLine);
    throw err;
  }
}

export interface ParseOptions {
  /** The Dockerfile's name for messages (`-f`), "Dockerfile" by default. */
  name?: string;
}

/** Parse a whole Dockerfile. Throws DockerfileError with Docker's message and the line. */
export function parseDockerfile(text: string, options: ParseOptions = {}): Dockerfile {
  if (text.length === 0) throw new DockerfileError(`the Dockerfile (${options.name ?? 'Dockerfile'}) cannot be empty`);
  const parsed = parseNodes(text, true, '\\', 1);
  if (parsed.nodes.length === 0) throw new DockerfileError('file with no instructions', Math.max(1, splitLines(text).length));
  const warnings = [...parsed.warnings];
  if (parsed.warnings.length > 0) warnings.push('Empty continuation lines will become errors in a future release.');
  if (parsed.syntax !== undefined) warnings.push('syntax directive ignored by the classic builder');
  const globalArgs: Extract<Instruction, { kind: 'ARG' }>[] = [];
  const stages: Stage[] = [];
  for (const node of parsed.nodes) {
    const ins = instructionOf(node);
    if (ins.kind === 'FROM') {
      stages.push({ index: stages.length, ...(ins.stageName ? { name: ins.stageName } : {}), from: ins, instructions: [] });
      continue;
    }
    if (stages.length === 0) {
      if (ins.kind === 'ARG') {
        globalArgs.push(ins);
        continue;
      }
      throw new DockerfileError('no build stage in current context', node.line, node.endLine);
    }
    stages[stages.length - 1].instructions.push(ins);
  }
  return { escape: parsed.escape, ...(parsed.syntax !== undefined ? { syntax: parsed.syntax } : {}), globalArgs, stages, warnings };
}

/**
 * Parse one instruction, e.g. an ONBUILD trigger from a base image's config (which may span lines when it carries
 * heredocs). Parser directives are not looked for; `line` numbers the first line in error messages.
 */
export function parseInstruction(text: string, escape: Escape = '\\', line = 1): Instruction {
  const parsed = parseNodes(text, false, escape, line);
  if (parsed.nodes.length !== 1) {
    throw new DockerfileError(parsed.nodes.length === 0 ? 'file with no instructions' : 'onbuild trigger should be a single expression', line);
  }
  return instructionOf(parsed.nodes[0]);
}

/**
 * Parse a list of instructions that belong to no stage, as `docker commit/import --change` gives them (moby's
 * BuildFromConfig): `allow` sees each instruction's name, lower-cased, before its own rules are applied.
 */
export function parseInstructions(text: string, allow: (cmd: string) => void): Instruction[] {
  return parseNodes(text, false, '\\', 1).nodes.map((node) => {
    allow(node.cmd.toLowerCase());
    return instructionOf(node);
  });
}

/** Docker's parser dump of a Dockerfile (`(run "echo hi")` per line, as moby's Node.Dump), before the
 *  per-instruction checks: for conformance tests against Docker's parser fixtures. */
export function dumpDockerfile(text: string): string {
  const q = (s: string) => JSON.stringify(s);
  const dump = (n: Node): string => {
    let s = n.cmd.toLowerCase();
    if (n.flags.length > 0) s += ` [${n.flags.map(q).join(' ')}]`;
    if (n.sub) return `${s} (${dump(n.sub)})`;
    for (const a of n.args) s += ` ${q(a)}`;
    return s.trim();
  };
  return parseNodes(text, true, '\\', 1).nodes.map((n) => `(${dump(n)})\n`).join('');
}
