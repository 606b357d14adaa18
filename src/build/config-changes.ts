// `docker commit/import --change`: Dockerfile instructions applied to a container config (moby's BuildFromConfig).
import * as path from 'node:path';
import type { ContainerConfig } from '../wire/docker';
import { InvalidParameterError } from '../errdefs';
import { parsePortSpec } from '../wire/ports';

const VALID_CHANGE_COMMANDS = new Set(['cmd', 'entrypoint', 'env', 'expose', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir']);

/** Splits Dockerfile words: quotes removed, backslash escapes, $VAR / ${VAR} expanded from `env`. */
function shellWords(text: string, env: Map<string, string>, expand = true): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const expandVar = (): string => {
    i++;
    if (text[i] === '{') {
      const end = text.indexOf('}', i);
      if (end === -1) throw new InvalidParameterError(`missing '}' in ${JSON.stringify(text)}`);
      const inner = text.slice(i + 1, end);
      i = end + 1;
      const m = /^(\w+)(?::([-+])(.*))?$/.exec(inner);
      if (!m) throw new InvalidParameterError(`bad substitution in ${JSON.stringify(text)}`);
      const v = env.get(m[1]!);
      if (m[2] === '-') return v ? v : m[3]!;
      if (m[2] === '+') return v ? m[3]! : '';
      return v ?? '';
    }
    const m = /^\w+/.exec(text.slice(i));
    if (!m) return '$';
    i += m[0].length;
    return env.get(m[0]) ?? '';
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      if (inWord) { words.push(cur); cur = ''; inWord = false; }
      i++;
    } else if (c === "'") {
      inWord = true;
      const end = text.indexOf("'", i + 1);
      if (end === -1) throw new InvalidParameterError(`unexpected end of statement while looking for matching single-quote`);
      cur += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length && '"\\$'.includes(text[i + 1]!)) { cur += text[i + 1]; i += 2; }
        else if (text[i] === '$' && expand) cur += expandVar();
        else { cur += text[i]; i++; }
      }
      if (i >= text.length) throw new InvalidParameterError(`unexpected end of statement while looking for matching double-quote`);
      i++;
    } else if (c === '\\' && i + 1 < text.length) {
      inWord = true;
      cur += text[i + 1];
      i += 2;
    } else if (c === '$' && expand) {
      inWord = true;
      cur += expandVar();
    } else {
      inWord = true;
      cur += c;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

function jsonArray(rest: string): string[] | null {
  if (!rest.startsWith('[')) return null;
  try {
    const v = JSON.parse(rest) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // shell form
  }
  return null;
}

function keyValues(command: string, rest: string, env: Map<string, string>): [string, string][] {
  const words = shellWords(rest, env);
  if (!words.length) throw new InvalidParameterError(`${command} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    // Legacy form: KEY value with spaces.
    const m = /^(\S+)\s+(.*)$/s.exec(rest.trim());
    if (!m) throw new InvalidParameterError(`${command} must have two arguments`);
    return [[shellWords(m[1]!, env)[0]!, shellWords(m[2]!, env).join(' ')]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new InvalidParameterError(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Applies Dockerfile instructions (docker commit/import --change) to a container config, as BuildFromConfig. */
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const c: ContainerConfig = JSON.parse(JSON.stringify(base)) as ContainerConfig;
  const lines: string[] = [];
  let pending = '';
  for (const raw of changes.join('\n').split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!pending && (/^\s*#/.test(line) || !line.trim())) continue;
    if (/\\\s*$/.test(line)) { pending += line.replace(/\\\s*$/, ''); continue; }
    lines.push(pending + line);
    pending = '';
  }
  if (pending.trim()) lines.push(pending);
  let cmdSet = false;
  const envMap = () => new Map((c.Env ?? []).map((e) => { const i = e.indexOf('='); return i === -1 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)]; }));
  const shell = () => (c.Shell?.length ? c.Shell : ['/bin/sh', '-c']);
  for (const line of lines) {
    const m = /^\s*(\S+)\s*(.*)$/s.exec(line)!;
    const command = m[1]!.toLowerCase();
    const rest = m[2]!.trim();
    if (!VALID_CHANGE_COMMANDS.has(command)) throw new InvalidParameterError(`${command} is not a valid change command`);
    switch (command) {
      case 'cmd': {
        c.Cmd = jsonArray(rest) ?? [...shell(), rest];
        cmdSet = true;
        break;
      }
      case 'entrypoint': {
        const arr = jsonArray(rest);
        c.Entrypoint = arr ?? (rest ? [...shell(), rest] : null);
        if (!cmdSet) c.Cmd = null;
        break;
      }
      case 'env': {
        for (const [k, v] of keyValues('ENV', rest, envMap())) {
          const env = (c.Env ?? []).filter((e) => e.split('=')[0] !== k);
          env.push(`${k}=${v}`);
          c.Env = env;
        }
        break;
      }
      case 'label': {
        c.Labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of keyValues('LABEL', rest, envMap())) c.Labels[k] = v;
        break;
      }
      case 'expose': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const m of shellWords(rest, envMap()).flatMap(parsePortSpec)) ports[m.key] = {};
        c.ExposedPorts = ports;
        break;
      }
      case 'onbuild': {
        const trigger = /^(\S+)/.exec(rest)?.[1]?.toUpperCase();
        if (!trigger) throw new InvalidParameterError('ONBUILD requires at least one argument');
        if (trigger === 'ONBUILD') throw new InvalidParameterError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (trigger === 'FROM' || trigger === 'MAINTAINER') throw new InvalidParameterError(`${trigger} isn't allowed as an ONBUILD trigger`);
        c.OnBuild = [...(c.OnBuild ?? []), rest];
        break;
      }
      case 'stopsignal':
        c.StopSignal = shellWords(rest, envMap())[0] ?? '';
        break;
      case 'user':
        c.User = shellWords(rest, envMap()).join(' ');
        break;
      case 'volume': {
        const vols = jsonArray(rest) ?? shellWords(rest, envMap());
        if (!vols.length) throw new InvalidParameterError('VOLUME requires at least one argument');
        c.Volumes = { ...(c.Volumes ?? {}) };
        for (const v of vols) {
          if (!v.trim()) throw new InvalidParameterError('VOLUME specified can not be an empty string');
          c.Volumes[v.trim()] = {};
        }
        break;
      }
      case 'workdir': {
        const dir = shellWords(rest, envMap()).join(' ');
        if (!dir) throw new InvalidParameterError('WORKDIR requires exactly one argument');
        c.WorkingDir = dir.startsWith('/') ? path.posix.normalize(dir) : path.posix.join('/', c.WorkingDir ?? '', dir);
        break;
      }
    }
  }
  return c;
}
