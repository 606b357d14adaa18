// `extends:` — a service starts from another service of the same file or of another file (whose relative
// paths were already resolved against that file's own directory), then its own keys are merged over it.
import { dirname } from 'node:path';
import { fail, isDict, type DocumentContext } from './canonical';
import { mergeService } from './merge';
import { loadFileForExtends, type FileEnvironment } from './extends-source';

type Dict = Record<string, unknown>;

interface Link {
  file: string;
  service: string;
}

export function applyExtends(doc: Dict, ctx: DocumentContext, env: FileEnvironment): Dict {
  if (!isDict(doc.services)) return doc;
  const services = doc.services;
  if (!Object.values(services).some((s) => isDict(s) && s.extends !== undefined)) return doc;
  const resolved: Dict = {};
  for (const name of Object.keys(services)) resolved[name] = resolveService(ctx, services, name, env, []);
  return { ...doc, services: resolved };
}

function resolveService(ctx: DocumentContext, services: Dict, name: string, env: FileEnvironment, chain: Link[]): unknown {
  const svc = services[name];
  if (!isDict(svc) || svc.extends === undefined) return svc;
  const here = `services.${name}.extends`;
  if (chain.some((l) => l.file === ctx.file && l.service === name)) {
    const cycle = [...chain, { file: ctx.file, service: name }].map((l) => `${l.service} (${l.file})`).join(' -> ');
    fail(ctx, here, `extends cycle: ${cycle}`);
  }
  const next = [...chain, { file: ctx.file, service: name }];
  const ext = svc.extends as Dict;
  const baseName = String(ext.service);
  let base: unknown;
  if (typeof ext.file === 'string' && ext.file !== ctx.file) {
    const other = loadFileForExtends(ext.file, env);
    if (!(baseName in other.services)) fail(ctx, here, `cannot extend service ${JSON.stringify(name)}: service ${JSON.stringify(baseName)} not found in ${ext.file}`);
    const otherCtx: DocumentContext = { file: ext.file, baseDir: dirname(ext.file), lines: other.lines, lenient: ctx.lenient };
    base = resolveService(otherCtx, other.services, baseName, env, next);
  } else {
    if (!(baseName in services)) fail(ctx, here, `cannot extend service ${JSON.stringify(name)}: service ${JSON.stringify(baseName)} not found`);
    base = resolveService(ctx, services, baseName, env, next);
  }
  const { extends: _done, ...own } = svc;
  const { extends: _baseDone, ...baseOwn } = isDict(base) ? base : {};
  return mergeService(baseOwn, own);
}
