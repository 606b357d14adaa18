// The Dockerfile's first stage: text → nodes, one per instruction, with Docker's line grammar (moby/buildkit's
// frontend/dockerfile parser package): parser directives, comments, continuations, heredocs, exec/shell forms and
// flags. dockerfile.ts turns the nodes into typed instructions.

import { InvalidParameterError } from '../errdefs';
import { ShellLex } from './expand';
import type { Heredoc, InstructionKind } from './instructions';

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

export type Escape = '\\' | '`';

export const INSTRUCTIONS: readonly InstructionKind[] = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL', 'MAINTAINER',
  'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
];

// ---------------------------------------------------------------------------------------------------------
// Stage 1: lines → nodes (moby's parser package)

/** One instruction as the line parser sees it, before the per-instruction rules. */
export interface Node {
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

export class LineError extends Error {}

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
export function splitLines(text: string): string[] {
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
export function mustParseHeredocWord(word: string): HeredocWord | undefined {
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

export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}

interface ParsedNodes {
  nodes: Node[];
  escape: Escape;
  syntax?: string;
  warnings: string[];
}

export function parseNodes(text: string, withDirectives: boolean, escapeDefault: Escape, firstLine: number): ParsedNodes {
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

/** Go's %q for the strings Docker quotes in messages. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
