// Top-level `include:` of local files: each entry is loaded as a project of its own (its project directory,
// its env files) and its services, networks, volumes, secrets and configs are added to the including file's;
// a name both define differently is a conflict, and a file including itself (through any chain) a cycle.
import { dirname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { absolutePath, fail, isDict, type DocumentContext } from './canonical';
import { mergeDocuments } from './merge';
import { projectEnvironment } from './environment';
import { loadFile, type FileEnvironment } from './document';

type Dict = Record<string, unknown>;

const SECTIONS = [
  ['services', 'service'],
  ['networks', 'network'],
  ['volumes', 'volume'],
  ['secrets', 'secret'],
  ['configs', 'config'],
] as const;

const list = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

export function applyIncludes(doc: Dict, ctx: DocumentContext, env: FileEnvironment, stack: string[]): Dict {
  if (!Array.isArray(doc.include)) return doc;
  const out: Dict = { ...doc };
  delete out.include;
  doc.include.forEach((item, i) => {
    const here = `include[${i}]`;
    const spec: Dict = typeof item === 'string' ? { path: item } : isDict(item) ? item : {};
    const paths = list(spec.path).map((p) => absolutePath(ctx.baseDir, p));
    if (paths.length === 0) fail(ctx, here, 'include needs a path');
    const projectDir = typeof spec.project_directory === 'string' ? absolutePath(ctx.baseDir, spec.project_directory) : dirname(paths[0]);
    const envFiles = spec.env_file === undefined ? undefined : list(spec.env_file).map((p) => absolutePath(ctx.baseDir, p));
    const included = projectEnvironment(env.shell, projectDir, envFiles);
    const subEnv: FileEnvironment = { ...env, lookup: included.lookup, extendsCache: new Map() };
    let merged: Dict = {};
    for (const path of paths) {
      if (stack.includes(path)) fail(ctx, here, `include cycle: ${[...stack, path].join(' -> ')}`);
      for (const loaded of loadFile(path, subEnv, projectDir, stack)) merged = mergeDocuments(merged, loaded.doc);
    }
    for (const [section, singular] of SECTIONS) {
      if (!isDict(merged[section])) continue;
      const mine: Dict = isDict(out[section]) ? { ...(out[section] as Dict) } : {};
      for (const [name, def] of Object.entries(merged[section] as Dict)) {
        if (name in mine && !isDeepStrictEqual(mine[name], def)) {
          fail(ctx, here, `imported compose file ${paths.join(', ')} defines conflicting ${singular} ${name}`);
        }
        mine[name] = def;
      }
      out[section] = mine;
    }
  });
  return out;
}
