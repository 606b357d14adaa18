// Reads a compose file's YAML (1.2, anchors, merge keys `<<`) into plain values, keeping the line of each
// document path so later errors can point at it, and Compose's own tags `!reset` and `!override` as markers.
import { parseAllDocuments, LineCounter, isMap, isSeq, isScalar, isAlias, isPair, type Node, type Document } from 'yaml';
import { ComposeFileError } from './errors';

/** `!reset`: the key is removed from what earlier files (or the extended service) said. */
export const RESET: unique symbol = Symbol('!reset');
/** `!override`: the value replaces what earlier files said instead of being merged with it. */
export class Override {
  constructor(readonly value: unknown) {}
}

/** Document path (Compose's dotted form, `services.web.ports[0]`) → 1-based line. */
export type LineMap = Map<string, number>;

export interface ParsedDocument {
  value: Record<string, unknown>;
  lines: LineMap;
}

export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/** The line of a path, or of its nearest ancestor that has one. */
export function lineOf(lines: LineMap | undefined, path: string): number | undefined {
  if (!lines) return undefined;
  let p = path;
  for (;;) {
    const l = lines.get(p);
    if (l !== undefined) return l;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return lines.get('');
    p = p.slice(0, cut);
  }
}

/** Every document of a file (Compose reads `---`-separated documents as successive files). */
export function parseComposeYaml(text: string, file: string): ParsedDocument[] {
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: counter, merge: true, uniqueKeys: true });
  if (!Array.isArray(docs)) return []; // an empty stream
  const out: ParsedDocument[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const line = err.linePos?.[0].line;
      throw new ComposeFileError(file, `yaml: ${err.message.split('\n')[0]}`, undefined, line);
    }
    const lines: LineMap = new Map();
    const reader = new NodeReader(doc, lines, counter, file);
    const value = doc.contents === null ? {} : reader.read(doc.contents as Node, '', 0);
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value) || value instanceof Override) {
      throw new ComposeFileError(file, 'top-level object must be a mapping', undefined, 1);
    }
    out.push({ value: value as Record<string, unknown>, lines });
  }
  return out;
}

class NodeReader {
  constructor(private doc: Document, private lines: LineMap, private counter: LineCounter, private file: string) {}

  private line(node: { range?: [number, number, number] | null } | null | undefined): number | undefined {
    return node?.range ? this.counter.linePos(node.range[0]).line : undefined;
  }

  read(node: Node | null, path: string, depth: number): unknown {
    if (depth > 10_000) throw new ComposeFileError(this.file, 'yaml: document nested too deeply (alias loop?)', path);
    if (node === null) return null;
    if (!this.lines.has(path)) {
      const l = this.line(node);
      if (l !== undefined) this.lines.set(path, l);
    }
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target) throw new ComposeFileError(this.file, `yaml: unknown anchor ${node.source}`, path, this.line(node));
      return this.read(target as Node, path, depth + 1);
    }
    const tag = (node as { tag?: string }).tag;
    const value = this.readPlain(node, path, depth);
    if (tag === '!reset') return RESET;
    if (tag === '!override') return new Override(value);
    return value;
  }

  private readPlain(node: Node, path: string, depth: number): unknown {
    if (isScalar(node)) {
      const v = node.value;
      // go-yaml (Compose's parser) still reads YAML 1.1 octals: `mode: 0440` is 288, not 440.
      if (typeof v === 'number' && node.type === 'PLAIN' && /^[-+]?0[0-7]+$/.test(node.source ?? '')) return parseInt(node.source!, 8);
      return typeof v === 'bigint' ? String(v) : (v as unknown);
    }
    if (isSeq(node)) {
      return node.items.map((item, i) => this.read(item as Node, childPath(path, i), depth + 1));
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const merged: Record<string, unknown>[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as Node | null;
        if (isScalar(keyNode) && (typeof keyNode.value === 'symbol' || (keyNode.source === '<<' && keyNode.type === 'PLAIN'))) {
          merged.push(...this.mergeSources(pair.value as Node, path, depth));
          continue;
        }
        const key = isScalar(keyNode) ? String(keyNode.value ?? '') : String(this.read(keyNode, path, depth + 1));
        const p = childPath(path, key);
        const kl = this.line(keyNode);
        if (kl !== undefined) this.lines.set(p, kl);
        out[key] = this.read(pair.value as Node, p, depth + 1);
      }
      // Keys written in the mapping win over merged ones; earlier merge sources win over later ones (YAML merge).
      for (const src of merged) for (const [k, v] of Object.entries(src)) if (!(k in out)) out[k] = v;
      return out;
    }
    return null;
  }

  private mergeSources(node: Node, path: string, depth: number): Record<string, unknown>[] {
    const one = (n: Node): Record<string, unknown> => {
      const v = this.read(n, path, depth + 1);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        throw new ComposeFileError(this.file, 'yaml: map merge requires map or sequence of maps as the value', path, this.line(n));
      }
      return v as Record<string, unknown>;
    };
    if (isSeq(node)) return node.items.map((n) => one(n as Node));
    return [one(node)];
  }
}

/** Rewrites every string value of a document tree (never keys), through `!override` and past `!reset`. */
export function mapStrings(v: unknown, path: string, f: (s: string, path: string) => unknown): unknown {
  if (typeof v === 'string') return f(v, path);
  if (v === RESET || v === null || typeof v !== 'object') return v;
  if (v instanceof Override) return new Override(mapStrings(v.value, path, f));
  if (Array.isArray(v)) return v.map((x, i) => mapStrings(x, childPath(path, i), f));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = mapStrings(x, childPath(path, k), f);
  return out;
}

/** The value as plain data: `!override` unwrapped, `!reset` entries dropped (their meaning where nothing came before). */
export function unmark(v: unknown): unknown {
  if (v instanceof Override) return unmark(v.value);
  if (Array.isArray(v)) return v.filter((x) => x !== RESET).map(unmark);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== RESET) out[k] = unmark(x);
    return out;
  }
  return v;
}
