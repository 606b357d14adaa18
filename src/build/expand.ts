// Docker's shell-word processing for Dockerfile instructions: quotes, the escape character and $VAR/${VAR...}
// substitution, as moby/buildkit's shell lexer does it (ProcessWord keeps one word, ProcessWords splits after
// substitution). Nothing is executed: `$(...)` and backquotes stay literal, as in Docker.

import { InvalidParameterError } from '../errdefs';
import type { Instruction } from './instructions';

/** Variables for substitution: `KEY=VALUE` strings (the last one of a key wins, like a container's Env), a Map,
 *  or a plain object. */
export type SubstitutionEnv = readonly string[] | ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export interface LexOptions {
  /** The Dockerfile's escape character (`# escape=`); backslash by default. */
  escape?: '\\' | '`';
  /** Keep quote characters in the result (used to find heredoc words). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Leave references to unset variables as written instead of expanding them to "". */
  skipUnsetEnv?: boolean;
  /** Treat quotes as ordinary characters. */
  skipProcessQuotes?: boolean;
}

/** A substitution Docker refuses (`${}`, `${VAR?msg}` on an unset VAR, an unterminated quote...). */
export class SubstitutionError extends InvalidParameterError {}

export interface WordResult {
  result: string;
  /** Variable names that were looked up and found / not found (Docker reports the latter for lint). */
  matched: Set<string>;
  unmatched: Set<string>;
}

const EOF = -1;

/** Resolve a SubstitutionEnv into a lookup function. */
export function envLookup(env: SubstitutionEnv): (name: string) => string | undefined {
  if (Array.isArray(env)) {
    const m = new Map<string, string>();
    for (const e of env as readonly string[]) {
      const i = e.indexOf('=');
      if (i < 0) m.set(e, '');
      else m.set(e.slice(0, i), e.slice(i + 1));
    }
    return (n) => m.get(n);
  }
  if (env instanceof Map) return (n) => (env as ReadonlyMap<string, string>).get(n);
  const rec = env as Readonly<Record<string, string>>;
  return (n) => (Object.prototype.hasOwnProperty.call(rec, n) ? rec[n] : undefined);
}

/** Accumulates the words of ProcessWords: substituted text is split on white space, quoted text is not. */
class Words {
  private buf = '';
  private inWord = false;
  readonly words: string[] = [];
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }
  addRawChar(ch: string): void {
    this.buf += ch;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  finish(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

function isSpace(ch: string): boolean {
  return /^\s$/u.test(ch);
}
function isDigit(ch: string): boolean {
  return /^\p{Nd}$/u.test(ch);
}
function isLetter(ch: string): boolean {
  return /^\p{L}$/u.test(ch);
}

/** One pass over one word (the equivalent of moby's shellWord). */
class Scan {
  private pos = 0;
  private readonly chars: string[];
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    word: string,
    private readonly lookup: (name: string) => string | undefined,
    private readonly opts: Required<LexOptions>,
  ) {
    this.chars = Array.from(word);
    this.rawEscapes = opts.rawEscapes;
  }

  private peek(): string | typeof EOF {
    return this.pos < this.chars.length ? this.chars[this.pos] : EOF;
  }
  private next(): string | typeof EOF {
    return this.pos < this.chars.length ? this.chars[this.pos++] : EOF;
  }

  run(): { result: string; words: string[] } {
    return this.processStopOn(EOF, this.rawEscapes);
  }

  private processStopOn(stop: string | typeof EOF, rawEscapes: boolean): { result: string; words: string[] } {
    let result = '';
    const words = new Words();
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      while (this.peek() !== EOF) {
        const ch = this.peek() as string;
        if (stop !== EOF && ch === stop) {
          this.next();
          return { result, words: words.finish() };
        }
        let special: (() => string) | undefined;
        if (ch === '$') special = () => this.processDollar();
        else if (ch === '<') special = () => this.processPossibleHeredoc();
        else if (!this.opts.skipProcessQuotes && ch === "'") special = () => this.processSingleQuote();
        else if (!this.opts.skipProcessQuotes && ch === '"') special = () => this.processDoubleQuote();
        if (special) {
          const tmp = special();
          result += tmp;
          if (ch === '$') words.addString(tmp);
          else words.addRawString(tmp);
          continue;
        }
        let c = this.next() as string;
        if (c === this.opts.escape) {
          if (this.rawEscapes) {
            words.addRawChar(c);
            result += c;
          }
          const n = this.next();
          if (n === EOF) break; // an escape at the end of the word is dropped
          c = n;
          words.addRawChar(c);
        } else {
          words.addChar(c);
        }
        result += c;
      }
      if (stop !== EOF) throw new SubstitutionError(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    // Everything up to the next single quote is literal; a single quote cannot be escaped inside.
    let result = '';
    const open = this.next() as string;
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new SubstitutionError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    // Literal except `$` and the escape character, which escapes only `"`, `$` and itself.
    let result = '';
    const open = this.next() as string;
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new SubstitutionError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        this.next();
        if (this.opts.rawQuotes) result += p;
        return result;
      }
      if (p === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next() as string;
      if (ch === this.opts.escape) {
        if (this.rawEscapes) result += ch;
        const q = this.peek();
        if (q === EOF) continue;
        if (q === '"' || q === '$' || q === this.opts.escape) ch = this.next() as string;
      }
      result += ch;
    }
  }

  private getEnv(name: string): string | undefined {
    const v = this.lookup(name);
    if (v !== undefined) this.matched.add(name);
    else this.unmatched.add(name);
    return v;
  }

  private processDollar(): string {
    this.next(); // the `$`
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.getEnv(name);
      if (value === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return value ?? '';
    }
    this.next(); // the `{`
    const first = this.peek();
    if (first === EOF) throw new SubstitutionError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new SubstitutionError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    let chs = ch === EOF ? '' : ch;
    let nullIsUnset = false;
    switch (ch) {
      case '}': {
        const value = this.getEnv(name);
        if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
        return value ?? '';
      }
      case ':':
      case '+':
      case '-':
      case '?':
      case '#':
      case '%': {
        if (ch === ':') {
          nullIsUnset = true;
          ch = this.next();
          chs += ch === EOF ? '' : ch;
        }
        const trims = ch === '#' || ch === '%';
        if (nullIsUnset && trims) throw new SubstitutionError(`unsupported modifier (${chs}) in substitution`);
        let word: string;
        try {
          word = this.processStopOn('}', trims).result;
        } catch (err) {
          if (this.peek() === EOF) throw new SubstitutionError("syntax error: missing '}'");
          throw err;
        }
        const value = this.getEnv(name);
        const set = value !== undefined;
        if (this.opts.skipUnsetEnv && !set) return `\${${name}${chs}${word}}`;
        const v = value ?? '';
        switch (ch) {
          case '-':
            return !set || (nullIsUnset && v === '') ? word : v;
          case '+':
            return !set || (nullIsUnset && v === '') ? '' : word;
          case '?':
            if (!set) throw new SubstitutionError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
            if (nullIsUnset && v === '') throw new SubstitutionError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
            return v;
          case '#':
          case '%': {
            // `#`/`%` remove the shortest matching prefix/suffix, `##`/`%%` the longest.
            let greedy = false;
            if (word.length > 0 && word[0] === ch) {
              greedy = true;
              word = word.slice(1);
            }
            return ch === '%' ? trimSuffix(word, v, greedy) : trimPrefix(word, v, greedy);
          }
          default:
            throw new SubstitutionError(`unsupported modifier (${chs}) in substitution`);
        }
      }
      case '/': {
        const replaceAll = this.peek() === '/';
        if (replaceAll) this.next();
        let pattern: string;
        try {
          pattern = this.processStopOn('/', true).result;
        } catch (err) {
          if (this.peek() === EOF) throw new SubstitutionError("syntax error: missing '/' in ${}");
          throw err;
        }
        let replacement: string;
        try {
          replacement = this.processStopOn('}', true).result;
        } catch (err) {
          if (this.peek() === EOF) throw new SubstitutionError("syntax error: missing '}'");
          throw err;
        }
        const value = this.getEnv(name);
        if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}/${pattern}/${replacement}}`;
        const re = shellPatternToRegExp(pattern, true, false, replaceAll);
        const v = value ?? '';
        // A function replacement keeps `$&`-like sequences literal, as Go's ReplaceAllString does not (it expands
        // `$1`); Docker's replacement strings practically never contain `$` after substitution.
        return v.replace(re, () => replacement);
      }
      default:
        throw new SubstitutionError(`unsupported modifier (${chs}) in substitution`);
    }
  }

  private processName(): string {
    // A name is letters, digits and `_`; a leading digit takes only digits ($1); a special parameter is one char.
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek() as string;
      if (name.length === 0 && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek() as string)) name += this.next();
        return name;
      }
      if (name.length === 0 && '@*#?-$!0'.includes(ch)) {
        this.next();
        return ch;
      }
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    // White space between `<<` and the delimiter stays in the same word.
    let space = '';
    for (let p = this.peek(); p === '\t' || p === '\r' || p === ' '; p = this.peek()) space += this.next();
    return '<<' + space;
  }
}

/** A shell wildcard pattern (`*`, `?`, backslash escapes; no bracket expressions) as a RegExp. */
function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  const star = greedy ? '.*' : '.*?';
  for (let i = 0; i < chars.length; i++) {
    const tok = chars[i];
    if (tok === '*') {
      out += star;
      continue;
    }
    if (tok === '?') {
      out += '.';
      continue;
    }
    if (tok === '\\') {
      const nx = chars[i + 1];
      // `}` and `/` are escaped only to survive the `${}` syntax; the escape is not part of the pattern.
      if (nx === '}' || nx === '/') continue;
      if (nx !== '*' && nx !== '?' && nx !== '\\') {
        throw new SubstitutionError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${nx ?? ''}'`);
      }
      out += '\\' + nx;
      i++;
      continue;
    }
    out += tok.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** Shortest/longest suffix removal by reversing both the pattern (keeping escapes in front) and the value. */
function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const p = Array.from(pattern);
  const rev: string[] = new Array(p.length);
  const last = p.length - 1;
  for (let i = 0; i <= last; ) {
    if (p[i] === '\\' && i !== last) {
      rev[last - i - 1] = p[i];
      rev[last - i] = p[i + 1];
      i += 2;
    } else {
      rev[last - i] = p[i];
      i++;
    }
  }
  const reversed = Array.from(value).reverse().join('');
  return Array.from(trimPrefix(rev.join(''), reversed, greedy)).reverse().join('');
}

/** The shell lexer of one Dockerfile: its escape character and options. */
export class ShellLex {
  private readonly opts: Required<LexOptions>;

  constructor(options: LexOptions = {}) {
    this.opts = {
      escape: options.escape ?? '\\',
      rawQuotes: options.rawQuotes ?? false,
      rawEscapes: options.rawEscapes ?? false,
      skipUnsetEnv: options.skipUnsetEnv ?? false,
      skipProcessQuotes: options.skipProcessQuotes ?? false,
    };
  }

  /** Substitute variables and remove quotes, keeping the result as one word (moby's ProcessWord). */
  processWord(word: string, env: SubstitutionEnv): string {
    return this.processWordWithMatches(word, env).result;
  }

  processWordWithMatches(word: string, env: SubstitutionEnv): WordResult {
    const scan = new Scan(word, envLookup(env), this.opts);
    const { result } = wrap(word, () => scan.run());
    return { result, matched: scan.matched, unmatched: scan.unmatched };
  }

  /** Substitute, then split into words on unquoted white space (moby's ProcessWords; EXPOSE uses it). */
  processWords(word: string, env: SubstitutionEnv): string[] {
    const scan = new Scan(word, envLookup(env), this.opts);
    return wrap(word, () => scan.run()).words;
  }
}

function wrap<T>(word: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SubstitutionError) throw new SubstitutionError(`failed to process ${JSON.stringify(word)}: ${err.message}`);
    throw err;
  }
}

/** ProcessWord with the default options. */
export function processWord(word: string, env: SubstitutionEnv, escape: '\\' | '`' = '\\'): string {
  return new ShellLex({ escape }).processWord(word, env);
}

/** ProcessWords with the default options. */
export function processWords(word: string, env: SubstitutionEnv, escape: '\\' | '`' = '\\'): string[] {
  return new ShellLex({ escape }).processWords(word, env);
}

/**
 * An instruction with its words substituted, as Docker's classic builder does before dispatching it: ENV and LABEL
 * keys and values, ADD/COPY sources, destination, --chown/--chmod (and ADD's --checksum), WORKDIR, USER, VOLUME,
 * STOPSIGNAL, ARG names and defaults, EXPOSE (split into words), FROM's image and --platform (pass only the global
 * ARGs then). Quotes and escapes are removed from those words. RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK,
 * MAINTAINER and ONBUILD are returned unchanged (the shell sees them as written). ADD/COPY heredoc bodies whose
 * delimiter was not quoted get `$VAR` substitution with quotes left alone, as BuildKit does.
 */
export function expandInstruction<T extends Instruction>(ins: T, env: SubstitutionEnv, escape: '\\' | '`' = '\\'): T {
  const lex = new ShellLex({ escape });
  const w = (word: string) => lex.processWord(word, env);
  const flag = (flags: Record<string, string>, names: string[]) => {
    const out = { ...flags };
    for (const n of names) if (out[n] !== undefined) out[n] = w(out[n]);
    return out;
  };
  const i = ins as Instruction;
  let out: Instruction;
  switch (i.kind) {
    case 'ENV':
    case 'LABEL':
      out = { ...i, pairs: i.pairs.map(([k, v]) => [w(k), w(v)] as [string, string]) };
      break;
    case 'ADD':
    case 'COPY': {
      const raw = new ShellLex({ escape: '\\', skipProcessQuotes: true });
      out = {
        ...i,
        flags: flag(i.flags, i.kind === 'ADD' ? ['chown', 'chmod', 'checksum'] : ['chown', 'chmod']),
        sources: i.sources.map(w),
        dest: w(i.dest),
        heredocs: i.heredocs.map((h) => (h.expand ? { ...h, content: raw.processWord(h.content, env) } : h)),
      };
      break;
    }
    case 'WORKDIR':
      out = { ...i, path: w(i.path) };
      break;
    case 'USER':
      out = { ...i, user: w(i.user) };
      break;
    case 'VOLUME':
      out = { ...i, paths: i.paths.map(w) };
      break;
    case 'STOPSIGNAL':
      out = { ...i, signal: w(i.signal) };
      break;
    case 'ARG':
      out = {
        ...i,
        args: i.args.map((a) => (a.defaultValue === undefined ? { name: w(a.name) } : { name: w(a.name), defaultValue: w(a.defaultValue) })),
      };
      break;
    case 'EXPOSE':
      out = { ...i, ports: i.ports.flatMap((p) => lex.processWords(p, env)) };
      break;
    case 'FROM':
      out = { ...i, flags: flag(i.flags, ['platform']), image: w(i.image) };
      break;
    default:
      out = i;
  }
  return out as T;
}
