// The Dockerfile front end: text → typed instructions grouped in stages, with Docker's grammar (moby/buildkit's
// frontend/dockerfile parser and instructions packages): parser directives, comments, continuations, heredocs,
// exec/shell forms, flags, and the same errors. Words stay raw; expand.ts substitutes them at execution time.

import { parseGoDuration } from '../wire/durations';
import type { CommandForm, Dockerfile, Heredoc, Instruction, InstructionKind, Stage } from './instructions';
import { DockerfileError, INSTRUCTIONS, LineError, chompHeredoc, goQuote, mustParseHeredocWord, parseNodes, splitLines } from './dockerfile-lines';
import type { Escape, Node } from './dockerfile-lines';

export { DockerfileError, parseHeredocWord } from './dockerfile-lines';

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
